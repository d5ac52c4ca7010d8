// What the database tools share: the `database` argument, the cached
// catalog and the policy-checked run as tool errors, name matching, and the
// JSON of a relation.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "db/schema.hpp"
#include "mcp/registry.hpp"
#include "pipeline/databases.hpp"

namespace pgmcp::tools {

using mcp::RequestContext;
using mcp::ToolError;
using pipeline::DatabaseEntry;
using pipeline::Databases;
using pipeline::join;

// A tool with its name, title and description; the rest is filled by its file.
mcp::Tool named(std::string name, std::string title, std::string description);

// The input schema of the optional `database` argument.
extern const json kDatabaseArg;

// The cached catalog for a tool; a database error becomes the tool's error.
std::shared_ptr<const db::Catalog> catalog_for(const DatabaseEntry &e);

// Checks sql with the database's policy and runs it; a refusal ("blocked
// column users.password (rule blocked_columns)"), a catalog that cannot be
// loaded or a database error becomes the tool's error.
db::QueryResult checked_query(const DatabaseEntry &e, const std::string &sql,
                              const std::vector<std::optional<std::string>> &params,
                              db::QueryLimits limits, RequestContext &ctx, bool reads_only = false);

// The rows as the text content block shows them, escaped as the inside of a
// JSON string, in pieces (mcp::ToolResult::escaped_text): `first_line` (if
// any) and a header of column names, one tab-separated line per row (\N is
// NULL; r.rows_text, moved out), and a last line that says how many rows
// there are and why they stop where they do.
std::vector<std::string> table_text(db::QueryResult &r, const std::string &first_line = {});

// Case-insensitive match: a plain substring, or a LIKE pattern with % and _.
bool matches(const std::string &value, const std::string &pattern);

// The columns of a relation as the tools show them.
json columns_json(const db::Relation &r);

// describe_table's JSON for a relation, shared with the table resource.
json describe_relation(const db::Catalog &catalog, const db::Relation &r,
                       const std::string &database);

}  // namespace pgmcp::tools
