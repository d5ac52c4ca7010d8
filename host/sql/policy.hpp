// The SQL safety policy: decides, before anything reaches the database,
// whether one statement may run. It parses with the PostgreSQL parser
// (libpg_query), walks every node of the tree, and resolves relations,
// views and operators through the schema cache. See docs/security.md.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "db/schema.hpp"

namespace pgmcp::sql {

// The operator's rules for one [database.NAME]. Names are written as in SQL:
// unquoted parts fold to lower case, "Quoted" parts keep their case.
struct PolicyOptions {
  bool allow_write = false;
  bool allow_explain = true;
  bool allow_explain_analyze = false;
  std::vector<std::string> blocked_tables;     // name or schema.name
  std::vector<std::string> blocked_columns;    // col, table.col or schema.table.col
  std::vector<std::string> blocked_functions;  // name or schema.name, added to the deny list
  std::vector<std::string> allowed_functions;  // lifts built-in deny-list entries
  std::vector<std::string> allowed_tables;     // lifts built-in denied catalog relations
};

PolicyOptions policy_options(const config::DatabaseOptions &d);

struct Verdict {
  bool allowed = false;
  std::string rule;     // e.g. "blocked_columns"; empty when allowed
  std::string object;   // e.g. "users.password"
  std::string message;  // for the model: what was wrong and what to do
  // The statement writes (allow_write): run it in a read-write transaction.
  bool writes = false;
  // The statement may leave session state behind (a lifted deny-list function,
  // LISTEN, PREPARE, ...): close the connection afterwards instead of pooling it.
  bool discard_connection = false;
  // A relation the statement names is not in the catalog: the caller may
  // refresh a stale catalog and check again.
  bool unknown_relation = false;
};

// The built-in deny list, for docs and tests.
struct DenyList {
  struct Function {
    std::string name;
    bool prefix;      // name is a prefix ("lo_", "pg_advisory_")
    const char *why;  // "sleeps", "reads or writes large objects", ...
  };
  std::vector<Function> functions;
  std::vector<std::string> relations;  // catalog relations that expose other data
};
const DenyList &builtin_deny_list();

class SqlPolicy {
 public:
  // Throws std::invalid_argument naming the bad key and entry.
  SqlPolicy(PolicyOptions options, std::string database);
  ~SqlPolicy();
  SqlPolicy(const SqlPolicy &) = delete;
  SqlPolicy &operator=(const SqlPolicy &) = delete;

  // Checks one statement. catalog may be null (then views cannot be seen
  // through, and names are matched conservatively). Thread-safe.
  Verdict check(const std::string &sql, std::shared_ptr<const db::Catalog> catalog) const;

  const PolicyOptions &options() const { return options_; }

  // Whether the rules block a table, or one of its columns, by name: for
  // keeping blocked objects out of what an LLM is shown.
  bool blocks_table(const std::string &schema, const std::string &name) const;
  bool blocks_column(const std::string &schema, const std::string &table,
                     const std::string &column) const;

  struct Name {
    std::string schema, name;
  };
  struct ColumnName {
    std::string schema, table, column;  // table empty: any table
  };

 private:
  friend class Rules;
  struct ViewMemo;
  PolicyOptions options_;
  std::string database_;
  std::vector<Name> blocked_tables_, blocked_functions_, allowed_functions_;
  std::set<std::string> allowed_tables_;
  std::vector<ColumnName> blocked_columns_;
  std::unique_ptr<ViewMemo> views_;
};

}  // namespace pgmcp::sql
