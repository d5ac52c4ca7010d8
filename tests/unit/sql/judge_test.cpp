// The SQL policy's analysis stage: judging the server's rewritten query tree
// by OID against hand-built catalog facts. The trees here are small but in
// the server's own node text; the corpus in tests/integration runs the same
// judge on what a real PostgreSQL prints.
#include <gtest/gtest.h>

#include <algorithm>

#include <atomic>
#include <thread>

#include "catalog_builder.hpp"
#include "sql/policy.hpp"
#include "sql/query_tree.hpp"

using pgmcp::sql::PolicyOptions;
using pgmcp::sql::QueryTree;
using pgmcp::sql::SqlPolicy;
using pgmcp::sql::Verdict;

namespace {

using namespace pgmcp::testing;

PolicyOptions options() {
  PolicyOptions o;
  o.blocked_tables = {"app.secrets"};
  o.blocked_columns = {"users.password", "staff.ssn"};
  return o;
}

// A range-table entry for a relation, with the attnums it reads.
std::string rte(uint32_t relid, char kind, std::vector<int> attnums, bool in_from = true) {
  std::string bits;
  for (int a : attnums) bits += " " + std::to_string(a + 7);
  return "{RANGETBLENTRY :alias <> :eref {ALIAS :aliasname t :colnames (\"a\")} :rtekind 0 "
         ":relid " +
         std::to_string(relid) + " :relkind " + std::string(1, kind) +
         " :rellockmode 1 :tablesample <> :lateral false :inh true :inFromCl " +
         (in_from ? "true" : "false") + " :requiredPerms 2 :checkAsUser 0 :selectedCols (b" + bits +
         ") :insertedCols (b) :updatedCols (b) :extraUpdatedCols (b) :securityQuals <>}";
}

std::string query(const std::string &rtable, const std::string &targets = "<>", int command = 1,
                  const std::string &extra = "") {
  // extra fields come first: the reader takes a field's first occurrence
  return "{QUERY " + extra + " :commandType " + std::to_string(command) +
         " :querySource 0 :canSetTag true :utilityStmt <> :resultRelation 0 :hasAggs false "
         ":hasModifyingCTE false :cteList <> :rtable " +
         rtable + " :jointree <> :targetList " + targets + " :rowMarks <>}";
}

std::string call(uint32_t funcid) {
  return "({TARGETENTRY :expr {FUNCEXPR :funcid " + std::to_string(funcid) +
         " :funcresulttype 1184 :funcretset false :funcvariadic false :funcformat 0 :funccollid "
         "0 :inputcollid 0 :args <> :location 7} :resno 1 :resname f :resjunk false})";
}

Verdict judge(const SqlPolicy &p, const std::string &tree, bool writes = false,
              const std::string &kind = "SelectStmt") {
  static auto c = policy_catalog();
  Verdict passed;
  passed.allowed = true;
  passed.writes = writes;
  passed.kind = kind;
  return p.judge(tree, passed, *c);
}

void expect(const SqlPolicy &p, const std::string &tree, const char *rule) {
  Verdict v = judge(p, tree);
  EXPECT_EQ(v.allowed ? "" : v.rule, rule) << tree << "\n  -> " << v.message;
  // metrics declare a series for every rule a refusal can name
  const auto &names = pgmcp::sql::rule_names();
  if (!v.allowed) {
    EXPECT_NE(std::find(names.begin(), names.end(), v.rule), names.end()) << v.rule;
  }
}

}  // namespace

TEST(SqlJudge, ColumnsAreReadByAttnumAsTheServerResolvedThem) {
  SqlPolicy p(options(), "shop");
  expect(p, "(" + query("(" + rte(kUsers, 'r', {1, 2}) + ")") + ")", "");
  expect(p, "(" + query("(" + rte(kUsers, 'r', {3}) + ")") + ")", "blocked_columns");
  // system columns (ctid is -1) are not data
  expect(p, "(" + query("(" + rte(kUsers, 'r', {-1, -3, 1}) + ")") + ")", "");
  // a whole-row reference reads every column
  Verdict v = judge(p, "(" + query("(" + rte(kUsers, 'r', {0}) + ")") + ")");
  EXPECT_EQ(v.rule, "blocked_columns");
  EXPECT_NE(v.message.find("whole-row"), std::string::npos) << v.message;
  // dropped columns keep their attnums: ssn is attnum 6, salary 5
  expect(p, "(" + query("(" + rte(kStaff, 'r', {1, 3, 5}) + ")") + ")", "");
  expect(p, "(" + query("(" + rte(kStaff, 'r', {6}) + ")") + ")", "blocked_columns");
}

