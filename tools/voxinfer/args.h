// A small command-line parser: `--name value`, `--name=value`, repeated options and flags.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

namespace vx::cli {

class Args {
 public:
  // `flags` take no value; every other --option takes one. Throws Error(invalid_argument)
  // for an unknown option or a missing value, naming it.
  Args(int argc, char** argv, int first, const std::set<std::string>& options, const std::set<std::string>& flags);

  bool flag(const std::string& name) const { return flags_.count(name) != 0; }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string get(const std::string& name, const std::string& def = "") const;
  std::string need(const std::string& name) const;  // throws when absent
  std::vector<std::string> all(const std::string& name) const;
  int get_int(const std::string& name, int def) const;
  std::vector<int> get_int_list(const std::string& name) const;  // "50,50,50"
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

}  // namespace vx::cli
