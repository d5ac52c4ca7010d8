// What the SQL policy makes of one catalog: the relations, columns,
// functions and views it refuses and why, computed once per catalog load.
// The policy's deny and allow data; the judge (judge.cpp) walks a statement
// against it. Internal to sql/.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "sql/policy.hpp"

namespace pgmcp::sql {

struct Refusal {
  std::string rule, object, message;
  bool unknown = false;
};

inline std::string join_name(const std::string &schema, const std::string &name) {
  return schema.empty() ? name : schema + "." + name;
}

// What one policy makes of one catalog, computed once per catalog load.
struct SqlPolicy::Memo {
  // Relations refused whole, with the message; columns refused, by attnum.
  std::unordered_map<uint32_t, Refusal> relations;
  std::unordered_map<uint32_t, std::unordered_map<long long, Refusal>> columns;
  // Functions refused, with the message; lifted deny-list functions.
  std::unordered_map<uint32_t, Refusal> functions;
  std::unordered_set<uint32_t> lifted;
  std::unordered_set<uint32_t> trusted_views;           // bodies judged by column, not walked
  std::unordered_map<uint32_t, Refusal> tainted_views;  // views over refused data
  std::unordered_set<uint32_t> setting_readers;         // current_setting: judged by argument

  // Why reading the relation, or its column attnum (0: any column), is
  // refused; nullptr when it is not.
  const Refusal *refused_read(uint32_t oid, long long attnum) const;
};

}  // namespace pgmcp::sql
