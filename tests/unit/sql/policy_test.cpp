// The SQL policy's text stage: what the statement's text alone decides (one
// statement, its kind, transaction and session commands, built-in functions
// denied by name), before the server analyses anything. The analysis stage
// has its own tests (sql_judge_test.cpp); the full corpus runs against a real
// PostgreSQL in tests/integration.
#include <gtest/gtest.h>

#include <algorithm>

#include "sql/parse_tree.hpp"
#include "sql/policy.hpp"
#include "sql/tokens.hpp"

using pgmcp::sql::PolicyOptions;
using pgmcp::sql::SqlPolicy;
using pgmcp::sql::Verdict;

namespace {

PolicyOptions options() {
  PolicyOptions o;
  o.blocked_tables = {"secrets"};
  o.blocked_columns = {"users.password", "salary"};
  o.blocked_functions = {"pg_sleep_wrapper", "pg_catalog.md5"};
  return o;
}

struct Case {
  const char *sql;
  const char *rule;  // "" = passed on to the server's analysis
};

void expect(const SqlPolicy &p, const Case &c) {
  Verdict v = p.check(c.sql);
  EXPECT_EQ(v.allowed ? "" : v.rule, c.rule) << c.sql << "\n  -> " << v.message;
  // metrics declare a series for every rule a refusal can name
  const auto &names = pgmcp::sql::rule_names();
  if (!v.allowed) {
    EXPECT_NE(std::find(names.begin(), names.end(), v.rule), names.end()) << v.rule;
  }
}

}  // namespace

TEST(SqlPolicyText, ReadsPassToTheAnalysis) {
  SqlPolicy p(options(), "shop");
  for (const Case &c : std::initializer_list<Case>{
           {"SELECT 1", ""},
           {"SELECT id, email FROM users", ""},
           // relations and columns are the analysis stage's to judge
           {"SELECT * FROM secrets", ""},
           {"SELECT password FROM users", ""},
           {"SELECT 'DROP TABLE users; pg_sleep(1)' AS note -- pg_sleep(1)", ""},
           {"WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) "
            "SELECT n FROM t",
            ""},
           {"SHOW search_path", ""},
           {"SHOW ALL", ""},
           // settings that hold secrets, by name (current_setting is judged by OID)
           {"SHOW app.jwt_secret", "secret_settings"},
           {"SHOW \"App\".\"Key\"", "secret_settings"},
           {"SHOW primary_conninfo", "secret_settings"},
           {"EXPLAIN SELECT * FROM orders", ""},
           {"TABLE orders", ""},
           // a user function with a denied built-in's name is judged by OID
           {"SELECT app.pg_sleep(1)", ""},
       })
    expect(p, c);
}

TEST(SqlPolicyText, EachRuleRefuses) {
  SqlPolicy p(options(), "shop");
  for (const Case &c : std::initializer_list<Case>{
           {"SELEC 1", "syntax"},
           {"SELECT 1 FROM", "syntax"},
           {"SELECT 1; SELECT 2", "single_statement"},
           {"/* x */ SELECT 1; DELETE FROM orders", "single_statement"},
           {"-- nothing", "single_statement"},
           {"DELETE FROM orders", "read_only"},
           {"COMMIT", "transaction_control"},
           {"SET search_path = evil", "session_settings"},
           {"SET LOCAL statement_timeout = 0", "read_only"},
           {"COPY orders TO PROGRAM 'id'", "server_files"},
           {"EXPLAIN ANALYZE SELECT 1", "explain_analyze"},
           {"EXPLAIN DELETE FROM orders", "read_only"},
           {"EXPLAIN SELECT pg_sleep(1)", "deny_list"},
           {"DO $$BEGIN PERFORM 1; END$$", "read_only"},
           {"TABLE_X", "syntax"},
       })
    expect(p, c);
}

