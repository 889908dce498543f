// libFuzzer target: vx::decode_encapsulated (lib/io/dicom_codec.cpp, the entry to GDCM's
// JPEG / JPEG-LS codecs and to OpenJPEG for JPEG 2000, lib/io/dicom_j2k.cpp) on one fuzzed fragment, as a fuzzed encapsulated pixel
// data element would hand it over. The first 4 bytes choose the syntax, rows, columns and bit
// depth (small, so the fuzzer explores the stream, not the allocation limit); the rest is the
// fragment. Must decode or throw vx::Error: never crash, abort in a codec's assert(), leak or
// write past the rows x columns buffer.
// Seeds: small streams made by dcmtk / gdcmconv (tests/fuzz/make_codec_seeds.py).
#include <gdcmTrace.h>

#include <cstdlib>

#include "core/error.h"
#include "io/dicom_codec.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gdcm::Trace::WarningOff();
  gdcm::Trace::ErrorOff();
  gdcm::Trace::DebugOff();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4 || size > (size_t(1) << 20)) return 0;
  static const char* kSyntaxes[] = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                                    "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81",
                                    "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"};
  vx::EncapsulatedImage img;
  img.syntax = kSyntaxes[data[0] % 8];
  img.rows = 1 + data[1] % 64;
  img.cols = 1 + data[2] % 64;
  img.allocated = data[3] & 0x80 ? 16 : 8;
  img.stored = 2 + (data[3] & 0x0F) % (img.allocated - 1);
  img.high = img.stored - 1;
  img.representation = (data[3] >> 4) & 1;
  const std::vector<vx::Fragment> frags = {{data + 4, size - 4}};
  bool lossy = false;
  try {
    const std::vector<char> out = vx::decode_encapsulated(img, frags, "", lossy);
    if (out.size() != size_t(img.rows * img.cols * (img.allocated / 8))) std::abort();
  } catch (const vx::Error&) {
  }
  return 0;
}