TEST(SqlJudge, BlockedTablesHoldThroughInheritanceAndKinds) {
  SqlPolicy p(options(), "shop");
  expect(p, "(" + query("(" + rte(kSecrets, 'r', {1}) + ")") + ")", "blocked_tables");
  expect(p, "(" + query("(" + rte(kSecretsChild, 'r', {3}) + ")") + ")", "blocked_tables");
  expect(p, "(" + query("(" + rte(kForeign, 'f', {1}) + ")") + ")", "foreign_tables");
  expect(p, "(" + query("(" + rte(kToast, 't', {1}) + ")") + ")", "relations");
  Verdict v = judge(p, "(" + query("(" + rte(424242, 'r', {1}) + ")") + ")");
  EXPECT_EQ(v.rule, "relations");
  EXPECT_TRUE(v.unknown_object);  // the gate reloads a stale catalog once
  PolicyOptions o = options();
  o.allowed_tables = {"app.remote"};
  SqlPolicy lifted(o, "shop");
  expect(lifted, "(" + query("(" + rte(kForeign, 'f', {1}) + ")") + ")", "");
}

TEST(SqlJudge, EveryFunctionIsAllowListed) {
  SqlPolicy p(options(), "shop");
  expect(p, "(" + query("<>", call(kNow)) + ")", "");
  expect(p, "(" + query("<>", call(kSleep)) + ")", "deny_list");
  expect(p, "(" + query("<>", call(kUnknownBuiltin)) + ")", "functions");
  expect(p, "(" + query("<>", call(kUserFn)) + ")", "functions");
  expect(p, "(" + query("<>", call(31337)) + ")", "functions");  // not in the catalog
  // an operator calls its function; an aggregate its support functions; a
  // domain value its check
  expect(p, "(" + query("<>", "({TARGETENTRY :expr {OPEXPR :opno 16600 :opfuncid 0}})") + ")",
         "functions");
  PolicyOptions o = options();
  o.allowed_functions = {"app.agg", "app.f"};
  SqlPolicy some(o, "shop");
  expect(some, "(" + query("<>", call(kUserFn)) + ")", "");
  Verdict v = judge(some, "(" + query("<>", "({AGGREF :aggfnoid 16502 :aggtype 23})") + ")");
  EXPECT_EQ(v.rule, "functions");
  EXPECT_NE(v.message.find("app.g"), std::string::npos) << v.message;
  EXPECT_NE(v.message.find("called by aggregate app.agg"), std::string::npos) << v.message;
  o.allowed_functions = {"app.g"};
  SqlPolicy g_only(o, "shop");
  v = judge(g_only, "(" +
                        query("<>",
                              "({TARGETENTRY :expr {CONST :consttype 16700 "
                              ":constvalue 4 [ 5 0 0 0 0 0 0 0 ]}})") +
                        ")");
  EXPECT_EQ(v.rule, "functions");
  EXPECT_NE(v.message.find("app.f"), std::string::npos) << v.message;
  // a sort through an operator calls its class's comparison function
  std::string sort = "({TARGETENTRY :expr {SORTGROUPCLAUSE :tleSortGroupRef 1 :eqop 0 :sortop " +
                     std::to_string(kSortedOp) + " :nulls_first false :hashable false}})";
  v = judge(p, "(" + query("<>", sort) + ")");
  EXPECT_EQ(v.rule, "functions");
  EXPECT_NE(v.message.find("app.f is not on the allow-list (called by the sort or hash support of "
                           "an operator)"),
            std::string::npos)
      << v.message;
  // an array of a type compares its elements with the type's default class
  auto value_of = [](uint32_t type) {
    return "({TARGETENTRY :expr {CONST :consttype " + std::to_string(type) +
           " :constisnull true :constvalue <>}})";
  };
  expect(p, "(" + query("<>", value_of(kBaseType)) + ")", "");
  v = judge(p, "(" + query("<>", value_of(kBaseArray)) + ")");
  EXPECT_EQ(v.rule, "functions");
  EXPECT_NE(
      v.message.find("app.g is not on the allow-list (called by comparing values of type OID " +
                     std::to_string(kBaseType)),
      std::string::npos)
      << v.message;
  o.allowed_functions = {"app.*"};
  SqlPolicy schema(o, "shop");
  expect(schema, "(" + query("<>", value_of(kBaseArray)) + ")", "");
  expect(schema, "(" + query("<>", sort) + ")", "");
  expect(schema, "(" + query("<>", "({AGGREF :aggfnoid 16502 :aggtype 23})") + ")", "");
  // lifting a denied built-in runs it on a connection that is then closed
  o.allowed_functions = {"pg_sleep"};
  SqlPolicy sleepy(o, "shop");
  v = judge(sleepy, "(" + query("<>", call(kSleep)) + ")");
  EXPECT_TRUE(v.allowed && v.discard_connection) << v.message;
  o.blocked_functions = {"pg_sleep"};
  SqlPolicy blocked(o, "shop");
  expect(blocked, "(" + query("<>", call(kSleep)) + ")", "blocked_functions");
}

