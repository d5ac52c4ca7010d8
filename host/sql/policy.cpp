#include "sql/policy.hpp"

#include <pg_query.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <stdexcept>

#include "db/database.hpp"
#include "sql/builtin_functions.hpp"
#include "sql/parse_tree.hpp"
#include "sql/row_guard.hpp"
#include "sql/statement_kinds.hpp"
#include "sql/text_walker.hpp"
#include "sql/tokens.hpp"

namespace pgmcp::sql {

namespace {

std::string join_name(const std::string &schema, const std::string &name) {
  return schema.empty() ? name : schema + "." + name;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

bool name_matches(const SqlPolicy::Name &entry, const std::string &schema,
                  const std::string &name) {
  bool schema_ok = entry.schema.empty() || schema.empty() || entry.schema == schema;
  return schema_ok && (entry.name == name || (entry.name == "*" && !entry.schema.empty()));
}

struct Violation {
  std::string rule, object, message;
};

// ---------------------------------------------------------------------------
// The text stage's rules. The first violation wins: statement kind, then
// functions named in the text.

class Rules {
 public:
  Rules(const SqlPolicy &p, const Walker &w, Verdict &v) : p_(p), w_(w), v_(v) {}

  std::optional<Violation> statement(std::string_view type, Value body) const {
    const auto &o = p_.options_;
    if (type == "VariableShowStmt") {
      std::string name = body.get("name").str();
      if (auto why = p_.refuses_setting(name)) return Violation{"secret_settings", name, *why};
    } else if (type == "SelectStmt") {
      // reads; nested writes and locking are checked below
    } else if (type == "ExplainStmt") {
      if (!o.allow_explain)
        return Violation{"explain", "EXPLAIN",
                         "EXPLAIN is turned off for database '" + p_.database_ +
                             "' (rule explain); send the query itself"};
      if (w_.explain_analyze && !o.allow_explain_analyze)
        return Violation{"explain_analyze", "EXPLAIN ANALYZE",
                         "EXPLAIN ANALYZE runs the statement and is turned off for database '" +
                             p_.database_ +
                             "' (rule explain_analyze); use EXPLAIN without ANALYZE"};
      Value inner = body.get("query");
      if (inner.is_object() && inner.size() == 1) {
        auto bad = statement(inner.key(0), inner.at(0));
        if (bad) return bad;
      }
    } else if (type == "TransactionStmt") {
      return Violation{"transaction_control", "transaction control",
                       "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...) is not "
                       "allowed (rule transaction_control): every call already runs in its own "
                       "transaction; send a single statement"};
    } else if (type == "VariableSetStmt") {
      if (w_.set_kind == "transaction")
        return Violation{"transaction_control", "SET TRANSACTION",
                         "SET TRANSACTION is not allowed (rule transaction_control): the server "
                         "sets the transaction's mode"};
      if (w_.set_kind != "local")
        return Violation{"session_settings", "SET",
                         "SET, RESET and role changes are not allowed (rule session_settings): "
                         "they would outlive the call; write the setting into the query instead"};
      return write("SET LOCAL");
    } else if (type == "CopyStmt" && w_.copy_files) {
      return Violation{"server_files", "COPY",
                       "COPY to or from a server file or program is not allowed (rule "
                       "server_files): it reads or writes the database host itself"};
    } else if (is_write_node(type)) {
      return write(statement_words(type));
    } else {
      if (auto bad = write(statement_words(type))) return bad;
      if (!checkable_utility(type))
        return Violation{"utility", statement_words(type),
                         statement_words(type) +
                             " runs code or reads data that pg-mcp cannot check (rule utility); "
                             "send plain SELECT, INSERT, UPDATE, DELETE or table DDL"};
      if (!w_.unchecked_object.empty())
        return Violation{"utility", statement_words(type),
                         statement_words(type) + " of a " + lower(w_.unchecked_object) +
                             " is not allowed (rule utility): renaming or dropping anything but a "
                             "relation, its columns, indexes and constraints would change what "
                             "the policy's names mean"};
      v_.discard_connection = true;  // DDL: a fresh connection afterwards
      // What the DDL names, for the judge to resolve against the catalog;
      // the server analyses the query of CREATE TABLE AS itself.
      if (type != "CreateTableAsStmt") {
        v_.ddl_functions = w_.funcs;
        v_.ddl_operators = w_.operators;
        v_.ddl_types = w_.types;
        v_.ddl_relations = w_.relations;
        v_.ddl_operator_classes = w_.operator_classes;
      }
    }
    for (size_t i = 1; i < w_.statement_types.size(); ++i) {
      if (is_write_node(w_.statement_types[i]))
        if (auto bad = write("a data-modifying " + statement_words(w_.statement_types[i])))
          return bad;
    }
    if (!w_.internal_relation.empty())
      return Violation{"relations", w_.internal_relation,
                       w_.internal_relation +
                           " is in an internal schema: TOAST tables hold other tables' values, "
                           "temporary schemas other sessions' tables (rule relations)"};
    if (w_.select_into) {
      if (auto bad = write("SELECT INTO")) return bad;
      return Violation{"utility", "SELECT INTO",
                       "SELECT INTO is not checked (rule utility); write CREATE TABLE ... AS "
                       "SELECT ... instead"};
    }
    if (w_.locking)
      if (auto bad = write("FOR UPDATE / FOR SHARE")) return bad;
    return std::nullopt;
  }

  // Built-in functions denied by name, before anything reaches the server.
  // Schema-qualified calls outside pg_catalog are user functions: the
  // analysis stage judges them by OID.
  std::optional<Violation> functions() const {
    for (const auto &f : w_.funcs) {
      if (!f.schema.empty() && f.schema != "pg_catalog") continue;
      std::string full = join_name(f.schema, f.name);
      for (const auto &e : p_.blocked_functions_) {
        if (name_matches(e, f.schema, f.name))
          return Violation{"blocked_functions", full,
                           "blocked function " + full + " (rule blocked_functions)"};
      }
      bool sequence = f.name == "nextval" || f.name == "setval";
      if (p_.options_.allow_write && sequence) continue;  // writes advance sequences anyway
      if (const char *why = builtin_denied(f.name)) {
        bool lifted = false;
        for (const auto &e : p_.allowed_functions_)
          lifted = lifted || name_matches(e, f.schema, f.name);
        if (!lifted)
          return Violation{"deny_list", full,
                           "function " + full + " " + why +
                               " and is on the built-in deny list (rule deny_list); "
                               "allowed_functions = " +
                               f.name + " would lift it"};
        v_.discard_connection = true;  // it may leave state behind (a lock, a setting)
      }
    }
    return std::nullopt;
  }

 private:
  std::optional<Violation> write(const std::string &what) const {
    if (p_.options_.allow_write) {
      v_.writes = true;
      return std::nullopt;
    }
    return Violation{"read_only", what,
                     what + " is not allowed: database '" + p_.database_ +
                         "' is read-only (rule read_only); ask for a SELECT instead"};
  }

  const SqlPolicy &p_;
  const Walker &w_;
  Verdict &v_;
};

namespace {

struct ParseResult {
  PgQueryParseResult r;
  explicit ParseResult(const std::string &sql) : r(pg_query_parse(sql.c_str())) {}
  ~ParseResult() { pg_query_free_parse_result(r); }
  ParseResult(const ParseResult &) = delete;
  ParseResult &operator=(const ParseResult &) = delete;
};

// Whether the statement's first word is SELECT, VALUES, TABLE or WITH, or
// it opens with a parenthesis, after blanks and comments. Only picks the text
// stage's path: the server's analysis judges either way.
bool begins_like_a_query(const std::string &sql) {
  size_t i = 0, n = sql.size();
  for (;;) {
    while (i < n && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    if (sql.compare(i, 2, "--") == 0) {
      while (i < n && sql[i] != '\n') ++i;
    } else if (sql.compare(i, 2, "/*") == 0) {
      int depth = 0;
      do {
        if (sql.compare(i, 2, "/*") == 0) {
          ++depth;
          i += 2;
        } else if (sql.compare(i, 2, "*/") == 0) {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      } while (depth > 0 && i < n);
    } else {
      break;
    }
  }
  // Names in internal schemas are refused by the text stage itself.
  auto mentions = [&](std::string_view word) {
    auto same = [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a)) == static_cast<unsigned char>(b);
    };
    return std::search(sql.begin() + static_cast<std::ptrdiff_t>(i), sql.end(), word.begin(),
                       word.end(), same) != sql.end();
  };
  if (mentions("pg_toast") || mentions("pg_temp")) return false;
  if (i < n && sql[i] == '(') return true;
  std::string word;
  while (i < n && std::isalpha(static_cast<unsigned char>(sql[i])) && word.size() < 8)
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i++])));
  bool ends = i >= n ||
              !(std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' || sql[i] == '$');
  return ends && (word == "select" || word == "values" || word == "table" || word == "with");
}

}  // namespace

