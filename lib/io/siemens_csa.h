// Siemens CSA headers (private OB elements (0029,1010) image and (0029,1020) series, creator
// "SIEMENS CSA HEADER"): the "SV10" (CSA2) and the older unmarked (CSA1) layouts, read with every
// offset and count checked against the element's length: a damaged header gives "absent",
// never a read out of bounds.
//   CSA2: "SV10" 04 03 02 01, uint32 n_tags, uint32 77; CSA1: uint32 n_tags, uint32 unused;
//   per tag: name[64] (NUL-terminated), int32 vm, vr[4], int32 syngodt, int32 n_items, int32 77/205;
//   per item: int32 x[4] (x[1] = value length), then the value, padded to 4 bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <gdcmDataSet.h>

namespace vx {

// The first item of tag `name` as text (trailing NULs and spaces removed); "" when absent.
std::string csa_value(const uint8_t* data, size_t size, const std::string& name);
// Every non-empty item of tag `name`; empty when absent.
std::vector<std::string> csa_values(const uint8_t* data, size_t size, const std::string& name);
// csa_values on the CSA image header (0029,1010) of a data set (creator "SIEMENS CSA HEADER").
std::vector<std::string> csa_image_values(const gdcm::DataSet& ds, const std::string& name);

// NumberOfImagesInMosaic of a Siemens image: from the CSA image header, else from the private
// element (0019,100A) of "SIEMENS MR HEADER"; 0 when neither says.
int mosaic_images(const gdcm::DataSet& ds);

}  // namespace vx
