// The databases pg-mcp serves, each with its schema cache and SQL policy:
// what the tools and the query pipeline choose among.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "db/database.hpp"
#include "db/schema.hpp"
#include "sql/policy.hpp"

namespace pgmcp::pipeline {

struct DatabaseEntry {
  std::shared_ptr<db::Database> db;
  std::shared_ptr<db::SchemaCache> schema;
  std::shared_ptr<sql::SqlPolicy> policy;
};

class Databases {
 public:
  std::vector<DatabaseEntry> entries;
  // The database args["database"] names; omitted is fine when exactly one
  // exists. Throws core::CallerError listing the names otherwise.
  const DatabaseEntry &resolve(const json &args) const;
  const DatabaseEntry *find(const std::string &name) const;
  std::vector<std::string> names() const;
};

// "a, b, c".
std::string join(const std::vector<std::string> &items);

}  // namespace pgmcp::pipeline
