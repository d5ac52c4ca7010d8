// Builds schema-cache catalogs by hand for the tests, fuzzers and benchmarks
// of the SQL policy, which need relations without a database.
#pragma once

#include <initializer_list>
#include <string>

#include "db/schema.hpp"

namespace pgmcp::testing {

// A relation with text columns numbered from 1.
inline db::Relation relation(const std::string &schema, const std::string &name,
                             std::initializer_list<const char *> columns,
                             const std::string &kind = "table",
                             const std::string &definition = "") {
  db::Relation r;
  r.schema = schema;
  r.name = name;
  r.kind = kind;
  r.definition = definition;
  int position = 0;
  for (const char *c : columns) r.columns.push_back({c, "text", "", "", ++position, false});
  return r;
}

}  // namespace pgmcp::testing
