// The one door to a database for statements that come from a client or a
// model: the SQL policy decides, a refusal is counted and audited, and only a
// passed statement runs, in the mode the verdict asks for.
#pragma once

#include <string>

#include "db/database.hpp"
#include "db/schema.hpp"
#include "sql/policy.hpp"

namespace pgmcp::sql {

// Checks sql against policy with the cached catalog (refreshing a stale one
// when the statement names a relation it does not know). A refusal increments
// pg_mcp_sql_rejections_total and writes an audit line. Throws db::DbError
// when the catalog cannot be loaded.
// reads_only: the caller never writes (the query tool), so a write the
// database's allow_write would pass is refused as read_only all the same.
Verdict screen(const std::string &sql, db::Database &db, db::SchemaCache &schema,
               const SqlPolicy &policy, mcp::RequestContext *ctx, bool reads_only = false);

// How a passed statement runs.
inline db::RunMode run_mode(const Verdict &v) { return {v.writes, v.discard_connection}; }

}  // namespace pgmcp::sql