SqlPolicy::SqlPolicy(PolicyOptions options, std::string database)
    : options_(std::move(options)), database_(std::move(database)) {
  blocked_tables_ = config::name_patterns(options_.blocked_tables, "blocked_tables", false);
  blocked_functions_ = config::name_patterns(options_.blocked_functions, "blocked_functions", true);
  allowed_functions_ = config::name_patterns(options_.allowed_functions, "allowed_functions", true);
  allowed_tables_ = config::name_patterns(options_.allowed_tables, "allowed_tables", true);
  blocked_columns_ = config::column_patterns(options_.blocked_columns, "blocked_columns", 1);
  allowed_columns_ = config::column_patterns(options_.allowed_columns, "allowed_columns", 2);
}

SqlPolicy::~SqlPolicy() = default;

bool SqlPolicy::blocks_table(const std::string &schema, const std::string &name) const {
  return std::any_of(blocked_tables_.begin(), blocked_tables_.end(),
                     [&](const Name &e) { return name_matches(e, schema, name); });
}

bool SqlPolicy::blocks_column(const std::string &schema, const std::string &table,
                              const std::string &column) const {
  return std::any_of(blocked_columns_.begin(), blocked_columns_.end(), [&](const ColumnName &e) {
    return e.column == column &&
           (e.table.empty() || name_matches({e.schema, e.table}, schema, table));
  });
}

