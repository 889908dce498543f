// What a DICOM folder may hold besides images (lib/io/dir_walk.h): a named pipe and a socket
// are skipped (the read of a folder holding them finishes within a second, with the same voxels
// as the clean folder); a series two folders down is found; a symbolic-link loop ends (each
// folder entered once, so no slice is read twice); a series deeper than kMaxDirDepth is not
// searched for. The series is the real 3-slice one in tests/data/mri.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "io/dicom.h"
#include "io/dir_walk.h"

using namespace vx;
namespace fs = std::filesystem;

namespace {

const std::string kSeries = std::string(VX_TEST_DATA_DIR) + "/mri/dicom-brain-t1-vsseg-3sl";

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/vx_dicom_walk_XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

void copy_series(const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(kSeries))
    if (e.path().extension() == ".dcm") fs::copy_file(e.path(), to / e.path().filename());
}

bool same_voxels(const Volume& a, const Volume& b) {
  if (a.data.shape() != b.data.shape()) return false;
  return std::memcmp(a.voxels(), b.voxels(), size_t(a.data.numel()) * sizeof(float)) == 0 && a.affine == b.affine;
}

}  // namespace

TEST_CASE("a FIFO and a socket in a DICOM folder are skipped, not opened") {
  TempDir t;
  copy_series(t.path);
  REQUIRE(::mkfifo((t.path / "pipe.dcm").c_str(), 0600) == 0);
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", (t.path / "sock").c_str());
  REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const auto t0 = std::chrono::steady_clock::now();
  const Volume v = read_dicom(t.path.string());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(sock);
  CHECK(s < 1.0);
  CHECK(same_voxels(v, read_dicom(kSeries)));
  CHECK(regular_files_under(t.path.string()).size() == 3);  // the pipe and the socket are not listed
  // The pipe given by name is refused at once as well.
  CHECK_THROWS_WITH_AS(read_dicom((t.path / "pipe.dcm").string()), doctest::Contains("neither a folder nor a regular file"), Error);
}

TEST_CASE("a series two folders down is found; a symlink loop ends; depth is bounded") {
  TempDir t;
  copy_series(t.path / "export" / "study1" / "series3");
  fs::create_directory_symlink(t.path / "export", t.path / "export" / "study1" / "loop");
  CHECK(same_voxels(read_dicom(t.path.string()), read_dicom(kSeries)));
  CHECK(regular_files_under(t.path.string()).size() == 3);

  TempDir deep;
  fs::path p = deep.path;
  for (int i = 0; i <= kMaxDirDepth; ++i) p /= "d" + std::to_string(i);
  copy_series(p);  // kMaxDirDepth + 1 levels down
  CHECK(regular_files_under(deep.path.string()).empty());
  CHECK_THROWS_WITH_AS(read_dicom(deep.path.string()), doctest::Contains("no readable DICOM image"), Error);
  CHECK(regular_files_under(p.parent_path().string()).size() == 3);
}
