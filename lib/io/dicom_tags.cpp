#include "io/dicom_tags.h"

#include <gdcmItem.h>
#include <gdcmSequenceOfItems.h>

#include <cstdlib>
#include <sstream>

namespace vx {

std::string tag_string(const gdcm::DataSet& ds, uint16_t g, uint16_t e) {
  const gdcm::Tag t(g, e);
  if (!ds.FindDataElement(t)) return "";
  const gdcm::DataElement& de = ds.GetDataElement(t);
  const gdcm::ByteValue* bv = de.GetByteValue();
  if (!bv || de.IsEmpty()) return "";
  std::string s(bv->GetPointer(), bv->GetLength());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  size_t b = s.find_first_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b);
}

std::vector<double> tag_doubles(const gdcm::DataSet& ds, uint16_t g, uint16_t e) {
  std::vector<double> v;
  std::stringstream ss(tag_string(ds, g, e));
  std::string item;
  while (std::getline(ss, item, '\\')) {
    char* end = nullptr;
    double d = std::strtod(item.c_str(), &end);
    if (end == item.c_str()) return {};
    v.push_back(d);
  }
  return v;
}

const gdcm::DataSet* seq_item(const gdcm::DataSet& ds, uint16_t g, uint16_t e, size_t index) {
  const gdcm::Tag t(g, e);
  if (!ds.FindDataElement(t)) return nullptr;
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = ds.GetDataElement(t).GetValueAsSQ();
  if (!sq || sq->GetNumberOfItems() < index) return nullptr;
  return &sq->GetItem(index).GetNestedDataSet();
}

std::vector<double> group_value(const gdcm::DataSet& top, const gdcm::DataSet* per_frame, uint16_t seq_g,
                                uint16_t seq_e, uint16_t g, uint16_t e) {
  for (const gdcm::DataSet* grp : {per_frame, seq_item(top, 0x5200, 0x9229)}) {
    if (!grp) continue;
    if (const gdcm::DataSet* s = seq_item(*grp, seq_g, seq_e)) {
      std::vector<double> v = tag_doubles(*s, g, e);
      if (!v.empty()) return v;
    }
  }
  return tag_doubles(top, g, e);
}

}  // namespace vx
