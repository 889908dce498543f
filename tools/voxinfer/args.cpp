#include "args.h"

#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace vx::cli {

std::string usage(const CommandSpec& spec) {
  std::string u = std::string("usage: voxinfer ") + spec.name + " " + spec.synopsis + "\n\n" + spec.summary + "\n";
  if (!spec.options.empty()) u += "\noptions:\n";
  for (const auto& o : spec.options) {
    std::string left = std::string("  --") + o.name + (o.value ? std::string(" ") + o.value : "");
    if (left.size() < 24) left.resize(24, ' ');
    else left += "\n" + std::string(24, ' ');
    u += left + o.help + "\n";
  }
  u += "  --help, -h            print this help and exit\n";
  u += std::string("\nexample:\n  ") + spec.example + "\n";
  return u;
}

static std::set<std::string> names_of(const CommandSpec& spec, bool flags) {
  std::set<std::string> out;
  for (const auto& o : spec.options)
    if ((o.value == nullptr) == flags) out.insert(o.name);
  return out;
}

static bool asks_help(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") return false;
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

Args::Args(int argc, char** argv, int first, const CommandSpec& spec) {
  if (asks_help(argc, argv, first)) {
    std::fputs(usage(spec).c_str(), stdout);
    throw HelpShown{};
  }
  try {
    *this = Args(argc, argv, first, names_of(spec, false), names_of(spec, true));
  } catch (const Error& e) {
    throw UsageError(e.what(), usage(spec));
  }
}

Args::Args(int argc, char** argv, int first, const std::set<std::string>& options, const std::set<std::string>& flags) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flags.count(name)) {
      if (inline_value) fail(Status::invalid_argument, "option --" + name + " takes no value");
      flags_.insert(name);
    } else if (options.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argc) fail(Status::invalid_argument, "option --" + name + " needs a value");
        value = argv[++i];
      }
      values_[name].push_back(value);
    } else {
      fail(Status::invalid_argument, "unknown option --" + name);
    }
  }
}

std::string Args::get(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  return it == values_.end() ? def : it->second.back();
}

std::string Args::need(const std::string& name) const {
  if (!has(name)) fail(Status::invalid_argument, "option --" + name + " is required");
  return get(name);
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

static int parse_int(const std::string& name, const std::string& s) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < -1000000000L || v > 1000000000L)
    fail(Status::invalid_argument, "option --" + name + " needs an integer, got '" + s + "'");
  return static_cast<int>(v);
}

int Args::get_int(const std::string& name, int def) const { return has(name) ? parse_int(name, get(name)) : def; }

std::vector<int> Args::get_int_list(const std::string& name) const {
  std::vector<int> out;
  std::string s = get(name);
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(parse_int(name, s.substr(start, comma - start)));
    start = comma + 1;
  }
  return out;
}

}  // namespace vx::cli