TEST(SqlPolicyText, WhereNothingWritesAQueryIsJudgedOnTheServersAnalysis) {
  // In a read-only database a statement that begins like a query passes the
  // text stage on its syntax alone: what it writes, locks or calls, the
  // judge sees by OID (sql_judge_test.cpp, and the corpus on a real server).
  SqlPolicy read_only(options(), "shop");
  PolicyOptions o = options();
  o.allow_write = true;
  SqlPolicy writable(o, "shop");
  for (const Case &c : std::initializer_list<Case>{
           {"WITH d AS (DELETE FROM orders RETURNING id) SELECT * FROM d", ""},  // writes, allowed
           {"SELECT * FROM orders FOR UPDATE", ""},
           {"SELECT pg_sleep(1)", "deny_list"},
           {"SELECT pg_catalog.pg_read_file_old('x', 0, 1)", "deny_list"},
           {"SELECT lo_import('/etc/passwd')", "deny_list"},
           {"SELECT txid_current()", "deny_list"},
           {"SELECT pg_sleep_wrapper()", "blocked_functions"},
           {"/* c */ -- d\n (SELECT md5('x'))", "blocked_functions"},
       }) {
    Verdict v = read_only.check(c.sql);
    EXPECT_TRUE(v.allowed) << c.sql << " -> " << v.message;
    EXPECT_EQ(v.analysis_sql, c.sql);
    expect(writable, c);  // the full text stage, where writes are possible
  }
  // names in internal schemas never take the short path
  expect(read_only, {"SELECT * FROM pg_toast.pg_toast_2619", "relations"});
  expect(read_only, {"SELECT * FROM PG_TEMP_3.t", "relations"});
}

TEST(SqlPolicyText, RejectionNamesRuleObjectAndTheKeyThatLiftsIt) {
  PolicyOptions o = options();
  o.allow_write = true;  // the full text stage
  SqlPolicy p(o, "shop");
  Verdict v = p.check("SELECT pg_advisory_lock(1)");
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.object, "pg_advisory_lock");
  EXPECT_NE(v.message.find("(rule deny_list); allowed_functions = pg_advisory_lock would lift it"),
            std::string::npos)
      << v.message;
  v = p.check("SELECT * FROM orders WHERE");
  EXPECT_EQ(v.rule, "syntax");
  EXPECT_NE(v.message.find("at character"), std::string::npos) << v.message;
}

TEST(SqlPolicyText, ExplainCanBeTurnedOffAndIsAnalysedByItsQuery) {
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
  Verdict v = analyze.check("/* c */ EXPLAIN (FORMAT JSON, COSTS off) SELECT id FROM users;");
  EXPECT_EQ(v.analysis_sql, "SELECT id FROM users");
  v = analyze.check("explain analyze verbose select \"analyze\" from t");
  EXPECT_TRUE(v.allowed) << v.message;
  EXPECT_EQ(v.analysis_sql, "select \"analyze\" from t");
  EXPECT_EQ(analyze.check("SELECT 1").analysis_sql, "SELECT 1");
}

TEST(SqlPolicyText, DeepNestingIsRefusedNotCrashed) {
  PolicyOptions o = options();
  o.allow_write = true;  // the full text stage walks the tree
  SqlPolicy p(o, "shop");
  SqlPolicy read_only(options(), "shop");
  for (int depth : {1000, 1600, 3000}) {
    std::string sql = "SELECT ";
    for (int i = 0; i < depth; ++i) sql += "1 + (";
    sql += "1" + std::string(static_cast<size_t>(depth), ')');
    Verdict v = p.check(sql);
    // 1,000 levels is deep but checkable; past the walker's limit it is refused
    EXPECT_EQ(v.allowed ? "" : v.rule, depth == 1000 ? "" : "complexity")
        << depth << ": " << v.message;
    // the raw parse prints no tree: nothing deep to walk before the server's analysis
    EXPECT_TRUE(read_only.check(sql).allowed) << depth;
  }
}

