// All-or-nothing output: files are produced in a private folder inside the output folder
// and moved into place by commit(); if commit() is never reached (error, cancellation),
// the destructor removes everything, so no partial result is left behind.
#pragma once
#include <string>
#include <vector>

namespace vx::pipeline {

class Staging {
 public:
  explicit Staging(const std::string& out_dir);  // creates out_dir if needed
  ~Staging();
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;

  // Where to write the output file `name` now; it reaches out_dir/name at commit().
  std::string path(const std::string& name);
  // Writes a text file (e.g. a JSON report) into the staging folder.
  void write_text(const std::string& name, const std::string& text);
  void commit();
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::string out_, dir_;
  std::vector<std::string> names_;
};

}  // namespace vx::pipeline
