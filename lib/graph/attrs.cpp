#include "graph/attrs.h"

#include "core/error.h"

namespace vx {

void Attrs::set_ints(const std::string& k, std::vector<int64_t> v) {
  Attr a;
  a.kind = Attr::Kind::ints;
  a.ints = std::move(v);
  map_[k] = std::move(a);
}

void Attrs::set_floats(const std::string& k, std::vector<double> v) {
  Attr a;
  a.kind = Attr::Kind::floats;
  a.floats = std::move(v);
  map_[k] = std::move(a);
}

void Attrs::set_str(const std::string& k, std::string v) {
  Attr a;
  a.kind = Attr::Kind::str;
  a.str = std::move(v);
  map_[k] = std::move(a);
}

static const Attr* find_kind(const std::map<std::string, Attr>& m, const std::string& k, Attr::Kind kind,
                             const char* want) {
  auto it = m.find(k);
  if (it == m.end()) return nullptr;
  if (it->second.kind != kind) fail(Status::invalid_argument, "attribute '" + k + "' must be " + want);
  return &it->second;
}

int64_t Attrs::get_int(const std::string& k, int64_t def) const {
  const Attr* a = find_kind(map_, k, Attr::Kind::ints, "an integer");
  if (!a) return def;
  if (a->ints.size() != 1) fail(Status::invalid_argument, "attribute '" + k + "' must be a single integer");
  return a->ints[0];
}

std::vector<int64_t> Attrs::get_ints(const std::string& k, std::vector<int64_t> def) const {
  const Attr* a = find_kind(map_, k, Attr::Kind::ints, "a list of integers");
  return a ? a->ints : def;
}

double Attrs::get_float(const std::string& k, double def) const {
  auto it = map_.find(k);
  if (it == map_.end()) return def;
  if (it->second.kind == Attr::Kind::ints && it->second.ints.size() == 1) return double(it->second.ints[0]);
  const Attr* a = find_kind(map_, k, Attr::Kind::floats, "a number");
  if (a->floats.size() != 1) fail(Status::invalid_argument, "attribute '" + k + "' must be a single number");
  return a->floats[0];
}

std::vector<double> Attrs::get_floats(const std::string& k, std::vector<double> def) const {
  const Attr* a = find_kind(map_, k, Attr::Kind::floats, "a list of numbers");
  return a ? a->floats : def;
}

std::string Attrs::get_str(const std::string& k, const std::string& def) const {
  const Attr* a = find_kind(map_, k, Attr::Kind::str, "a string");
  return a ? a->str : def;
}

}  // namespace vx
