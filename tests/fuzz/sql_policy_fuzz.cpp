// Fuzzes the SQL policy and the tree readers under it. For any input: no
// crash, no hang, no exception; a statement the text stage passes is one the
// PostgreSQL parser accepts as exactly one statement; the parse-tree reader
// either reads a JSON text or refuses it with std::invalid_argument; and the
// analysis stage, with a catalog loaded, judges any text that claims to be
// the server's query tree and gives every refusal a rule; where writes are
// allowed, the names DDL carries are judged against that catalog.
#include <pg_query.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "catalog_builder.hpp"
#include "sql/parse_tree.hpp"
#include "sql/policy.hpp"

namespace {

const pgmcp::sql::SqlPolicy &policy() {
  static const pgmcp::sql::SqlPolicy p(
      [] {
        pgmcp::sql::PolicyOptions o;
        o.blocked_tables = {"app.secrets"};
        o.blocked_columns = {"users.password", "staff.ssn", "token"};
        o.blocked_functions = {"app.same"};
        o.allowed_functions = {"app.agg"};
        return o;
      }(),
      "fuzz");
  return p;
}

bool single_statement(const std::string &sql) {
  PgQueryParseResult r = pg_query_parse(sql.c_str());
  bool ok = r.error == nullptr;
  if (ok) {
    std::string tree = r.parse_tree;
    // one element in "stmts": the tree holds exactly one "stmt" member
    size_t first = tree.find("{\"stmt\":");
    ok = first != std::string::npos && tree.find("{\"stmt\":", first + 1) == std::string::npos;
  }
  pg_query_free_parse_result(r);
  return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
  if (data[0] == 'J') {
    // The reader on arbitrary text.
    try {
      pgmcp::sql::ParseTree tree(text);
      auto root = tree.root();
      for (size_t i = 0; i < root.size(); ++i) (void)root.at(i).str();
    } catch (const std::invalid_argument &) {
    }
    return 0;
  }
  if (data[0] == 'T') {
    // The analysis stage on arbitrary "server trees" (seeds are real ones).
    static const auto catalog = pgmcp::testing::policy_catalog();
    pgmcp::sql::Verdict passed;
    passed.allowed = true;
    passed.kind = "SelectStmt";
    auto verdict = policy().judge(text, passed, *catalog);
    if (!verdict.allowed && verdict.rule.empty()) std::abort();
    return 0;
  }
  if (text.find('\0') != std::string::npos) return 0;  // a C string cannot carry it
  if (data[0] == 'W') {
    // Where writes are allowed: DDL carries the names it uses, and the judge
    // resolves them against the catalog (the server shows DDL as "?").
    static const pgmcp::sql::SqlPolicy writable(
        [] {
          pgmcp::sql::PolicyOptions o = policy().options();
          o.allow_write = true;
          return o;
        }(),
        "fuzz");
    static const auto catalog = pgmcp::testing::policy_catalog();
    auto verdict = writable.check(text);
    if (verdict.allowed && !single_statement(text)) std::abort();
    if (!verdict.allowed && verdict.rule.empty()) std::abort();
    if (verdict.allowed) {
      auto judged =
          writable.judge("({QUERY :commandType 6 :utilityStmt ? :rtable <>})", verdict, *catalog);
      if (!judged.allowed && judged.rule.empty()) std::abort();
    }
    return 0;
  }
  auto verdict = policy().check(text);
  if (verdict.allowed && !single_statement(text)) std::abort();
  if (!verdict.allowed && verdict.rule.empty()) std::abort();
  return 0;
}
