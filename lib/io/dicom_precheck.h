// A structural walk over a DICOM file before GDCM parses it.
//
// Debian's GDCM is built with assert() enabled and aborts the whole process on some damaged
// streams (a file cut inside an element header or value, an item running past its sequence);
// an embedded engine must refuse such files instead. The walk checks that every data element,
// sequence item and encapsulated fragment lies inside the file (and inside its enclosing
// item or sequence), that tags ascend within each data set, that explicit VRs are ones the
// standard defines, and that nesting stays under 64 levels. It reads no values except the transfer syntax; deflated data sets
// (1.2.840.10008.1.2.1.99) are checked up to the file meta group only, and flagged.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace vx {

struct DicomPrecheck {
  bool part10 = false;   // 128-byte preamble + "DICM": the file claims to be DICOM
  bool deflated = false; // Deflated Explicit VR Little Endian: not walked, to be refused
  std::string problem;   // empty = structurally sound
};

DicomPrecheck precheck_dicom(const uint8_t* data, size_t size);

// precheck_dicom on a file. False: not a DICOM file (unreadable, not a regular file, empty, or
// no preamble and not parseable): skip it. Throws Error(corrupt_file) for a damaged Part 10
// file, Error(unsupported) for a deflated one, Error(io_error) when it cannot be mapped.
bool precheck_dicom_file(const std::string& file);

}  // namespace vx
