// The one door to a database for statements that come from a client or a
// model: the SQL policy's text stage decides what the text shows, the server
// analyses the statement and the policy judges that analysis, and only then
// does it run, in the mode the verdict asks for. A refusal is counted and
// audited. Only this gate makes a db::AdmittedStatement.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

#include "db/database.hpp"
#include "db/schema.hpp"
#include "sql/policy.hpp"

namespace pgmcp::sql {

// The statement was refused; nothing of it ran.
class Rejected : public std::runtime_error {
 public:
  explicit Rejected(Verdict v) : std::runtime_error(v.message), verdict(std::move(v)) {}
  Verdict verdict;
};

struct GateOptions {
  // The caller never writes (the query tool, explain_query): a write the
  // database's allow_write would pass is refused as read_only all the same.
  bool reads_only = false;
  // Judge the server's analysis but run nothing (the query tool's
  // return_type = sql).
  bool analyze_only = false;
  // Called once the server's analysis passed, just before the statement runs.
  std::function<void()> on_run;
};

class Gate {
 public:
  // Checks and runs sql. Throws Rejected, or db::DbError (also when the
  // catalog cannot be loaded).
  static db::QueryResult run(const std::string &sql,
                             const std::vector<std::optional<std::string>> &params,
                             db::QueryLimits limits, db::Database &db, db::SchemaCache &schema,
                             const SqlPolicy &policy, core::RequestContext *ctx,
                             GateOptions options = {});
};

}  // namespace pgmcp::sql
