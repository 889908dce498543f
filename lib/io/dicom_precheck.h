// A structural walk over a DICOM file before GDCM parses it.
//
// Debian's GDCM is built with assert() enabled and aborts the whole process on some damaged
// streams (a file cut inside an element header or value, an item running past its sequence);
// an embedded engine must refuse such files instead. The walk checks that every data element,
// sequence item and encapsulated fragment lies inside the file (and inside its enclosing
// item or sequence), that tags ascend within each data set, that explicit VRs are ones the
// standard defines, and that nesting stays under 64 levels. It reads no values except the transfer syntax. A deflated data set
// (1.2.840.10008.1.2.1.99) is inflated (raw deflate, within max_inflated_data_set bytes, the stream ending cleanly with at
// most one padding byte after it) and its inflated bytes walked as explicit VR little endian.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace vx {

struct DicomPrecheck {
  bool part10 = false;   // 128-byte preamble + "DICM": the file claims to be DICOM
  bool deflated = false; // Deflated Explicit VR Little Endian: its inflated data set was walked
  std::string problem;   // empty = structurally sound
};

DicomPrecheck precheck_dicom(const uint8_t* data, size_t size);

// The most a deflated data set of `deflated_bytes` may inflate to: 256 times its size, at least
// 64 MiB (a mostly black slice deflates ~50-fold), at most 1 GiB.
size_t max_inflated_data_set(size_t deflated_bytes);

// precheck_dicom on a file. False: not a DICOM file (unreadable, not a regular file, empty, or
// no preamble and not parseable): skip it. Throws Error(corrupt_file) for a damaged Part 10
// file (a deflated one that is damaged or inflates past the limit included), Error(io_error) when it cannot be mapped.
bool precheck_dicom_file(const std::string& file);

}  // namespace vx
