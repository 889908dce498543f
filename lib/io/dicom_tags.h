// Reading attribute values from a GDCM data set: strings trimmed, DS/IS lists as doubles,
// sequence items, and enhanced multi-frame functional-group attributes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <gdcmDataSet.h>

namespace vx {

// The value of (g, e) without trailing spaces/NULs and leading spaces; "" when absent or empty.
std::string tag_string(const gdcm::DataSet& ds, uint16_t g, uint16_t e);
// A backslash-separated numeric value; empty when absent or any item is not a number.
std::vector<double> tag_doubles(const gdcm::DataSet& ds, uint16_t g, uint16_t e);
// The nested data set of item `index` (1-based) of sequence (g, e), or null.
const gdcm::DataSet* seq_item(const gdcm::DataSet& ds, uint16_t g, uint16_t e, size_t index = 1);
// A functional-group attribute: per-frame first, then shared, then top level.
std::vector<double> group_value(const gdcm::DataSet& top, const gdcm::DataSet* per_frame, uint16_t seq_g,
                                uint16_t seq_e, uint16_t g, uint16_t e);

}  // namespace vx
