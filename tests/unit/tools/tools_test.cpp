// Each tool and the schema resources, over a database whose driver speaks the
// real C table: arguments, the catalog they read, and what is refused before
// anything reaches the database.
#include "tools/tools.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "fake_plugins.hpp"
#include "tools/common.hpp"

using pgmcp::json;
using pgmcp::mcp::ToolError;
using pgmcp::mcp::ToolResult;
using namespace pgmcp::testing;

namespace {

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    driver.schema = {
        object(PGMCP_OBJECT_SCHEMA, nullptr, "app"),
        object(PGMCP_OBJECT_SCHEMA, nullptr, "audit"),
        object(PGMCP_OBJECT_TABLE, "app", "orders"),
        object(PGMCP_OBJECT_COLUMN, "app", "id", "orders", "integer"),
        object(PGMCP_OBJECT_COLUMN, "app", "customer_id", "orders", "integer"),
        object(PGMCP_OBJECT_TABLE, "app", "customers"),
        object(PGMCP_OBJECT_COLUMN, "app", "id", "customers", "integer"),
        object(PGMCP_OBJECT_TABLE, "app", "Order Items"),
        object(PGMCP_OBJECT_COLUMN, "app", "qty", "Order Items", "integer"),
        object(PGMCP_OBJECT_TABLE, "audit", "orders"),
        object(PGMCP_OBJECT_VIEW, "app", "big_orders"),
    };
    pgmcp_schema_object fk =
        object(PGMCP_OBJECT_CONSTRAINT, "app", "orders_customer_fk", "orders", "foreign_key");
    static const char *fk_cols[] = {"customer_id"};
    static const char *ref_cols[] = {"id"};
    fk.columns = fk_cols;
    fk.column_count = 1;
    fk.ref_schema = "app";
    fk.ref_table = "customers";
    fk.ref_columns = ref_cols;
    fk.ref_column_count = 1;
    driver.schema.push_back(fk);
    auto spec = FakeDriver::spec("main");
    spec.description = "the shop";
    auto db = std::make_shared<pgmcp::db::Database>(spec, driver.instance("main"), nullptr);
    auto cache = std::make_shared<pgmcp::db::SchemaCache>(*db);
    auto policy =
        std::make_shared<pgmcp::sql::SqlPolicy>(pgmcp::sql::policy_options(spec.database), "main");
    dbs = std::make_shared<pgmcp::pipeline::Databases>();
    dbs->entries.push_back({db, cache, policy});
  }

  // Runs a tool's handler; a ToolError becomes its message.
  json call(const pgmcp::mcp::Tool &tool, json args, std::string *error = nullptr) {
    try {
      ToolResult r = tool.handler(args, ctx);
      if (r.is_error) {
        if (error != nullptr) *error = r.content[0]["text"].get<std::string>();
        return nullptr;
      }
      if (!r.structured) return nullptr;
      return r.structured->is_text() ? json::parse(r.structured->text().view())
                                     : r.structured->value();
    } catch (const ToolError &e) {
      if (error != nullptr) *error = e.what();
      return nullptr;
    }
  }

  FakeDriver driver;
  std::shared_ptr<pgmcp::pipeline::Databases> dbs;
  FakeContext ctx;
};

}  // namespace

TEST_F(ToolsTest, ListDatabasesNamesEachWithItsDescription) {
  pgmcp::config::Settings s;
  auto spec = FakeDriver::spec("main");
  spec.description = "the shop";
  s.databases.push_back(spec);
  json out = call(pgmcp::tools::list_databases_tool(s), json::object());
  EXPECT_EQ(out["databases"],
            json::parse(R"([{"name":"main","description":"the shop","read_only":true}])"));
}