TEST(SqlJudge, WhatTheServerSeesAsAWriteOrALockIsRefused) {
  SqlPolicy p(options(), "shop");
  expect(p, "(" + query("<>", "<>", 3) + ")", "read_only");
  expect(p, "(" + query("<>", "<>", 1, ":hasModifyingCTE true") + ")", "read_only");
  std::string locking =
      "({QUERY :commandType 1 :utilityStmt <> :rtable <> :rowMarks "
      "({ROWMARKCLAUSE :rti 1 :strength 4 :waitPolicy 0 :pushedDown false})})";
  expect(p, locking, "read_only");
  std::string utility = "({QUERY :commandType 6 :utilityStmt ? :rtable <>})";
  expect(p, utility, "read_only");
  EXPECT_TRUE(judge(p, utility, false, "VariableShowStmt").allowed);
  EXPECT_TRUE(judge(p, "(" + query("<>", "<>", 3) + ")", true).allowed);
  // writes to a blocked column are refused too
  std::string update = rte(kUsers, 'r', {});
  update.replace(update.find(":updatedCols (b)"), 16, ":updatedCols (b 10)");
  Verdict v = judge(p, "(" + query("(" + update + ")", "<>", 2) + ")", true);
  EXPECT_EQ(v.rule, "blocked_columns") << v.message;
}

TEST(SqlJudge, CatalogViewsAreJudgedByColumnAndUserViewsByWhatTheyRead) {
  SqlPolicy p(options(), "shop");
  // SELECT state FROM pg_stat_activity, as the rewriter expands it: the view's
  // body calls pg_stat_get_activity, which is trusted inside the view only.
  auto expanded = [&](std::vector<int> attnums) {
    std::string body = query("(" + rte(kActivity, 'v', attnums, false) + ")", call(kActivityFn));
    return "(" + query("({RANGETBLENTRY :alias <> :rtekind 1 :subquery " + body + "})") + ")";
  };
  expect(p, expanded({17}), "");
  Verdict v = judge(p, expanded({21}));
  EXPECT_EQ(v.rule, "deny_list");
  EXPECT_NE(v.message.find("allowed_columns = pg_stat_activity.query"), std::string::npos)
      << v.message;
  expect(p, expanded({0}), "deny_list");
  expect(p, "(" + query("<>", call(kActivityFn)) + ")", "deny_list");  // called directly
  PolicyOptions o = options();
  o.allowed_columns = {"pg_stat_activity.query"};
  SqlPolicy lifted(o, "shop");
  expect(lifted, expanded({21}), "");
  // a user view is walked whole, and the refusal names it
  std::string body =
      query("(" + rte(kUserView, 'v', {1, 2}, false) + " " + rte(kUsers, 'r', {1, 3}) + ")");
  v = judge(p, "(" + query("({RANGETBLENTRY :alias <> :rtekind 1 :subquery " + body + "})") + ")");
  EXPECT_EQ(v.rule, "blocked_columns");
  EXPECT_NE(v.message.find("read through view app.user_logins"), std::string::npos) << v.message;
}

