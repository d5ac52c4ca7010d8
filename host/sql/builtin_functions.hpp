// How pg-mcp classifies what PostgreSQL ships: its built-in functions (safe,
// or denied with the reason) and the catalog relations and columns that hold
// other sessions' queries, stored values or secrets. See docs/security.md.
#pragma once

#include <string_view>
#include <vector>

namespace pgmcp::sql {

struct DeniedFunction {
  const char *name;
  bool prefix;      // name is a prefix ("lo_", "pg_advisory_")
  const char *why;  // "sleeps", "reads files on the database server", ...
};

// Built-in functions refused unless allowed_functions names them.
const std::vector<DeniedFunction> &builtin_denied_functions();

// Why a built-in function is denied, or nullptr.
const char *builtin_denied(std::string_view name);

// Whether PostgreSQL 15 ships a function of this name (the snapshot in
// builtin_functions_pg15.inc). A built-in outside it is not classified.
bool builtin_known(std::string_view name);

struct DeniedCatalogColumn {
  const char *relation;  // in pg_catalog or information_schema, or an extension's view
  const char *column;    // nullptr: the whole relation
  const char *why;
};

// Catalog relations and columns refused unless allowed_tables or
// allowed_columns names them.
const std::vector<DeniedCatalogColumn> &denied_catalog_columns();

// Why reading a server setting by name may expose a secret, or nullptr for a
// built-in setting that holds none. Custom settings (a name with a dot:
// placeholders set with ALTER DATABASE/ROLE ... SET, and extensions'
// settings) are where applications keep keys and tenant secrets; a few
// built-ins hold connection strings or shell commands with credentials.
// The name in lower case: PostgreSQL compares setting names without regard
// to case.
const char *secret_setting(std::string_view lower);

// Extension views judged like catalog views (by column, their bodies trusted).
bool trusted_extension_view(std::string_view extension, std::string_view view);

}  // namespace pgmcp::sql
