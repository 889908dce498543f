#include "io/siemens_csa.h"

#include <cstdlib>
#include <cstring>

#include "io/dicom_tags.h"

namespace vx {
namespace {

bool u32(const uint8_t* p, size_t size, size_t at, uint32_t& v) {
  if (at > size || size - at < 4) return false;
  v = uint32_t(p[at]) | uint32_t(p[at + 1]) << 8 | uint32_t(p[at + 2]) << 16 | uint32_t(p[at + 3]) << 24;
  return true;
}

}  // namespace

std::vector<std::string> csa_values(const uint8_t* p, size_t size, const std::string& name) {
  size_t pos = 0;
  if (size >= 4 && std::memcmp(p, "SV10", 4) == 0) pos = 8;
  uint32_t n_tags = 0;
  if (!u32(p, size, pos, n_tags) || n_tags > 1000) return {};
  pos += 8;
  for (uint32_t t = 0; t < n_tags; ++t) {
    if (pos > size || size - pos < 84) return {};
    const char* tag_name = reinterpret_cast<const char*>(p + pos);
    const bool match = strnlen(tag_name, 64) < 64 && name == tag_name;
    uint32_t n_items = 0;
    if (!u32(p, size, pos + 76, n_items) || n_items > 1000) return {};
    pos += 84;
    std::vector<std::string> values;
    for (uint32_t i = 0; i < n_items; ++i) {
      uint32_t len = 0;
      if (!u32(p, size, pos + 4, len) || pos > size || size - pos < 16) return {};
      pos += 16;
      if (len > size - pos) return {};
      if (match && len > 0) {
        std::string v(reinterpret_cast<const char*>(p + pos), len);
        while (!v.empty() && (v.back() == '\0' || v.back() == ' ')) v.pop_back();
        values.push_back(v);
      }
      const size_t padded = (size_t(len) + 3) / 4 * 4;
      if (padded > size - pos) return {};
      pos += padded;
    }
    if (match) return values;
  }
  return {};
}

std::string csa_value(const uint8_t* p, size_t size, const std::string& name) {
  const std::vector<std::string> v = csa_values(p, size, name);
  return v.empty() ? "" : v[0];
}

std::vector<std::string> csa_image_values(const gdcm::DataSet& ds, const std::string& name) {
  if (tag_string(ds, 0x0029, 0x0010) != "SIEMENS CSA HEADER") return {};
  const gdcm::Tag csa(0x0029, 0x1010);
  if (!ds.FindDataElement(csa)) return {};
  const gdcm::ByteValue* bv = ds.GetDataElement(csa).GetByteValue();
  if (!bv) return {};
  return csa_values(reinterpret_cast<const uint8_t*>(bv->GetPointer()), bv->GetLength(), name);
}

int mosaic_images(const gdcm::DataSet& ds) {
  const std::vector<std::string> v = csa_image_values(ds, "NumberOfImagesInMosaic");
  if (!v.empty() && std::atoi(v[0].c_str()) > 0) return std::atoi(v[0].c_str());
  if (tag_string(ds, 0x0019, 0x0010) == "SIEMENS MR HEADER") {
    const gdcm::Tag t(0x0019, 0x100a);
    if (ds.FindDataElement(t))
      if (const gdcm::ByteValue* bv = ds.GetDataElement(t).GetByteValue())
        if (bv->GetLength() == 2) {
          const auto* b = reinterpret_cast<const uint8_t*>(bv->GetPointer());
          return b[0] | b[1] << 8;
        }
  }
  return 0;
}

}  // namespace vx
