// libFuzzer target: the Siemens CSA header parser (lib/io/siemens_csa.cpp) on arbitrary bytes:
// every offset and count it reads must stay inside the element; it never crashes or reads
// out of bounds, whatever tag is asked for. Seeds: CSA headers of tests/data's Siemens-style
// fixtures (tests/fuzz/corpus/siemens_csa, cut from the dicom_read seeds).
#include <cstdlib>

#include "io/siemens_csa.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (size_t(1) << 20)) return 0;
  for (const char* name : {"NumberOfImagesInMosaic", "SliceNormalVector", "MosaicRefAcqTimes", ""}) {
    const std::string first = vx::csa_value(data, size, name);
    const std::vector<std::string> all = vx::csa_values(data, size, name);
    if (!first.empty() && all.empty()) std::abort();  // the two readers disagree
  }
  return 0;
}
