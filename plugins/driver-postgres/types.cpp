#include "types.hpp"

#include <algorithm>

namespace pgmcp::postgres {

std::optional<std::string> TypeNames::find(TypeKey key) const {
  std::lock_guard lock(mutex_);
  auto it = names_.find(key);
  if (it == names_.end()) return std::nullopt;
  return it->second;
}

void TypeNames::add(TypeKey key, std::string name) {
  std::lock_guard lock(mutex_);
  if (names_.size() >= kMaxEntries) names_.clear();
  names_[key] = std::move(name);
}

std::vector<TypeKey> TypeNames::unknown(const std::vector<TypeKey> &keys) const {
  std::vector<TypeKey> out;
  std::lock_guard lock(mutex_);
  for (const TypeKey &k : keys)
    if (names_.count(k) == 0 && std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  return out;
}

const char *TypeNames::lookup_sql() {
  return "SELECT u.o, u.m, pg_catalog.format_type(u.o, u.m) FROM ROWS FROM "
         "(pg_catalog.unnest($1::pg_catalog.oid[]), pg_catalog.unnest($2::pg_catalog.int4[])) "
         "AS u(o, m)";
}

std::pair<std::string, std::string> TypeNames::lookup_params(const std::vector<TypeKey> &keys) {
  std::string oids = "{", mods = "{";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) {
      oids += ',';
      mods += ',';
    }
    oids += std::to_string(keys[i].first);
    mods += std::to_string(keys[i].second);
  }
  return {oids + "}", mods + "}"};
}

std::string TypeNames::builtin(Oid oid) {
  switch (oid) {
    case 16:
      return "boolean";
    case 17:
      return "bytea";
    case 18:
      return "\"char\"";
    case 19:
      return "name";
    case 20:
      return "bigint";
    case 21:
      return "smallint";
    case 23:
      return "integer";
    case 25:
      return "text";
    case 26:
      return "oid";
    case 114:
      return "json";
    case 199:
      return "json[]";
    case 700:
      return "real";
    case 701:
      return "double precision";
    case 1000:
      return "boolean[]";
    case 1005:
      return "smallint[]";
    case 1007:
      return "integer[]";
    case 1009:
      return "text[]";
    case 1015:
      return "character varying[]";
    case 1016:
      return "bigint[]";
    case 1021:
      return "real[]";
    case 1022:
      return "double precision[]";
    case 1042:
      return "character";
    case 1043:
      return "character varying";
    case 1082:
      return "date";
    case 1083:
      return "time without time zone";
    case 1114:
      return "timestamp without time zone";
    case 1184:
      return "timestamp with time zone";
    case 1186:
      return "interval";
    case 1231:
      return "numeric[]";
    case 1700:
      return "numeric";
    case 2950:
      return "uuid";
    case 3802:
      return "jsonb";
    case 3807:
      return "jsonb[]";
    default:
      return "";
  }
}

}  // namespace pgmcp::postgres
