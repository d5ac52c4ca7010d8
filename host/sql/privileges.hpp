// PostgreSQL enforcing what the SQL policy decides: the SQL for a NOLOGIN
// reader role granted exactly what the policy lets a statement read, and a
// report of what the roles pg-mcp runs as may do beyond that.
#pragma once

#include <string>
#include <vector>

#include "db/database.hpp"
#include "db/schema.hpp"
#include "sql/policy.hpp"

namespace pgmcp::sql {

// The statements that create (if missing) the role `role` and grant it USAGE
// on the schemas and SELECT on exactly the readable relations (column by
// column where columns are blocked), after revoking what it had; then GRANT
// role TO login, so that SET ROLE works. One statement per element.
std::vector<std::string> reader_role_sql(const SqlPolicy &policy, const db::Catalog &catalog,
                                         const std::string &role, const std::string &login);

// Warnings about the login role and the role statements run as: superuser,
// owner of tables, member of the server-file roles, able to read what the
// policy blocks. Empty when there is nothing to say. Throws db::DbError.
std::vector<std::string> privilege_warnings(db::Database &db, const SqlPolicy &policy,
                                            const db::Catalog &catalog);

}  // namespace pgmcp::sql
