// Node attributes: named integers, floats or strings (lists of numbers allowed).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vx {

struct Attr {
  enum class Kind { ints, floats, str };
  Kind kind = Kind::ints;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::string str;
};

class Attrs {
 public:
  void set_int(const std::string& k, int64_t v) { set_ints(k, {v}); }
  void set_ints(const std::string& k, std::vector<int64_t> v);
  void set_float(const std::string& k, double v) { set_floats(k, {v}); }
  void set_floats(const std::string& k, std::vector<double> v);
  void set_str(const std::string& k, std::string v);

  bool has(const std::string& k) const { return map_.count(k) != 0; }
  // Getters throw Error(invalid_argument) naming the attribute when the kind is wrong.
  int64_t get_int(const std::string& k, int64_t def) const;
  std::vector<int64_t> get_ints(const std::string& k, std::vector<int64_t> def = {}) const;
  double get_float(const std::string& k, double def) const;
  std::vector<double> get_floats(const std::string& k, std::vector<double> def = {}) const;
  std::string get_str(const std::string& k, const std::string& def) const;

  const std::map<std::string, Attr>& all() const { return map_; }

 private:
  std::map<std::string, Attr> map_;
};

}  // namespace vx
