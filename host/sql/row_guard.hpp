// Which statement can run wrapped in a subquery. Internal to sql/;
// bounded_sql and row_guard_offset are declared in policy.hpp.
#pragma once

#include <pg_query.h>

#include <string>

namespace pgmcp::sql {

// The one statement of sql, when it reads the same inside a subquery: not
// SELECT INTO and no data-modifying WITH (both writes, refused elsewhere with
// their own reason), nothing that does not scan. "" otherwise.
std::string guardable_query(const std::string &sql, const PgQuerySplitStmt &stmt);

}  // namespace pgmcp::sql