std::optional<std::string> SqlPolicy::refuses_setting(std::string_view name) const {
  std::string wanted = lower(std::string(name));
  const char *why = secret_setting(wanted);
  if (why == nullptr) return std::nullopt;
  for (const auto &entry : options_.allowed_settings) {
    std::string e = lower(entry);
    bool prefix = e.size() > 2 && e.compare(e.size() - 2, 2, ".*") == 0;
    if (prefix ? wanted.compare(0, e.size() - 1, e, 0, e.size() - 1) == 0 : wanted == e)
      return std::nullopt;
  }
  return "setting " + std::string(name) + " " + why +
         " (rule secret_settings); allowed_settings = " + std::string(name) + " would allow it";
}

PolicyOptions policy_options(const config::DatabaseOptions &d) {
  PolicyOptions o;
  o.allow_write = d.allow_write;
  o.allow_explain = d.allow_explain;
  o.allow_explain_analyze = d.allow_explain_analyze;
  o.blocked_tables = d.blocked_tables;
  o.blocked_columns = d.blocked_columns;
  o.blocked_functions = d.blocked_functions;
  o.allowed_functions = d.allowed_functions;
  o.allowed_tables = d.allowed_tables;
  o.allowed_columns = d.allowed_columns;
  o.allowed_settings = d.allowed_settings;
  return o;
}

// Statements shorter than this cannot nest deeper than kMaxNesting; longer
// ones are scanned first. 5,000 levels parse on a small thread stack, even
// under AddressSanitizer.
constexpr size_t kMaxNesting = 5000, kCheapNesting = 5000;
// The server's analysis of a statement takes a few hundred bytes per token,
// and arrives whole: 100,000 list items would be about 100 MB of it. Longer
// lists belong in an array parameter, which analyses as one node.
constexpr size_t kMaxTokens = 50000;

