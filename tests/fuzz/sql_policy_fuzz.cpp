// Fuzzes the SQL policy and the parse-tree reader under it. For any input:
// no crash, no hang, no exception; a statement the policy passes is one the
// PostgreSQL parser accepts as exactly one statement; and the parse-tree
// reader either reads a JSON text or refuses it with std::invalid_argument.
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

std::shared_ptr<const pgmcp::db::Catalog> make_catalog() {
  auto c = std::make_shared<pgmcp::db::Catalog>();
  c->search_path = {"pg_catalog", "app"};
  c->system_relations = {{"pg_catalog", "pg_class"}, {"pg_catalog", "pg_stat_activity"}};
  auto rel = [&](const char *name, std::initializer_list<const char *> cols, const char *kind,
                 const char *def) {
    c->add(pgmcp::testing::relation("app", name, cols, kind, def));
  };
  rel("users", {"id", "email", "password"}, "table", "");
  rel("orders", {"id", "user_id", "total"}, "table", "");
  rel("logins", {"id", "pw"}, "view", "SELECT users.id, users.password AS pw FROM app.users");
  rel("loop", {"id"}, "view", "SELECT loop.id FROM app.loop");  // cannot exist; must not hang
  c->operators.push_back({"app", "===", "app", "same"});
  return c;
}

const pgmcp::sql::SqlPolicy &policy() {
  static const pgmcp::sql::SqlPolicy p(
      [] {
        pgmcp::sql::PolicyOptions o;
        o.blocked_tables = {"secrets"};
        o.blocked_columns = {"users.password", "token"};
        o.blocked_functions = {"app.same"};
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
  if (text.find('\0') != std::string::npos) return 0;  // a C string cannot carry it
  static const auto catalog = make_catalog();
  auto verdict = policy().check(text, (data[0] & 1) ? catalog : nullptr);
  if (verdict.allowed && !single_statement(text)) std::abort();
  if (!verdict.allowed && verdict.rule.empty()) std::abort();
  return 0;
}