namespace {

// current_setting(<arg>) in a target list; the argument in node text.
std::string setting_call(const std::string &arg) {
  return "({TARGETENTRY :expr {FUNCEXPR :funcid " + std::to_string(kCurrentSetting) +
         " :funcresulttype 25 :funcretset false :funcvariadic false :funcformat 0 :funccollid 100 "
         ":inputcollid 100 :args (" +
         arg + ") :location 7} :resno 1 :resname current_setting :resjunk false})";
}

// A text constant as the server prints it: the datum's bytes, 4-byte
// varlena header first (little-endian, length << 2), with a line break
// where the server breaks long lines.
std::string text_const(const std::string &value, bool big_endian = false) {
  uint32_t total = static_cast<uint32_t>(value.size() + 4);
  std::string bytes;
  if (big_endian)
    bytes = "0 0 0 " + std::to_string(total);
  else
    bytes = std::to_string((total << 2) & 0xFF) + " " + std::to_string((total << 2) >> 8) + " 0 0";
  for (size_t i = 0; i < value.size(); ++i)
    bytes += (i == 3 ? "\n" : " ") + std::to_string(static_cast<signed char>(value[i]));
  return "{CONST :consttype 25 :consttypmod -1 :constcollid 100 :constlen -1 :constbyval false "
         ":constisnull false :location 23 :constvalue " +
         std::to_string(total) + " [ " + bytes + " ]}";
}

}  // namespace

TEST(SqlJudge, SettingsAreReadByConstantNameAndNeverTheOnesThatHoldSecrets) {
  SqlPolicy p(options(), "shop");
  auto one = [&](const std::string &arg) { return "(" + query("<>", setting_call(arg)) + ")"; };
  expect(p, one(text_const("search_path")), "");
  expect(p, one(text_const("TimeZone") + " {CONST :consttype 16 :constisnull false}"), "");
  expect(p, one(text_const("work_mem", true)), "");  // a big-endian server
  Verdict v = judge(p, one(text_const("app.jwt_secret")));
  EXPECT_EQ(v.rule, "secret_settings");
  EXPECT_NE(v.message.find("allowed_settings = app.jwt_secret"), std::string::npos) << v.message;
  expect(p, one(text_const("APP.Jwt_Secret", true)), "secret_settings");
  expect(p, one(text_const("primary_conninfo")), "secret_settings");
  expect(p, one(text_const("Restore_Command")), "secret_settings");
  // a name computed while the statement runs, a cast, a parameter, nothing
  expect(p, one("{VAR :varno 1 :varattno 1 :vartype 25}"), "secret_settings");
  expect(p, one("{FUNCEXPR :funcid 1299 :args (" + text_const("x") + ")}"), "secret_settings");
  expect(p, one("{PARAM :paramkind 0 :paramid 1 :paramtype 25}"), "secret_settings");
  expect(p, one(""), "secret_settings");
  // bytes that do not add up to the length printed, or a compressed datum
  std::string bad = text_const("app.x");
  bad.replace(bad.find("[ ") + 2, 2, "99");
  expect(p, one(bad), "secret_settings");
  expect(p, one("{CONST :consttype 25 :constisnull false :constvalue 5 [ 2 0 0 0 97 ]}"),
         "secret_settings");
  // the operator may name settings to allow, or a prefix
  PolicyOptions o = options();
  o.allowed_settings = {"app.*", "primary_conninfo"};
  SqlPolicy lifted(o, "shop");
  expect(lifted, one(text_const("App.Jwt_Secret")), "");
  expect(lifted, one(text_const("primary_conninfo")), "");
  expect(lifted, one(text_const("archive_command")), "secret_settings");
  expect(lifted, one(text_const("application.x")), "secret_settings");
  // the operator's own code: a view's body and a row security policy
  std::string in_view =
      query("(" + rte(kUserView, 'v', {1}, false) + ")", setting_call(text_const("app.tenant")));
  expect(p, "(" + query("({RANGETBLENTRY :alias <> :rtekind 1 :subquery " + in_view + "})") + ")",
         "");
  std::string policy = rte(kUsers, 'r', {1});
  policy.replace(policy.find(":securityQuals <>"), 17,
                 ":securityQuals ((" + setting_call(text_const("app.tenant")) + "))");
  expect(p, "(" + query("(" + policy + ")") + ")", "");
  // ... but not a subquery of the statement's own
  std::string sub = query("<>", setting_call(text_const("app.tenant")));
  expect(p, "(" + query("({RANGETBLENTRY :alias <> :rtekind 1 :subquery " + sub + "})") + ")",
         "secret_settings");
}

