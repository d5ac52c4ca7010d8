// The SQL policy on a hand-built catalog: each rule refuses what it must and
// nothing else. The full corpus runs against a real PostgreSQL in
// tests/integration; these tests pin the rules one by one, fast.
#include <gtest/gtest.h>

#include "sql/parse_tree.hpp"
#include "sql/policy.hpp"

using pgmcp::sql::PolicyOptions;
using pgmcp::sql::SqlPolicy;
using pgmcp::sql::Verdict;

namespace {

pgmcp::db::Relation relation(const std::string &schema, const std::string &name,
                             std::vector<std::string> cols, const std::string &kind = "table",
                             const std::string &definition = "") {
  pgmcp::db::Relation r;
  r.schema = schema;
  r.name = name;
  r.kind = kind;
  r.definition = definition;
  int pos = 0;
  for (auto &c : cols) r.columns.push_back({c, "text", "", "", ++pos, false});
  return r;
}

std::shared_ptr<const pgmcp::db::Catalog> catalog() {
  auto c = std::make_shared<pgmcp::db::Catalog>();
  c->search_path = {"pg_catalog", "public"};
  c->system_relations = {{"pg_catalog", "pg_class"}, {"pg_catalog", "pg_stat_activity"},
                         {"pg_catalog", "pg_stats"}};
  c->add(relation("public", "users", {"id", "email", "password", "password_policy"}));
  c->add(relation("public", "orders", {"id", "user_id", "total"}));
  c->add(relation("public", "secrets", {"id", "value"}));
  c->add(relation("hr", "users", {"id", "salary"}));
  c->add(relation("public", "user_emails", {"id", "email"}, "view",
                  " SELECT users.id, users.email FROM users;"));
  c->add(relation("public", "user_logins", {"id", "pw"}, "view",
                  " SELECT users.id, users.password AS pw FROM users;"));
  c->add(relation("public", "login_summary", {"id"}, "view", " SELECT user_logins.id FROM user_logins;"));
  c->add(relation("public", "activity", {"query"}, "view",
                  " SELECT pg_stat_activity.query FROM pg_stat_activity;"));
  c->operators.push_back({"public", "<<~>>", "public", "pg_sleep_wrapper"});
  return c;
}

PolicyOptions options() {
  PolicyOptions o;
  o.blocked_tables = {"secrets"};
  o.blocked_columns = {"users.password", "salary"};
  o.blocked_functions = {"pg_sleep_wrapper"};
  return o;
}

struct Case {
  const char *sql;
  const char *rule;  // "" = allowed
};

void expect(const SqlPolicy &p, const Case &c) {
  Verdict v = p.check(c.sql, catalog());
  EXPECT_EQ(v.allowed ? "" : v.rule, c.rule) << c.sql << "\n  -> " << v.message;
}

}  // namespace

TEST(SqlPolicy, ReadsPass) {
  SqlPolicy p(options(), "shop");
  for (const Case &c : std::initializer_list<Case>{
           {"SELECT 1", ""},
           {"SELECT id, email FROM users", ""},
           {"SELECT u.id, u.password_policy FROM users u", ""},
           {"SELECT * FROM orders WHERE user_id IN (SELECT id FROM users)", ""},
           {"SELECT 1 WHERE EXISTS (SELECT * FROM users)", ""},
           {"SELECT 'DROP TABLE users; password' AS note -- password", ""},
           {"SELECT o.* FROM orders o JOIN users u ON u.id = o.user_id", ""},
           {"SELECT * FROM user_emails", ""},
           {"WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) "
            "SELECT n FROM t",
            ""},
           {"SHOW search_path", ""},
           {"EXPLAIN SELECT * FROM orders", ""},
           {"TABLE orders", ""},
       })
    expect(p, c);
}

TEST(SqlPolicy, EachRuleRefuses) {
  SqlPolicy p(options(), "shop");
  for (const Case &c : std::initializer_list<Case>{
           {"SELEC 1", "syntax"},
           {"SELECT 1; SELECT 2", "single_statement"},
           {"-- nothing", "single_statement"},
           {"DELETE FROM orders", "read_only"},
           {"WITH d AS (DELETE FROM orders RETURNING id) SELECT * FROM d", "read_only"},
           {"SELECT * FROM orders FOR UPDATE", "read_only"},
           {"SELECT * INTO copy FROM orders", "read_only"},
           {"COMMIT", "transaction_control"},
           {"SET search_path = evil", "session_settings"},
           {"SET LOCAL statement_timeout = 0", "read_only"},
           {"COPY orders TO PROGRAM 'id'", "server_files"},
           {"EXPLAIN ANALYZE SELECT 1", "explain_analyze"},
           {"EXPLAIN DELETE FROM orders", "read_only"},
           {"SELECT pg_sleep(1)", "deny_list"},
           {"SELECT * FROM pg_stat_activity", "deny_list"},
           {"SELECT pg_sleep_wrapper()", "blocked_functions"},
           {"SELECT 1 <<~>> 2", "blocked_functions"},
           {"SELECT * FROM secrets", "blocked_tables"},
           {"SELECT * FROM public.secrets s", "blocked_tables"},
           {"SELECT password FROM users", "blocked_columns"},
           {"SELECT u.password FROM users u", "blocked_columns"},
           {"SELECT * FROM users", "blocked_columns"},
           {"SELECT u.* FROM users u", "blocked_columns"},
           {"SELECT u FROM users u", "blocked_columns"},
           {"SELECT row_to_json(u) FROM users u", "blocked_columns"},
           {"SELECT x.c3 FROM users AS x(c1, c2, c3)", "blocked_columns"},
           {"SELECT id FROM users WHERE password LIKE 'a%'", "blocked_columns"},
           {"SELECT salary FROM hr.users", "blocked_columns"},
           {"SELECT * FROM user_logins", "blocked_columns"},
           {"SELECT id FROM login_summary", "blocked_columns"},
           {"SELECT * FROM activity", "deny_list"},
           {"SELECT j.password FROM (users JOIN orders o ON true) AS j", "blocked_columns"},
           {"SELECT 1 FROM users JOIN users u2 USING (password)", "blocked_columns"},
           {"WITH c AS (SELECT * FROM users) SELECT email FROM c", "blocked_columns"},
       })
    expect(p, c);
}

TEST(SqlPolicy, RejectionNamesRuleAndObject) {
  SqlPolicy p(options(), "shop");
  Verdict v = p.check("SELECT u.password FROM users AS u", catalog());
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.object, "users.password");
  EXPECT_NE(v.message.find("blocked column users.password (rule blocked_columns)"),
            std::string::npos)
      << v.message;
  v = p.check("SELECT * FROM user_logins", catalog());
  EXPECT_NE(v.message.find("view public.user_logins"), std::string::npos) << v.message;
  v = p.check("SELECT * FROM orders WHERE", catalog());
  EXPECT_EQ(v.rule, "syntax");
  EXPECT_NE(v.message.find("at character"), std::string::npos) << v.message;
}