TEST_F(ToolsTest, DescribeTableFindsTablesAndSaysWhatIsNear) {
  auto tool = pgmcp::tools::describe_table_tool(dbs);
  json orders = call(tool, {{"table", "app.orders"}});
  EXPECT_EQ(orders["columns"].size(), 2u);
  EXPECT_EQ(orders["foreign_keys"][0]["references"]["table"], "customers");
  json customers = call(tool, {{"table", "customers"}});
  EXPECT_EQ(customers["referenced_by"][0]["table"], "orders") << customers.dump();
  json quoted = call(tool, {{"table", R"(app."Order Items")"}});
  EXPECT_EQ(quoted["name"], "Order Items");
  std::string error;
  call(tool, {{"table", "orders"}}, &error);
  EXPECT_NE(error.find("several schemas"), std::string::npos) << error;
  EXPECT_NE(error.find("audit.orders"), std::string::npos) << error;
  call(tool, {{"table", "ordrs"}}, &error);
  EXPECT_NE(error.find("no table or view 'ordrs'"), std::string::npos) << error;
  call(tool, {{"table", "x"}, {"database", "elsewhere"}}, &error);
  EXPECT_NE(error.find("unknown database 'elsewhere'; configured: main"), std::string::npos);
  call(tool, {{"table", "\"open"}}, &error);
  EXPECT_NE(error.find("unterminated quote"), std::string::npos) << error;
  EXPECT_EQ(driver.statements.size(), 1u) << "only the catalog's facts were read, once";
}

TEST_F(ToolsTest, SearchObjectsMatchesSubstringsAndLikePatternsAndPages) {
  auto tool = pgmcp::tools::search_objects_tool(dbs);
  json all = call(tool, {{"pattern", "order"}});
  EXPECT_EQ(all["objects"],
            json::parse(R"(["app.orders","app.Order Items","audit.orders","app.big_orders"])"))
      << all.dump();
  json views = call(tool, {{"pattern", "order"}, {"kind", "view"}});
  EXPECT_EQ(views["objects"], json::parse(R"(["app.big_orders"])"));
  json columns = call(tool, {{"pattern", "%_id"}, {"kind", "column"}});
  EXPECT_EQ(columns["objects"], json::parse(R"(["app.orders.customer_id"])"));
  json first = call(tool, {{"pattern", "o"}, {"limit", 2}});
  ASSERT_TRUE(first.contains("next_cursor"));
  json second = call(tool, {{"pattern", "o"}, {"limit", 2}, {"cursor", first["next_cursor"]}});
  EXPECT_NE(first["objects"][0], second["objects"][0]);
  std::string error;
  call(tool, {{"cursor", "not-a-cursor"}}, &error);
  EXPECT_NE(error.find("next_cursor"), std::string::npos);
}

TEST_F(ToolsTest, ExecuteSqlRefusesWhatThePolicyRefusesBeforeTheDatabaseSeesIt) {
  auto tool = pgmcp::tools::execute_sql_tool(dbs);
  EXPECT_TRUE(tool.annotations.read_only);
  std::string error;
  call(tool, {{"sql", "DELETE FROM app.orders"}}, &error);
  EXPECT_NE(error.find("nothing was run"), std::string::npos) << error;
  call(tool, {{"sql", "SELECT 1; SELECT 2"}}, &error);
  EXPECT_NE(error.find("nothing was run"), std::string::npos) << error;
  call(tool, {{"sql", "SELECT 1"}, {"max_rows", 0}}, &error);
  EXPECT_NE(error.find("max_rows = 0"), std::string::npos) << error;
  call(tool, {{"sql", "SELECT 1"}, {"max_rows", -5}}, &error);
  EXPECT_NE(error.find("nothing was run"), std::string::npos) << error;
  for (const auto &sql : driver.statements)
    EXPECT_EQ(sql.find("DELETE"), std::string::npos) << "reached the driver: " << sql;
}

TEST_F(ToolsTest, ExplainAnalyzeIsOffUnlessAllowed) {
  auto tool = pgmcp::tools::explain_query_tool(dbs);
  std::string error;
  call(tool, {{"sql", "SELECT 1"}, {"analyze", true}}, &error);
  EXPECT_NE(error.find("allow_explain_analyze = true"), std::string::npos) << error;
  EXPECT_EQ(driver.executes.load(), 0);
}

