// The files of a folder tree that a DICOM reader may open: regular files only (named pipes,
// sockets and devices are skipped, never opened: opening a FIFO blocks until a writer comes),
// found recursively with stated bounds:
//  - depth: at most kMaxDirDepth (8) folder levels below the root;
//  - symbolic links are followed (exports often link), but each folder is entered once,
//    by its device and inode, so a link loop ends;
//  - at most kMaxDirFiles (100000) files; more gives Error(limit_exceeded).
// Names starting with '.' are skipped (.DS_Store, editor and sync files). The result is sorted.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace vx {

constexpr int kMaxDirDepth = 8;
constexpr size_t kMaxDirFiles = 100000;

std::vector<std::string> regular_files_under(const std::string& dir);

// True for a regular file (after links); false for pipes, sockets, devices, folders, missing.
bool is_regular_file(const std::string& path);

}  // namespace vx