Verdict SqlPolicy::check(const std::string &sql) const {
  Verdict v;
  auto refuse = [&](std::string rule, std::string object, std::string message) {
    v.allowed = false;
    v.rule = std::move(rule);
    v.object = std::move(object);
    v.message = std::move(message);
    return v;
  };
  // libpq sends the text as a C string: a NUL byte would silently cut it.
  if (size_t nul = sql.find('\0'); nul != std::string::npos)
    return refuse("syntax", "",
                  "the statement contains a NUL byte (U+0000) at character " +
                      std::to_string(nul + 1) +
                      ", which PostgreSQL cannot read; remove it (rule syntax)");
  // A statement shorter than kMaxTokens bytes cannot have more tokens.
  if (sql.size() > kMaxTokens) {
    std::size_t tokens = 0;
    try {
      tokens = scan(sql).size();
    } catch (const std::invalid_argument &e) {
      return refuse("syntax", "",
                    std::string(e.what()) + "; the statement was not run (rule syntax)");
    }
    if (tokens > kMaxTokens)
      return refuse("complexity", "",
                    "the statement has " + std::to_string(tokens) + " tokens, more than the " +
                        std::to_string(kMaxTokens) +
                        " pg-mcp has PostgreSQL analyse (rule complexity); pass a long list as "
                        "one array parameter (WHERE id = ANY($1::int[]) with params "
                        "[\"{1,2,3}\"]), or split the statement");
  }
  if (!options_.allow_write && begins_like_a_query(sql)) {
    // Where nothing may write, a statement that begins like a query needs
    // from the text only its syntax and that it is one statement: whatever
    // else it does (writes, locks, SELECT INTO, every function it calls) the
    // server's analysis shows and the judge decides. The raw parse prints no
    // tree, which saves most of the text stage's time.
    PgQuerySplitResult split = pg_query_split_with_parser(sql.c_str());
    struct Free {
      PgQuerySplitResult &r;
      ~Free() { pg_query_free_split_result(r); }
    } free_split{split};
    if (split.error != nullptr) {
      std::string msg = split.error->message != nullptr ? split.error->message : "syntax error";
      if (split.error->cursorpos > 0)
        msg += " (at character " + std::to_string(split.error->cursorpos) + ")";
      return refuse("syntax", "", msg + "; the statement was not run (rule syntax)");
    }
    if (split.n_stmts != 1)
      return refuse(
          "single_statement", "",
          split.n_stmts == 0
              ? "no statement: the text is empty or only a comment (rule single_statement)"
              : std::to_string(split.n_stmts) +
                    " statements given; send exactly one (rule single_statement)");
    v.kind = "SelectStmt";
    v.analysis_sql = sql;
    v.allowed = true;
    v.guardable = guardable_query(sql, *split.stmts[0]);
    return v;
  }
  // libpg_query prints its tree recursively, one stack frame per level: a
  // long enough operator chain would overflow the stack inside it.
  if (sql.size() > kCheapNesting) {
    try {
      size_t bound = nesting_bound(scan(sql));
      if (bound > kMaxNesting)
        return refuse("complexity", "",
                      "the statement nests up to " + std::to_string(bound) +
                          " levels deep (operators chained without a comma count as levels), "
                          "more than the " +
                          std::to_string(kMaxNesting) +
                          " pg-mcp checks (rule complexity); split it or simplify it");
    } catch (const std::invalid_argument &e) {
      return refuse("syntax", "",
                    std::string(e.what()) + "; the statement was not run (rule syntax)");
    }
  }
  ParseResult parsed(sql);
  if (parsed.r.error != nullptr) {
    std::string msg = parsed.r.error->message != nullptr ? parsed.r.error->message : "syntax error";
    if (parsed.r.error->cursorpos > 0)
      msg += " (at character " + std::to_string(parsed.r.error->cursorpos) + ")";
    return refuse("syntax", "", msg + "; the statement was not run (rule syntax)");
  }
  try {
    ParseTree tree(parsed.r.parse_tree);
    Value stmts = tree.root().get("stmts");
    if (stmts.size() != 1) {
      return refuse(
          "single_statement", "",
          stmts.size() == 0
              ? "no statement: the text is empty or only a comment (rule single_statement)"
              : std::to_string(stmts.size()) +
                    " statements given; send exactly one (rule single_statement)");
    }
    Value stmt = stmts.at(0).get("stmt");
    if (!stmt.is_object() || stmt.size() != 1)
      return refuse("single_statement", "", "no statement found (rule single_statement)");
    Walker w;
    w.walk(stmt, 0);
    if (!w.too_deep.empty()) return refuse("complexity", "", w.too_deep + " (rule complexity)");
    Rules rules(*this, w, v);
    auto bad = rules.statement(stmt.key(0), stmt.at(0));
    if (!bad) bad = rules.functions();
    if (bad) return refuse(bad->rule, bad->object, bad->message);
    v.kind = std::string(stmt.key(0));
    v.analysis_sql = sql;
    if (v.kind == "ExplainStmt" || v.kind == "CreateTableAsStmt") {
      // The server shows nothing of a utility command's insides: it analyses
      // the statement inside, which runs as part of this one.
      v.analysis_sql = inner_statement(sql);
      if (v.analysis_sql.empty())
        return refuse("utility", v.kind,
                      "the query inside " + statement_words(v.kind) +
                          " could not be found (rule utility); send the query itself");
    }
  } catch (const std::invalid_argument &e) {
    // The reader refuses only trees nested deeper than it walks.
    return refuse("complexity", "",
                  std::string("the statement could not be checked: ") + e.what() +
                      "; simplify it (rule complexity)");
  }
  v.allowed = true;
  return v;
}

const std::vector<std::string> &rule_names() {
  static const std::vector<std::string> names = {
      "analysis",        "blocked_columns",     "blocked_functions", "blocked_tables",
      "complexity",      "deny_list",           "explain",           "explain_analyze",
      "foreign_tables",  "functions",           "read_only",         "relations",
      "secret_settings", "server_files",        "session_settings",  "single_statement",
      "syntax",          "transaction_control", "utility",           "views"};
  return names;
}

}  // namespace pgmcp::sql