TEST(SqlJudge, DdlIsJudgedByEveryObjectOfTheNamesItUses) {
  SqlPolicy p(options(), "shop");
  const std::string utility = "({QUERY :commandType 6 :utilityStmt ? :rtable <>})";
  auto ddl = [&](auto fill) {
    static auto c = policy_catalog();
    Verdict passed;
    passed.allowed = true;
    passed.writes = true;
    passed.kind = "AlterTableStmt";
    fill(passed);
    return p.judge(utility, passed, *c);
  };
  using Named = Verdict::Named;
  // nothing named: table DDL of built-ins passes
  EXPECT_TRUE(ddl([](Verdict &d) { d.ddl_functions = {{"", "now"}}; }).allowed);
  // a function by name, qualified or not
  Verdict v = ddl([](Verdict &d) { d.ddl_functions = {Named{"", "f"}}; });
  EXPECT_EQ(v.rule, "functions");
  EXPECT_NE(v.message.find("named in DDL as f"), std::string::npos) << v.message;
  EXPECT_EQ(ddl([](Verdict &d) { d.ddl_functions = {{"app", "f"}}; }).rule, "functions");
  EXPECT_TRUE(ddl([](Verdict &d) { d.ddl_functions = {{"geo", "f"}}; }).allowed);  // none there
  EXPECT_EQ(ddl([](Verdict &d) { d.ddl_functions = {{"", "pg_sleep"}}; }).rule, "deny_list");
  // a relation refused whole, or in part
  v = ddl([](Verdict &d) { d.ddl_relations = {{"", "users"}}; });
  EXPECT_EQ(v.rule, "blocked_columns");
  EXPECT_NE(v.message.find("DDL names app.users"), std::string::npos) << v.message;
  EXPECT_EQ(ddl([](Verdict &d) {
              d.ddl_relations = {{"app", "secrets_archive"}};
            }).rule,
            "blocked_tables");
  EXPECT_TRUE(ddl([](Verdict &d) { d.ddl_relations = {{"other", "users"}}; }).allowed);
  // the judge reads the catalog's names for operators and types
  auto c = policy_catalog();
  c->facts.operator_names[kUserOp] = {"app", "==="};
  c->facts.type_names[kDomain] = {"app", "ok_int"};
  Verdict passed;
  passed.allowed = passed.writes = true;
  passed.kind = "CreateStmt";
  passed.ddl_operators = {{"", "==="}};
  EXPECT_EQ(p.judge(utility, passed, *c).rule, "functions");  // app.g behind it
  passed.ddl_operators = {};
  passed.ddl_types = {{"app", "ok_int"}};
  EXPECT_EQ(p.judge(utility, passed, *c).rule, "functions");  // app.f checks its values
  // an operator on a type the DDL does not show cannot apply to its values
  c->facts.operator_operands[kUserOp] = {kBaseType, kBaseType};
  c->facts.type_names[kBaseType] = {"app", "base"};
  passed.ddl_types = {};
  passed.ddl_operators = {{"", "==="}};
  EXPECT_TRUE(p.judge(utility, passed, *c).allowed);
  passed.ddl_types = {{"", "base"}};  // shown: named as a column's type
  EXPECT_EQ(p.judge(utility, passed, *c).rule, "functions");
  passed.ddl_types = {};
  c->facts.type_names[16999] = {"app", "t"};  // a relation's row type, with a column of it
  c->facts.type_types[16999] = {kBaseType};
  passed.ddl_relations = {{"app", "t"}};
  EXPECT_EQ(p.judge(utility, passed, *c).rule, "functions");
  // a cast to a column's new type, and an index's operator class, call theirs
  passed = Verdict{};
  passed.allowed = passed.writes = true;
  passed.kind = "AlterTableStmt";
  c->facts.casts = {{"app", "base", {kUserFn}}};
  c->facts.operator_classes = {{"app", "base_ops", {kNow, kUserFn2}}};
  passed.ddl_types = {{"", "base"}};
  v = p.judge(utility, passed, *c);
  EXPECT_NE(v.message.find("app.f is not on the allow-list (called by a cast to app.base)"),
            std::string::npos)
      << v.message;
  passed.ddl_types = {};
  passed.ddl_operator_classes = {{"app", "base_ops"}};
  v = p.judge(utility, passed, *c);
  EXPECT_NE(
      v.message.find("app.g is not on the allow-list (called by operator class app.base_ops)"),
      std::string::npos)
      << v.message;
  passed.ddl_operator_classes = {{"", "text_pattern_ops"}};  // shipped: not in the facts
  EXPECT_TRUE(p.judge(utility, passed, *c).allowed);
}

