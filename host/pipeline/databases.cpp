#include "pipeline/databases.hpp"

#include "core/context.hpp"

namespace pgmcp::pipeline {

const DatabaseEntry *Databases::find(const std::string &name) const {
  for (const auto &e : entries)
    if (e.db->name() == name) return &e;
  return nullptr;
}

std::vector<std::string> Databases::names() const {
  std::vector<std::string> out;
  for (const auto &e : entries) out.push_back(e.db->name());
  return out;
}

std::string join(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

const DatabaseEntry &Databases::resolve(const json &args) const {
  if (entries.empty())
    throw core::CallerError("no database is configured; add a [database.NAME] section");
  auto it = args.find("database");
  if (it == args.end() || it->is_null()) {
    if (entries.size() == 1) return entries.front();
    throw core::CallerError("several databases are configured; name one with \"database\": " +
                            join(names()));
  }
  const std::string name = it->get<std::string>();
  if (const DatabaseEntry *e = find(name)) return *e;
  throw core::CallerError("unknown database '" + name + "'; configured: " + join(names()));
}

}  // namespace pgmcp::pipeline