TEST(SqlPolicyText, ALongFlatExpressionIsRefusedBeforeThePrinterOverflowsTheStack) {
  // 70,000 terms once overflowed the stack inside libpg_query's tree printer
  // and killed the process; without the bound this test crashes.
  std::string terms = "1";
  for (int i = 0; i < 70000; ++i) terms += "+1";
  std::string strings = "'a'";
  for (int i = 0; i < 70000; ++i) strings += "||'a'";
  PolicyOptions o = options();
  o.allow_write = true;
  SqlPolicy p(o, "shop");
  for (const std::string &sql :
       {"EXPLAIN SELECT " + terms, "SELECT " + strings, "INSERT INTO t VALUES (" + terms + ")",
        "SELECT " + std::string(70000, '(') + "1" + std::string(70000, ')')}) {
    Verdict v = p.check(sql);
    EXPECT_EQ(v.rule, "complexity") << v.message.substr(0, 200);
    EXPECT_NE(v.message.find("more than the 5000"), std::string::npos) << v.message.substr(0, 200);
  }
  // long but flat is fine: a VALUES list of many rows
  std::string rows = "INSERT INTO t VALUES (1, 'a')";
  for (int i = 0; i < 5000; ++i) rows += ", (1, 'a')";
  EXPECT_TRUE(p.check(rows).allowed) << p.check(rows).message;
  // where nothing writes, the raw parse does not recurse; the server refuses it
  std::string fewer = "1";
  for (int i = 0; i < 20000; ++i) fewer += "+1";
  EXPECT_TRUE(SqlPolicy(options(), "shop").check("SELECT " + fewer).allowed);
  // and one this long is refused for its length first
  EXPECT_EQ(SqlPolicy(options(), "shop").check("SELECT " + terms).rule, "complexity");
}

