// Names of database objects as the configuration writes them: dotted,
// optionally double-quoted, folded to lower case where unquoted, as
// PostgreSQL reads them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmcp::config {

// Splits a dotted SQL name into at most max_parts parts, honouring double
// quotes and folding unquoted parts to lower case, as PostgreSQL does. Blanks
// around parts are dropped. Throws std::invalid_argument.
std::vector<std::string> split_name(std::string_view text, size_t max_parts);

// Splits "schema.table" honouring double quotes: "My Schema"."Tbl" -> {My Schema, Tbl}.
// Unquoted parts fold to lower case, as PostgreSQL does. Throws std::invalid_argument.
std::pair<std::string, std::string> parse_qualified_name(std::string_view text);

struct NamePattern {
  std::string schema, name;  // schema empty: any; name "*": every name in schema
};
struct ColumnPattern {
  std::string schema, table, column;  // table empty: any table
};

// A list of table or function names (name, schema.name, and with wildcard
// also schema.*). Throws std::invalid_argument naming `key` and the entry.
std::vector<NamePattern> name_patterns(const std::vector<std::string> &entries, const char *key,
                                       bool wildcard);
// A list of column names with at least min_parts parts (column,
// table.column, schema.table.column). Throws std::invalid_argument.
std::vector<ColumnPattern> column_patterns(const std::vector<std::string> &entries, const char *key,
                                           size_t min_parts);

}  // namespace pgmcp::config
