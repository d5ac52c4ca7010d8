// The SQL policy on a hand-built catalog: each rule refuses what it must and
// nothing else. The full corpus runs against a real PostgreSQL in
// tests/integration; these tests pin the rules one by one, fast.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "catalog_builder.hpp"
#include "sql/parse_tree.hpp"
#include "sql/policy.hpp"

using pgmcp::sql::PolicyOptions;
using pgmcp::sql::SqlPolicy;
using pgmcp::sql::Verdict;

namespace {

pgmcp::db::Relation relation(const std::string &schema, const std::string &name,
                             std::initializer_list<const char *> cols,
                             const std::string &kind = "table",
                             const std::string &definition = "") {
  return pgmcp::testing::relation(schema, name, cols, kind, definition);
}

std::shared_ptr<const pgmcp::db::Catalog> catalog() {
  auto c = std::make_shared<pgmcp::db::Catalog>();
  c->search_path = {"pg_catalog", "public"};
  c->system_relations = {
      {"pg_catalog", "pg_class"}, {"pg_catalog", "pg_stat_activity"}, {"pg_catalog", "pg_stats"}};
  c->add(relation("public", "users", {"id", "email", "password", "password_policy"}));
  c->add(relation("public", "orders", {"id", "user_id", "total"}));
  c->add(relation("public", "secrets", {"id", "value"}));
  c->add(relation("hr", "users", {"id", "salary"}));
  c->add(relation("public", "user_emails", {"id", "email"}, "view",
                  " SELECT users.id, users.email FROM users;"));
  c->add(relation("public", "user_logins", {"id", "pw"}, "view",
                  " SELECT users.id, users.password AS pw FROM users;"));
  c->add(relation("public", "login_summary", {"id"}, "view",
                  " SELECT user_logins.id FROM user_logins;"));
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

TEST(SqlPolicy, ExplainCanBeTurnedOff) {
  PolicyOptions o = options();
  o.allow_explain = false;
  SqlPolicy p(o, "shop");
  expect(p, {"EXPLAIN SELECT 1", "explain"});
  expect(p, {"SELECT 1", ""});
  o.allow_explain = true;
  o.allow_explain_analyze = true;
  SqlPolicy analyze(o, "shop");
  expect(analyze, {"EXPLAIN ANALYZE SELECT 1", ""});
  expect(analyze, {"EXPLAIN (ANALYZE false) SELECT 1", ""});
  expect(analyze, {"EXPLAIN ANALYZE DELETE FROM orders", "read_only"});
}

TEST(SqlPolicy, AViewThatCannotBeCheckedIsRefused) {
  auto c = std::const_pointer_cast<pgmcp::db::Catalog>(catalog());
  c->add(relation("public", "broken", {"id"}, "view", "this is not SQL"));
  SqlPolicy p(options(), "shop");
  Verdict v = p.check("SELECT id FROM broken", c);
  EXPECT_EQ(v.rule, "views") << v.message;
  // a view whose definition names itself (impossible in PostgreSQL) ends, refused
  c->add(relation("public", "loop", {"id"}, "view", "SELECT loop.id FROM loop"));
  v = p.check("SELECT id FROM loop", c);
  EXPECT_EQ(v.rule, "views") << v.message;
}

TEST(SqlPolicy, DeepNestingIsRefusedNotCrashed) {
  SqlPolicy p(options(), "shop");
  for (int depth : {1000, 1600, 3000}) {
    std::string sql = "SELECT ";
    for (int i = 0; i < depth; ++i) sql += "1 + (";
    sql += "1" + std::string(static_cast<size_t>(depth), ')');
    Verdict v = p.check(sql, catalog());
    // 1,000 levels is deep but checkable; past the walker's limit it is refused
    EXPECT_EQ(v.allowed ? "" : v.rule, depth == 1000 ? "" : "complexity")
        << depth << ": " << v.message;
  }
}

TEST(SqlPolicy, AllowWriteMarksWritesAndKeepsTheHardRules) {
  PolicyOptions o = options();
  o.allow_write = true;
  SqlPolicy p(o, "shop");
  Verdict v = p.check("INSERT INTO orders (id) VALUES (1)", catalog());
  EXPECT_TRUE(v.allowed) << v.message;
  EXPECT_TRUE(v.writes);
  EXPECT_FALSE(v.discard_connection);
  v = p.check("CREATE TEMP TABLE t AS SELECT 1", catalog());
  EXPECT_TRUE(v.allowed && v.writes && v.discard_connection) << v.message;
  v = p.check("SELECT 1", catalog());
  EXPECT_TRUE(v.allowed && !v.writes && !v.discard_connection);
  for (const Case &c : std::initializer_list<Case>{
           {"COMMIT", "transaction_control"},
           {"SET search_path = x", "session_settings"},
           {"SET LOCAL ROLE postgres", "session_settings"},
           {"COPY orders FROM PROGRAM 'x'", "server_files"},
           {"UPDATE users SET password = 'x'", "blocked_columns"},
           {"INSERT INTO users (id, password) VALUES (1, 'x')", "blocked_columns"},
           {"DELETE FROM secrets", "blocked_tables"},
           {"SELECT pg_sleep(1)", "deny_list"},
           {"SET LOCAL work_mem = '64MB'", ""},
           // RETURNING * reads the target, including through a data-modifying WITH
           {"DELETE FROM users WHERE id = 1 RETURNING *", "blocked_columns"},
           {"UPDATE users SET email = email RETURNING users.*", "blocked_columns"},
           {"WITH d AS (DELETE FROM users RETURNING *) SELECT id FROM d", "blocked_columns"},
           {"WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d", ""},
           {"UPDATE orders SET total = 0 FROM users u WHERE u.password = 'x'", "blocked_columns"},
           {"DELETE FROM orders o USING users u WHERE u.id = o.user_id RETURNING o.*", ""},
           {"DELETE FROM orders o USING users u WHERE u.id = o.user_id RETURNING *",
            "blocked_columns"},
           {"INSERT INTO orders SELECT * FROM users", "blocked_columns"},
           {"MERGE INTO orders o USING users u ON u.id = o.user_id WHEN MATCHED THEN UPDATE SET "
            "total = 1",
            ""},
       })
    expect(p, c);
}

TEST(SqlPolicy, LiftingDenyListEntriesIsExplicitAndDiscardsTheConnection) {
  PolicyOptions o = options();
  o.allowed_functions = {"pg_advisory_lock"};
  o.allowed_tables = {"pg_stat_activity"};
  SqlPolicy p(o, "shop");
  Verdict v = p.check("SELECT pg_advisory_lock(1)", catalog());
  EXPECT_TRUE(v.allowed && v.discard_connection) << v.message;
  EXPECT_TRUE(p.check("SELECT query FROM pg_stat_activity", catalog()).allowed);
  expect(p, {"SELECT pg_try_advisory_lock(1)", "deny_list"});
  expect(p, {"SELECT * FROM pg_stats", "deny_list"});
  PolicyOptions bad = options();
  bad.allowed_functions = {"now"};
  EXPECT_THROW(SqlPolicy(bad, "shop"), std::invalid_argument);
  bad = options();
  bad.allowed_tables = {"users"};
  EXPECT_THROW(SqlPolicy(bad, "shop"), std::invalid_argument);
  bad = options();
  bad.blocked_columns = {"a.b.c.d"};
  EXPECT_THROW(SqlPolicy(bad, "shop"), std::invalid_argument);
  bad = options();
  bad.blocked_tables = {"\"unterminated"};
  EXPECT_THROW(SqlPolicy(bad, "shop"), std::invalid_argument);
}

TEST(SqlPolicy, UnknownRelationsAreFlaggedButCtesAreNot) {
  SqlPolicy p(options(), "shop");
  Verdict v = p.check("SELECT * FROM brand_new_table", catalog());
  EXPECT_TRUE(v.allowed && v.unknown_relation);
  v = p.check("WITH x AS (SELECT 1) SELECT * FROM x", catalog());
  EXPECT_TRUE(v.allowed && !v.unknown_relation);
  v = p.check("SELECT relname FROM pg_class", catalog());
  EXPECT_TRUE(v.allowed && !v.unknown_relation);
}

TEST(SqlPolicy, NamesResolveThroughTheSearchPath) {
  PolicyOptions o;
  o.blocked_tables = {"hr.users"};
  SqlPolicy p(o, "shop");
  // search path: pg_catalog, public: "users" is public.users, not hr.users
  expect(p, {"SELECT id FROM users", ""});
  expect(p, {"SELECT id FROM hr.users", "blocked_tables"});
  expect(p, {"SELECT id FROM \"hr\".\"users\"", "blocked_tables"});
  expect(p, {"SELECT id FROM \"HR\".users", ""});  // a different, quoted schema
  // without a catalog an unqualified name matches conservatively
  Verdict v = p.check("SELECT id FROM users", nullptr);
  EXPECT_EQ(v.rule, "blocked_tables");
}

TEST(SplitName, QuotesFoldingAndErrors) {
  using pgmcp::db::split_name;
  EXPECT_EQ(split_name("Users.Password", 3), (std::vector<std::string>{"users", "password"}));
  EXPECT_EQ(split_name("\"My Schema\".\"T\"\"x\".c", 3),
            (std::vector<std::string>{"My Schema", "T\"x", "c"}));
  EXPECT_EQ(split_name(" a . b ", 3), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(split_name("a..b", 3), std::invalid_argument);
  EXPECT_THROW(split_name("a.b.c.d", 3), std::invalid_argument);
  EXPECT_THROW(split_name("\"open", 3), std::invalid_argument);
  EXPECT_THROW(split_name("", 3), std::invalid_argument);
}

TEST(ParseTree, ReadsJsonAndRefusesMalformedText) {
  using pgmcp::sql::ParseTree;
  std::string json = R"({"a": [1, true, null, "x\"y\u00e9\ud83d\ude00"], "b": {}})";
  ParseTree t(json);
  auto a = t.root().get("a");
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a.at(0).str(), "1");
  EXPECT_EQ(a.at(3).str(), "x\"y\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_TRUE(t.root().get("b").is_object());
  EXPECT_FALSE(t.root().get("missing").valid());
  EXPECT_EQ(t.root().get("missing").get("x").at(3).size(), 0u);  // safe on a missing member
  for (const char *bad : {"", "{", "[1,", "{\"a\" 1}", "[1] x", "\"open", "{\"a\":}", "[tru]"})
    EXPECT_THROW(ParseTree{bad}, std::invalid_argument) << bad;
  EXPECT_THROW(ParseTree(std::string(5000, '[') + std::string(5000, ']')), std::invalid_argument);
}

TEST(SqlPolicy, ConcurrentChecksShareTheViewMemoSafely) {
  SqlPolicy p(options(), "shop");
  auto first = catalog();
  auto second = catalog();  // a reload: the memo starts over
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const auto &c = (i + t) % 2 == 0 ? first : second;
        if (p.check("SELECT id FROM login_summary", c).rule != "blocked_columns") ++wrong;
        if (!p.check("SELECT * FROM user_emails", c).allowed) ++wrong;
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}
