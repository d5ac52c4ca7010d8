// The SQL safety policy: decides whether one statement may run, in two
// stages. The text stage parses with the PostgreSQL parser (libpg_query) and
// decides what the text alone shows: one statement, its kind, transaction
// and session commands, built-in functions denied by name. The analysis
// stage judges the server's own parse analysis of the statement (its
// rewritten query tree, before anything runs): every relation and column it
// reads and every function it can call, by OID, against allow-lists. See
// docs/security.md.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/names.hpp"
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
  std::vector<std::string> blocked_functions;  // name or schema.name: refused even if allowed
  // Functions that may run besides the built-ins classified safe: name,
  // schema.name or schema.* (user and extension functions), or a denied
  // built-in's name (lifting it).
  std::vector<std::string> allowed_functions;
  // Catalog relations whose denied columns are lifted, and foreign tables
  // that may be read: name or schema.name.
  std::vector<std::string> allowed_tables;
  std::vector<std::string> allowed_columns;  // relation.column of a denied catalog column
  // Settings that may be read by name although they may hold secrets: a
  // name, or prefix.* (custom settings).
  std::vector<std::string> allowed_settings;
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
  // DDL, ...): close the connection afterwards instead of pooling it.
  bool discard_connection = false;
  // The server's analysis names an object the cached catalog does not know:
  // the caller may refresh a stale catalog and try once more.
  bool unknown_object = false;
  // The statement's node as libpg_query names it ("SelectStmt", "ExplainStmt").
  std::string kind;
  // The text the server must analyse: the statement, or for EXPLAIN and
  // CREATE TABLE AS the query inside.
  std::string analysis_sql;
  // A plain query that can run inside a subquery (bounded_sql): the
  // statement without a trailing semicolon; empty when it cannot.
  std::string guardable;
  // DDL (where writes are allowed): what its text names, as written (schema
  // empty when unqualified). The server does not analyse DDL before it runs
  // it, so the judge resolves these by name against the catalog.
  struct Named {
    std::string schema, name;
  };
  std::vector<Named> ddl_functions, ddl_operators, ddl_types, ddl_relations, ddl_operator_classes;
};

// The statement as a subquery that stops after max_rows + 1 rows (LIMIT),
// and when max_bytes > 0 (the row guard) whose rows PostgreSQL measures
// before sending: a row whose text is longer than max_bytes stops the
// statement with an error carrying db::kRowGuardMarker, so that no client
// memory ever holds it. Rows, their order, names and types are the
// statement's own.
std::string bounded_sql(const std::string &statement, long long max_bytes, long long max_rows);

// Every rule a refusal can name (Verdict::rule), for metrics and docs.
const std::vector<std::string> &rule_names();
// Where the statement begins inside bounded_sql's text.
std::size_t row_guard_offset();

class SqlPolicy {
 public:
  // Throws std::invalid_argument naming the bad key and entry.
  SqlPolicy(PolicyOptions options, std::string database);
  ~SqlPolicy();
  SqlPolicy(const SqlPolicy &) = delete;
  SqlPolicy &operator=(const SqlPolicy &) = delete;

  // The text stage. Thread-safe.
  Verdict check(const std::string &sql) const;

  // The analysis stage: judges the server's rewritten query tree of the
  // statement the text stage passed (v), against the catalog. Returns the
  // final verdict. Thread-safe.
  Verdict judge(std::string_view analysis, const Verdict &v, const db::Catalog &catalog) const;

  const PolicyOptions &options() const { return options_; }

  // What the policy lets a statement read, for a reader role's grants: user
  // relations not refused, with their columns (all of them, or the ones not
  // blocked). Views over refused data are left out.
  struct Readable {
    uint32_t oid = 0;
    std::string schema, name;
    char kind = 0;
    bool all_columns = true;
    std::vector<std::string> columns;  // when !all_columns
  };
  std::vector<Readable> readable(const db::Catalog &catalog) const;
  // What the policy refuses to read: (relation OID, attnum or 0 for the
  // whole relation, "schema.table[.column]").
  struct Refused {
    uint32_t oid;
    long long attnum;
    std::string name;
  };
  std::vector<Refused> refused(const db::Catalog &catalog) const;

  // Whether the rules block a table, or one of its columns, by name: for
  // keeping blocked objects out of what an LLM is shown.
  bool blocks_table(const std::string &schema, const std::string &name) const;
  bool blocks_column(const std::string &schema, const std::string &table,
                     const std::string &column) const;
  // Why reading this setting by name is refused (rule secret_settings), or
  // nullopt when it may be read.
  std::optional<std::string> refuses_setting(std::string_view name) const;

  using Name = config::NamePattern;
  using ColumnName = config::ColumnPattern;

 private:
  friend class Rules;
  friend class Judge;
  struct Memo;
  std::shared_ptr<const Memo> memo(const db::Catalog &catalog) const;
  PolicyOptions options_;
  std::string database_;
  std::vector<Name> blocked_tables_, blocked_functions_, allowed_functions_, allowed_tables_;
  std::vector<ColumnName> blocked_columns_, allowed_columns_;
  mutable std::mutex memo_mutex_;
  mutable std::shared_ptr<const Memo> memo_;
  mutable const db::Catalog *memo_catalog_ = nullptr;
  mutable std::chrono::steady_clock::time_point memo_loaded_at_;
};

// Whether a name entry (blocked_tables, allowed_functions, ...) matches.
bool name_matches(const SqlPolicy::Name &entry, const std::string &schema, const std::string &name);

}  // namespace pgmcp::sql
