// DICOMDIR: the directory file of a media export (PS3.10 section 8, PS3.3 F.3). Its records
// (PATIENT > STUDY > SERIES > IMAGE, ...) name every file of the export by ReferencedFileID, a
// list of folder/file components written on the medium in upper case (ISO 9660 names); the
// file system may hold them in another case, so each component is matched case-insensitively.
//
// The parser is our own (GDCM asserts on damaged files, io/dicom_precheck.h) and bounded:
// the file at most kMaxDicomdirBytes and at most kMaxDicomdirRecords records (more is
// Error(limit_exceeded)); string values at most 1 KiB, a ReferencedFileID at most 16 components,
// nesting at most 16 levels (more, or an element running past its container, is
// Error(corrupt_file) naming the file). A sequence or item whose length runs past the end of the
// file is read to the end of the file, which must then fall on an element boundary, and every
// record offset must land on a record (else the file was cut short: corrupt_file).
// Explicit and implicit VR little endian and explicit VR big endian are read (writers use all
// three although the standard asks for the first). The hierarchy is followed by the records'
// offsets (0004,1200 / 1400 / 1420), a loop in them refused; a DICOMDIR without a usable root
// offset is read in sequence order instead. Inactive records (RecordInUseFlag 0) are left out
// with what is below them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vx {

constexpr size_t kMaxDicomdirBytes = size_t(256) << 20;
constexpr size_t kMaxDicomdirRecords = 200000;

struct DicomdirRecord {
  std::string type;                   // DirectoryRecordType: "PATIENT", "STUDY", "SERIES", "IMAGE", ...
  std::vector<std::string> file_id;   // ReferencedFileID components; empty when the record names no file
  std::string sop_instance_uid;       // ReferencedSOPInstanceUIDInFile
  std::string patient_id;             // PATIENT: PatientID
  std::string study_uid;              // STUDY: StudyInstanceUID
  std::string series_uid, series_number, modality;  // SERIES
  int parent = -1;                    // index of the record one level up; -1 at the root
};

struct Dicomdir {
  std::vector<DicomdirRecord> records;  // in hierarchy order: each record before the ones below it
};

// Throws Error(corrupt_file) naming `name` when the bytes are not a sound DICOMDIR.
Dicomdir parse_dicomdir(const uint8_t* data, size_t size, const std::string& name);
Dicomdir read_dicomdir(const std::string& path);

// True for a regular file named DICOMDIR (any case).
bool is_dicomdir_file(const std::string& path);
// The DICOMDIR directly in `dir` (any case), or "".
std::string find_dicomdir(const std::string& dir);

// The file that `file_id` names under `root`, each component matched exactly, else
// case-insensitively (an ISO 9660 ";1" version or a trailing '.' on the disk's name ignored);
// "" when it is not there. Throws Error(corrupt_file) for a component that would leave `root`
// ("..", ".", empty: an absolute path, or one holding '/').
std::string resolve_file_id(const std::string& root, const std::vector<std::string>& file_id);

// Every file the DICOMDIR at `path` names, resolved under its folder, in record order, each once.
// Throws Error(io_error) naming the missing ones (the first 10, and how many) when any is missing,
// Error(corrupt_file) for a record pointing outside the folder, and what read_dicomdir throws.
std::vector<std::string> dicomdir_files(const std::string& path);

}  // namespace vx