TEST(SqlPolicyText, AllowWriteMarksWritesAndRefusesWhatCannotBeChecked) {
  PolicyOptions o = options();
  o.allow_write = true;
  SqlPolicy p(o, "shop");
  Verdict v = p.check("INSERT INTO orders (id) VALUES (1)");
  EXPECT_TRUE(v.allowed) << v.message;
  EXPECT_TRUE(v.writes);
  EXPECT_FALSE(v.discard_connection);
  v = p.check("CREATE TEMP TABLE t (a) AS SELECT id FROM orders WITH NO DATA");
  EXPECT_TRUE(v.allowed && v.writes && v.discard_connection) << v.message;
  EXPECT_EQ(v.analysis_sql, "SELECT id FROM orders");  // the server analyses the query inside
  v = p.check("SELECT 1");
  EXPECT_TRUE(v.allowed && !v.writes && !v.discard_connection);
  for (const Case &c : std::initializer_list<Case>{
           {"COMMIT", "transaction_control"},
           {"SET search_path = x", "session_settings"},
           {"SET LOCAL ROLE postgres", "session_settings"},
           {"COPY orders FROM PROGRAM 'x'", "server_files"},
           {"SELECT pg_sleep(1)", "deny_list"},
           {"SET LOCAL work_mem = '64MB'", ""},
           {"SELECT nextval('s')", ""},  // where writes are allowed, sequences advance
           {"CREATE TABLE t (id int)", ""},
           {"DO $$BEGIN PERFORM 1; END$$", "utility"},
           {"CALL app.proc()", "utility"},
           {"SELECT * INTO copy FROM orders", "utility"},
           {"DECLARE c CURSOR FOR SELECT 1", "utility"},
           {"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "utility"},
       })
    expect(p, c);
}

TEST(SqlPolicyText, BadEntriesStopStartUp) {
  PolicyOptions bad = options();
  bad.blocked_columns = {"a.b.c.d"};
  EXPECT_THROW(SqlPolicy(bad, "shop"), std::invalid_argument);
  bad = options();
  bad.blocked_tables = {"\"unterminated"};
  EXPECT_THROW(SqlPolicy(bad, "shop"), std::invalid_argument);
  bad = options();
  bad.allowed_columns = {"query"};  // names no relation
  EXPECT_THROW(SqlPolicy(bad, "shop"), std::invalid_argument);
  bad = options();
  bad.allowed_functions = {"app.*", "now", "\"Odd\".f"};  // any function may be allowed
  EXPECT_NO_THROW(SqlPolicy(bad, "shop"));
}

TEST(Tokens, FindTheStatementInsideExplainAndCreateTableAs) {
  using pgmcp::sql::inner_statement;
  EXPECT_EQ(inner_statement("EXPLAIN SELECT 1"), "SELECT 1");
  EXPECT_EQ(inner_statement("EXPLAIN (FORMAT JSON, \"x)\" on) /* ( */ SELECT ')' ;"), "SELECT ')'");
  EXPECT_EQ(inner_statement("CREATE TABLE t (a, b) WITH (fillfactor = 70) AS SELECT 1, 2 "
                            "WITH DATA"),
            "SELECT 1, 2");
  EXPECT_EQ(inner_statement("CREATE MATERIALIZED VIEW \"as\" AS TABLE orders WITH NO DATA"),
            "TABLE orders");
  EXPECT_EQ(inner_statement("CREATE TABLE t (a int)"), "");
  EXPECT_THROW(inner_statement("SELECT 'open"), std::invalid_argument);
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

TEST(SqlPolicyText, PlainQueriesRunInsideTheRowGuardAndWritesDoNot) {
  SqlPolicy p(options(), "shop");
  auto guardable = [&](const char *sql) { return p.check(sql).guardable; };
  EXPECT_EQ(guardable("SELECT 1"), "SELECT 1");
  EXPECT_EQ(guardable("  SELECT 1 ;  "), "  SELECT 1 ");
  EXPECT_EQ(guardable("SELECT 1; -- done"), "SELECT 1");
  EXPECT_EQ(guardable("SELECT 'delete' AS word -- update"), "SELECT 'delete' AS word -- update");
  EXPECT_EQ(guardable("VALUES (1), (2) ORDER BY 1"), "VALUES (1), (2) ORDER BY 1");
  EXPECT_EQ(guardable("SELECT \"into\" FROM t"), "SELECT \"into\" FROM t");
  // what reads differently (or not at all) inside a subquery is left as it is
  EXPECT_EQ(guardable("SELECT * INTO copy FROM orders"), "");
  EXPECT_EQ(guardable("WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d"), "");
  EXPECT_EQ(guardable("SELECT * FROM orders FOR UPDATE"), "");
  EXPECT_EQ(guardable("SHOW search_path"), "");
  EXPECT_EQ(guardable("EXPLAIN SELECT 1"), "");

  std::string wrapped = pgmcp::sql::bounded_sql("SELECT 1 -- a comment", 1000, 50);
  EXPECT_EQ(wrapped.substr(pgmcp::sql::row_guard_offset(), 21), "SELECT 1 -- a comment");
  EXPECT_NE(wrapped.find("\n) AS pgmcp_row WHERE"), std::string::npos);  // after the comment's line
  EXPECT_NE(wrapped.find("> 1000 THEN"), std::string::npos);
  EXPECT_NE(wrapped.find(" LIMIT 51"), std::string::npos);  // one row past max_rows says "cut"
  // without the row guard only the limit is added
  std::string limited = pgmcp::sql::bounded_sql("SELECT 1", 0, 50);
  EXPECT_EQ(limited.substr(pgmcp::sql::row_guard_offset()), "SELECT 1\n) AS pgmcp_row LIMIT 51");
  // the guarded text is itself one plain query
  EXPECT_TRUE(p.check(wrapped).allowed);
}

TEST(SqlPolicyText, AStatementTooLongToAnalyseIsRefusedWithTheWayAround) {
  SqlPolicy p(options(), "shop");
  std::string list;
  for (int i = 0; i < 30000; ++i) list += (i ? "," : "") + std::to_string(i);
  Verdict v = p.check("SELECT count(*) FROM orders WHERE id IN (" + list + ")");
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.rule, "complexity");
  EXPECT_NE(v.message.find("ANY($1::int[])"), std::string::npos) << v.message;
  // a long statement of few tokens (a long string) is not refused for its length
  Verdict text = p.check("SELECT '" + std::string(200000, 'x') + "' AS long_text");
  EXPECT_TRUE(text.allowed) << text.message;
  // and a list of 10,000 passes
  list.clear();
  for (int i = 0; i < 10000; ++i) list += (i ? "," : "") + std::to_string(i);
  EXPECT_TRUE(p.check("SELECT count(*) FROM orders WHERE id IN (" + list + ")").allowed);
}

namespace {

bool has(const std::vector<Verdict::Named> &names, const std::string &schema,
         const std::string &name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const Verdict::Named &n) { return n.schema == schema && n.name == name; });
}

}  // namespace

