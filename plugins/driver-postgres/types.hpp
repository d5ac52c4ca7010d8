// Type names as people write them (format_type), per database: the server
// answers for the types a result uses, once, and every connection of the
// database reads the answer.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgmcp::postgres {

// A column's type: its OID and modifier (PQftype, PQfmod).
using TypeKey = std::pair<Oid, int>;

class TypeNames {
 public:
  // The server's name of the type, if it has been asked before.
  std::optional<std::string> find(TypeKey key) const;
  void add(TypeKey key, std::string name);
  // Of keys, those not known yet, each once.
  std::vector<TypeKey> unknown(const std::vector<TypeKey> &keys) const;

  // A name for a key nobody has asked the server about: format_type's name
  // of the common built-in types, without their modifier, "" for others.
  static std::string builtin(Oid oid);

  // Asks the server (format_type) for the names of keys, in one statement
  // whose parameters are the two arrays this returns.
  static const char *lookup_sql();
  static std::pair<std::string, std::string> lookup_params(const std::vector<TypeKey> &keys);

 private:
  static constexpr std::size_t kMaxEntries = 20000;  // then start over
  mutable std::mutex mutex_;
  std::map<TypeKey, std::string> names_;
};

}  // namespace pgmcp::postgres
