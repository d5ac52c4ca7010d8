// The database tools (execute_sql, explain_query, describe_table,
// search_objects, list_databases) and the schema resources.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "db/schema.hpp"
#include "mcp/registry.hpp"
#include "sql/policy.hpp"

namespace pgmcp::tools {

struct DatabaseEntry {
  std::shared_ptr<db::Database> db;
  std::shared_ptr<db::SchemaCache> schema;
  std::shared_ptr<sql::SqlPolicy> policy;
};

class Databases {
 public:
  std::vector<DatabaseEntry> entries;
  // The database an argument names; omitted is fine when exactly one exists.
  // Throws mcp::ToolError listing the names otherwise.
  const DatabaseEntry &resolve(const mcp::json &args) const;
  const DatabaseEntry *find(const std::string &name) const;
  std::vector<std::string> names() const;
};

void add_database_tools(mcp::Registry &registry, std::shared_ptr<Databases> databases);
std::shared_ptr<mcp::ResourceProvider> database_resources(std::shared_ptr<Databases> databases);

// describe_table's JSON for a relation, shared with the table resource.
mcp::json describe_relation(const db::Catalog &catalog, const db::Relation &r,
                            const std::string &database);

}  // namespace pgmcp::tools