TEST(SqlPolicyText, DdlCarriesWhatItNamesAndRenamesOrDropsOnlyRelations) {
  PolicyOptions o = options();
  o.allow_write = true;
  SqlPolicy p(o, "shop");
  // relations and type names in fields of a particular node type print
  // without the node's name: found all the same
  Verdict v = p.check(
      "CREATE TABLE t (a app.mood CHECK (a OPERATOR(app.===) 'ok') DEFAULT app.f(), "
      "u int REFERENCES app.users (id), LIKE app.staff)");
  ASSERT_TRUE(v.allowed) << v.message;
  EXPECT_TRUE(has(v.ddl_relations, "", "t"));
  EXPECT_TRUE(has(v.ddl_relations, "app", "users"));
  EXPECT_TRUE(has(v.ddl_relations, "app", "staff"));
  EXPECT_TRUE(has(v.ddl_types, "app", "mood"));
  EXPECT_TRUE(has(v.ddl_operators, "app", "==="));
  EXPECT_TRUE(has(v.ddl_functions, "app", "f"));
  v = p.check("ALTER TABLE app.users RENAME COLUMN password TO pw");
  ASSERT_TRUE(v.allowed) << v.message;
  EXPECT_TRUE(has(v.ddl_relations, "app", "users"));
  v = p.check("ALTER TABLE ledger DETACH PARTITION app.ledger_2025");
  EXPECT_TRUE(has(v.ddl_relations, "", "ledger") && has(v.ddl_relations, "app", "ledger_2025"));
  v = p.check("CREATE INDEX ON t (a app.x_ops, (lower(b)) text_pattern_ops)");
  EXPECT_TRUE(has(v.ddl_operator_classes, "app", "x_ops"));
  EXPECT_TRUE(has(v.ddl_operator_classes, "", "text_pattern_ops"));
  v = p.check("CREATE TABLE t (a int, EXCLUDE USING gist (a WITH OPERATOR(app.&&&)))");
  EXPECT_TRUE(has(v.ddl_operators, "app", "&&&"));
  v = p.check("DROP TABLE a, app.b");
  EXPECT_TRUE(has(v.ddl_relations, "", "a") && has(v.ddl_relations, "app", "b"));
  v = p.check("ALTER TABLE t ALTER COLUMN a TYPE int USING length(a::text)");
  EXPECT_TRUE(has(v.ddl_functions, "", "length"));
  // the server analyses the query of CREATE TABLE AS itself, by OID
  v = p.check("CREATE TABLE t2 AS SELECT lower(email) FROM users");
  ASSERT_TRUE(v.allowed) << v.message;
  EXPECT_TRUE(v.ddl_functions.empty() && v.ddl_relations.empty());
  // ... and the text stage's other rules still hold for it
  expect(p, {"CREATE TABLE t3 AS SELECT * FROM pg_toast.pg_toast_2619", "relations"});
  expect(p, {"ALTER TABLE pg_toast.pg_toast_2619 RENAME TO t", "relations"});
  // a read carries nothing: the server analyses it
  EXPECT_TRUE(p.check("SELECT lower(email) FROM users").ddl_functions.empty());
  for (const char *sql :
       {"ALTER SCHEMA app RENAME TO b", "ALTER FUNCTION app.f() RENAME TO g",
        "DROP SCHEMA app CASCADE", "DROP FUNCTION app.f()", "ALTER TYPE app.mood RENAME TO m",
        "DROP TYPE app.mood", "DROP EXTENSION hstore"})
    expect(p, {sql, "utility"});
  for (const char *sql : {"ALTER TABLE t RENAME TO u", "ALTER INDEX i RENAME TO j",
                          "ALTER TABLE t RENAME CONSTRAINT c TO d", "DROP INDEX i", "DROP VIEW v"})
    expect(p, {sql, ""});
}