TEST_F(ToolsTest, TheSchemaResourcesListReadAndComplete) {
  auto res = pgmcp::tools::database_resources(dbs);
  auto list = res->list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["uri"], "pgmcp://main/schema");
  auto schema = res->read("pgmcp://main/schema", ctx);
  ASSERT_TRUE(schema);
  json body = json::parse((*schema)[0]["text"].get<std::string>());
  EXPECT_EQ(body["schemas"][0]["name"], "app");
  EXPECT_EQ(body["schemas"][0]["tables"].size(), 4u);
  auto table = res->read("pgmcp://main/table/app/orders", ctx);
  ASSERT_TRUE(table);
  EXPECT_EQ(json::parse((*table)[0]["text"].get<std::string>())["columns"].size(), 2u);
  EXPECT_FALSE(res->read("pgmcp://main/table/app/nothing", ctx));
  // What a client's URI-template expansion sends for a quoted, mixed-case name.
  auto spaced = res->read("pgmcp://main/table/app/Order%20Items", ctx);
  ASSERT_TRUE(spaced) << "a percent-encoded name is decoded";
  EXPECT_EQ(json::parse((*spaced)[0]["text"].get<std::string>())["name"], "Order Items");
  EXPECT_TRUE(res->read("pgmcp://%6Dain/table/%61pp/orders", ctx));
  EXPECT_FALSE(res->read("pgmcp://main/table/app/Order%2", ctx));
  EXPECT_FALSE(res->read("pgmcp://main/table/app/Order%zzItems", ctx));
  EXPECT_FALSE(res->read("pgmcp://other/schema", ctx));
  EXPECT_FALSE(res->read("https://main/schema", ctx));
  auto templates = res->templates();
  ASSERT_EQ(templates.size(), 1u);
  auto &t = templates[0];
  EXPECT_EQ(t.complete.at("database")("m", json::object()), std::vector<std::string>{"main"});
  EXPECT_EQ(t.complete.at("schema")("au", json::object()), std::vector<std::string>{"audit"});
  EXPECT_EQ(t.complete.at("table")("cust", {{"schema", "app"}}),
            std::vector<std::string>{"customers"});
}

TEST_F(ToolsTest, TheQueryToolReportsEveryAttemptWhenNoWorkingSqlCame) {
  FakeLlm llm;
  llm.answer = [](const std::string &, const pgmcp_llm_request &) {
    return FakeLlm::Reply{PGMCP_OK, "I would rather not say.", "", -1};
  };
  pgmcp::config::QueryToolSettings settings;
  settings.max_attempts = 2;
  auto client = std::make_shared<pgmcp::llm::Client>("fake", llm.instance(), nullptr,
                                                     pgmcp::config::LlmOptions{});
  auto metrics = std::make_shared<pgmcp::observability::Metrics>();
  auto tool = pgmcp::tools::query_tool(dbs, client, settings, metrics);
  ToolResult r = tool.handler({{"question", "how many orders?"}}, ctx);
  ASSERT_TRUE(r.is_error);
  std::string text = r.content[0]["text"];
  EXPECT_NE(text.find("no working SQL after 2 attempts"), std::string::npos) << text;
  EXPECT_NE(text.find("no_sql"), std::string::npos) << text;
  EXPECT_EQ(llm.calls.load(), 2);
  EXPECT_FALSE(ctx.stages.empty()) << "progress was reported";
  EXPECT_NE(metrics->text().find("pg_mcp_query_attempts"), std::string::npos);
  std::string error;
  call(tool, {{"question", "   "}}, &error);
  EXPECT_NE(error.find("the question is empty"), std::string::npos) << error;
  EXPECT_EQ(llm.calls.load(), 2) << "an empty question costs no LLM call";
}

// Some clients hand tool schemas to models whose schema dialects are small
// (one type per schema, no combinators, no references): every input schema
// keeps to what they all express.
TEST_F(ToolsTest, InputSchemasKeepToWhatEveryClientDialectExpresses) {
  pgmcp::mcp::Registry registry;
  pgmcp::tools::add_database_tools(registry, dbs);
  pgmcp::config::Settings s;
  registry.add_tool(pgmcp::tools::list_databases_tool(s));
  const std::set<std::string> allowed = {
      "type",    "properties", "required",  "items",     "enum",    "description",
      "minimum", "maximum",    "minLength", "maxLength", "default", "additionalProperties"};
  std::function<void(const json &, const std::string &)> check = [&](const json &schema,
                                                                     const std::string &where) {
    ASSERT_TRUE(schema.is_object()) << where;
    for (const auto &[key, value] : schema.items()) {
      EXPECT_TRUE(allowed.count(key)) << where << ": keyword " << key;
      if (key == "type") {
        EXPECT_TRUE(value.is_string()) << where << ": a type array";
      }
    }
    if (auto p = schema.find("properties"); p != schema.end())
      for (const auto &[name, sub] : p->items()) check(sub, where + "." + name);
    if (auto i = schema.find("items"); i != schema.end()) check(*i, where + "[]");
  };
  int tools = 0;
  for (const auto &tool : registry.tools()) {
    check(tool.input_schema, tool.name);
    ++tools;
  }
  EXPECT_GE(tools, 5);
}