TEST(SqlJudge, MalformedOrSurprisingTreesAreRefused) {
  SqlPolicy p(options(), "shop");
  for (const char *bad : {"", "(", "({QUERY :commandType 1}", "({QUERY} {QUERY})", "garbage",
                          "({QUERY :commandType 1 :rtable ({RANGETBLENTRY :rtekind 0})})"}) {
    Verdict v = judge(p, bad);
    EXPECT_FALSE(v.allowed) << bad;
  }
  // two queries (a rule's rewrite) are refused as such
  std::string two = "(" + query("<>") + " " + query("<>") + ")";
  EXPECT_EQ(judge(p, two).rule, "analysis");
}

TEST(QueryTree, ReadsTheServersNodeTextWithoutRecursing) {
  QueryTree t("({QUERY :a 1 :b \"x\\\" y\" :c (b 8 9) :d <> :e 4 [ 1 0 0 0 ] :f a\\ b})");
  const auto &q = t.at(t.kids(t.root())[0]);
  EXPECT_EQ(q.text, "QUERY");
  EXPECT_EQ(QueryTree::number(*t.field(q, "a")), 1);
  EXPECT_EQ(t.field(q, "c")->count, 3u);
  EXPECT_EQ(t.field(q, "d")->kind, QueryTree::Item::kNull);
  EXPECT_EQ(QueryTree::number(*t.field(q, "e")), 4);  // a datum's length, then its bytes
  EXPECT_EQ(t.field(q, "missing"), nullptr);
  // 200,000 nested lists: no recursion, no stack to exhaust
  std::string deep = std::string(200000, '(') + std::string(200000, ')');
  EXPECT_NO_THROW(QueryTree{deep});
  EXPECT_THROW(QueryTree("(1 2", 100), std::invalid_argument);
  EXPECT_THROW(QueryTree(std::string(1000, '('), 100), std::invalid_argument);  // too many items
}

TEST(SqlJudge, ConcurrentJudgementsAcrossACatalogReloadAgree) {
  SqlPolicy p(options(), "shop");
  auto first = policy_catalog();
  auto second = policy_catalog();  // a reload: the memo starts over
  std::string good = "(" + query("(" + rte(kUsers, 'r', {1, 2}) + ")") + ")";
  std::string bad = "(" + query("(" + rte(kUsers, 'r', {3}) + ")") + ")";
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Verdict passed;
      passed.allowed = true;
      for (int i = 0; i < 200; ++i) {
        const auto &c = (i + t) % 2 == 0 ? *first : *second;
        if (!p.judge(good, passed, c).allowed) ++wrong;
        if (p.judge(bad, passed, c).rule != "blocked_columns") ++wrong;
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}
