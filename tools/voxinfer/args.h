// A small command-line parser: `--name value`, `--name=value`, repeated options and flags,
// driven by a command's usage (CommandSpec), so that what a command accepts and what its
// --help says come from one table beside its code.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace vx::cli {

// One option: `--name VALUE` (value = the argument's name in the usage) or a flag (value = nullptr).
struct OptionSpec {
  const char* name;
  const char* value;
  const char* help;  // what it does and its default
};

// A command's usage. Its parser accepts exactly `options` (plus --help / -h).
struct CommandSpec {
  const char* name;
  const char* synopsis;  // after "voxinfer NAME", e.g. "--model M.vxm --input SCAN --out DIR [options]"
  const char* summary;   // what the command does, one or more lines
  std::vector<OptionSpec> options;
  const char* example;   // a full command line
};

// The usage text of a command: synopsis, summary, every option with its help, an example.
std::string usage(const CommandSpec& spec);

// Thrown after --help printed the usage on stdout: the command ends with exit code 0.
struct HelpShown {};

// A command line that does not fit the usage (unknown option, missing value): main prints the
// message and the usage on stderr and exits 2.
struct UsageError : Error {
  UsageError(const std::string& message, std::string usage_text)
      : Error(Status::invalid_argument, message), usage(std::move(usage_text)) {}
  std::string usage;
};

class Args {
 public:
  // `flags` take no value; every other --option takes one. Throws Error(invalid_argument)
  // for an unknown option or a missing value, naming it.
  Args(int argc, char** argv, int first, const std::set<std::string>& options, const std::set<std::string>& flags);
  // The options of `spec`; --help or -h prints usage(spec) on stdout and throws HelpShown;
  // an unknown option or a missing value throws UsageError.
  Args(int argc, char** argv, int first, const CommandSpec& spec);

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
