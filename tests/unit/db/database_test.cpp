// A database as the host runs it, over a driver that speaks the real C table:
// rows as JSON within the limits, the pool, the drain, the driver's errors,
// and the schema cache read from describe_schema and the facts query.
#include "db/database.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "db/schema.hpp"
#include "fake_plugins.hpp"
#include "observability/metrics.hpp"

using namespace std::chrono_literals;
using pgmcp::json;
using pgmcp::db::Database;
using pgmcp::db::DbError;
using pgmcp::testing::FakeDriver;
using pgmcp::testing::FakeResult;

namespace {

FakeResult table_of(int rows) {
  FakeResult r;
  r.columns = {{"id", "int4"}, {"name", "text"}, {"ok", "bool"}};
  for (int i = 1; i <= rows; ++i)
    r.rows.push_back({std::to_string(i), "n" + std::to_string(i), std::nullopt});
  return r;
}

}  // namespace

TEST(Database, RowsArriveAsJsonWithTheirTypesAndTheStatementsAroundThem) {
  FakeDriver driver;
  driver.answer = [](const std::string &) { return table_of(2); };
  pgmcp::observability::Metrics metrics;
  auto spec = FakeDriver::spec();
  spec.database.statement_timeout_ms = 1234;
  Database db(spec, driver.instance(), nullptr, &metrics);
  auto r = db.internal("SELECT x", {100, 1 << 20});
  EXPECT_EQ(json::parse(r.rows_json), json::parse(R"([[1,"n1",null],[2,"n2",null]])"));
  EXPECT_EQ(r.row_count, 2);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.columns[0], (json{{"name", "id"}, {"type", "int4"}}));
  EXPECT_EQ(driver.statements.back(), "SELECT x");
}

TEST(Database, TheRowAndByteLimitsCutTheResultAndSaySo) {
  FakeDriver driver;
  driver.answer = [](const std::string &) { return table_of(50); };
  Database db(FakeDriver::spec(), driver.instance(), nullptr);
  auto by_rows = db.internal("SELECT", {10, 1 << 20});
  EXPECT_EQ(by_rows.row_count, 10);
  EXPECT_TRUE(by_rows.truncated);
  EXPECT_EQ(by_rows.truncated_by, "max_rows");
  EXPECT_EQ(json::parse(by_rows.rows_json).size(), 10u);
  auto by_bytes = db.internal("SELECT", {1000, 64});
  EXPECT_TRUE(by_bytes.truncated);
  EXPECT_EQ(by_bytes.truncated_by, "max_result_bytes");
  EXPECT_LE(by_bytes.rows_json.size(), 64u);
  EXPECT_NO_THROW(json::parse(by_bytes.rows_json)) << "a cut result is still valid JSON";
}

TEST(Database, RowsCanBeReadAsTextWithoutJsonBetween) {
  FakeDriver driver;
  driver.answer = [](const std::string &) { return table_of(3); };
  Database db(FakeDriver::spec(), driver.instance(), nullptr);
  std::vector<std::string> names;
  int nulls = 0;
  auto r = db.internal("SELECT", {100, 1 << 20}, [&](const pgmcp::db::RowText &row) {
    names.emplace_back(*row[1]);
    nulls += row[2] ? 0 : 1;
  });
  EXPECT_EQ(names, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(nulls, 3);
  EXPECT_EQ(r.rows_json, "[]");
  EXPECT_EQ(r.row_count, 3);
}

TEST(Database, ADriverErrorKeepsTheServersDetails) {
  FakeDriver driver;
  driver.answer = [](const std::string &) {
    FakeResult r;
    r.status = PGMCP_ERR_REMOTE;
    r.error = "column \"nme\" does not exist";
    r.fields = {{"sqlstate", "42703"}, {"hint", "Perhaps you meant \"name\"."}, {"position", "8"}};
    return r;
  };
  Database db(FakeDriver::spec(), driver.instance(), nullptr);
  try {
    db.internal("SELECT nme FROM t", {10, 1024});
    FAIL() << "no error";
  } catch (const DbError &e) {
    EXPECT_EQ(e.status, PGMCP_ERR_REMOTE);
    EXPECT_EQ(e.sqlstate, "42703");
    std::string d = e.describe();
    EXPECT_NE(d.find("42703"), std::string::npos) << d;
    EXPECT_NE(d.find("Perhaps you meant"), std::string::npos) << d;
  }
}

TEST(Database, AFullPoolRefusesAfterTheAcquireTimeoutAndRecovers) {
  FakeDriver driver;
  auto spec = FakeDriver::spec();
  spec.database.pool_max = 1;
  spec.database.acquire_timeout_ms = 100;
  Database db(spec, driver.instance(), nullptr);
  driver.hang = true;
  auto busy = std::async(std::launch::async, [&] {
    try {
      db.internal("SELECT slow", {10, 1024});
      return std::string("finished");
    } catch (const DbError &e) {
      return std::string(e.what());
    }
  });
  for (int i = 0; i < 200 && db.running() == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(db.running(), 1);
  auto start = std::chrono::steady_clock::now();
  try {
    db.internal("SELECT other", {10, 1024});
    FAIL() << "a second statement ran on a pool of one";
  } catch (const DbError &e) {
    EXPECT_EQ(e.status, PGMCP_ERR_UNAVAILABLE) << e.what();
    EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
  }
  driver.release();
  EXPECT_EQ(busy.get(), "finished");
  EXPECT_NO_THROW(db.internal("SELECT again", {10, 1024}));
  EXPECT_EQ(db.stats().max, 1);
}

TEST(Database, ADrainCancelsWhatRunsAndTellsItsCallerWhy) {
  FakeDriver driver;
  Database db(FakeDriver::spec(), driver.instance(), nullptr);
  driver.hang = true;
  auto running = std::async(std::launch::async, [&]() -> std::string {
    try {
      db.internal("SELECT forever", {10, 1024});
      return "finished";
    } catch (const DbError &e) {
      return e.what();
    }
  });
  for (int i = 0; i < 200 && db.running() == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(db.running(), 1);
  db.begin_drain();
  db.cancel_running();
  std::string outcome = running.get();
  EXPECT_NE(outcome.find("shutting down"), std::string::npos) << outcome;
  EXPECT_EQ(driver.cancels.load(), 1);
  EXPECT_EQ(db.running(), 0);
  // The connection it ran on goes back to the pool and serves the host's own
  // reads (client statements are refused at admission: integration tests).
  driver.release();
  EXPECT_NO_THROW(db.internal("SELECT after", {10, 1024}));
}

TEST(SchemaCache, TheCatalogComesFromDescribeAndTheFactsRowsOnce) {
  using namespace pgmcp::testing;
  FakeDriver driver;
  driver.schema = {object(PGMCP_OBJECT_SCHEMA, nullptr, "app"),
                   object(PGMCP_OBJECT_TABLE, "app", "orders"),
                   object(PGMCP_OBJECT_COLUMN, "app", "id", "orders", "integer"),
                   object(PGMCP_OBJECT_COLUMN, "app", "total", "orders", "numeric"),
                   object(PGMCP_OBJECT_TABLE, "app", "orders_2024"),
                   object(PGMCP_OBJECT_COLUMN, "app", "id", "missing_table", "integer")};
  driver.answer = [](const std::string &sql) {
    FakeResult r;
    if (sql != pgmcp::db::policy_facts_sql()) return r;
    r.columns = {{"kind", "text"}, {"a", "text"}, {"b", "text"}, {"c", "text"},
                 {"d", "text"},    {"e", "text"}, {"f", "text"}};
    r.rows = {{"r", "16400", "app", "orders", "r", "", R"(["id","total"])"},
              {"r", "16401", "app", "orders_2024", "r", "", R"(["id","total"])"},
              {"i", "16401", "16400", std::nullopt, std::nullopt, std::nullopt, std::nullopt},
              {"f", "1299", "pg_catalog", "now", "true", "", std::nullopt}};
    return r;
  };
  Database db(FakeDriver::spec(), driver.instance(), nullptr);
  pgmcp::db::SchemaCache cache(db);
  auto c = cache.get();
  ASSERT_EQ(c->relations.size(), 2u);
  const auto *orders = c->find("app", "orders");
  ASSERT_NE(orders, nullptr);
  ASSERT_EQ(orders->columns.size(), 2u);
  EXPECT_EQ(orders->columns[1].type, "numeric");
  const auto &facts = c->facts;
  ASSERT_EQ(facts.relations.count(16401), 1u);
  EXPECT_EQ(facts.relations.at(16401).parents, std::vector<uint32_t>{16400});
  EXPECT_EQ(facts.relations.at(16400).children, std::vector<uint32_t>{16401});
  EXPECT_EQ(facts.relations.at(16400).columns, (std::vector<std::string>{"id", "total"}));
  EXPECT_EQ(facts.functions.at(1299).name, "now");
  EXPECT_EQ(cache.get(), c) << "a fresh catalog is not loaded again";
  EXPECT_FALSE(cache.refresh()) << "the same objects: no change reported";
}

TEST(SchemaCache, AnIndexIsUniqueByItsOwnFieldOrByWhatOlderDriversSaid) {
  using namespace pgmcp::testing;
  FakeDriver driver;
  pgmcp_schema_object current = object(PGMCP_OBJECT_INDEX, "app", "orders_pk", "orders", "btree");
  current.unique = 1;  // ABI 1.2
  pgmcp_schema_object older = object(PGMCP_OBJECT_INDEX, "app", "orders_code", "orders", "btree");
  older.struct_size = offsetof(pgmcp_schema_object, unique);  // a 1.1 driver's object
  older.not_null = 1;
  pgmcp_schema_object plain = object(PGMCP_OBJECT_INDEX, "app", "orders_day", "orders", "btree");
  plain.not_null = 1;  // a 1.2 driver that left unique at 0: not unique
  driver.schema = {object(PGMCP_OBJECT_TABLE, "app", "orders"), current, older, plain};
  Database db(FakeDriver::spec(), driver.instance(), nullptr);
  pgmcp::db::SchemaCache cache(db);
  const auto *orders = cache.get()->find("app", "orders");
  ASSERT_NE(orders, nullptr);
  ASSERT_EQ(orders->indexes.size(), 3u);
  EXPECT_TRUE(orders->indexes[0].unique);
  EXPECT_TRUE(orders->indexes[1].unique);
  EXPECT_FALSE(orders->indexes[2].unique);
}

TEST(Database, AnErrorReadsAsSentencesWithOneFullStopBetweenThem) {
  DbError e(PGMCP_ERR_REMOTE, "operator does not exist: integer = text");
  e.sqlstate = "42883";
  e.position = "31";
  e.detail = "Nothing matched.";
  e.hint =
      "No operator matches the given name and argument types. You might need to add explicit "
      "type casts.";
  std::string s = e.describe();
  EXPECT_EQ(s,
            "ERROR 42883: operator does not exist: integer = text (at character 31). DETAIL: "
            "Nothing matched. HINT: No operator matches the given name and argument types. You "
            "might need to add explicit type casts.");
  EXPECT_EQ(s.find(".."), std::string::npos);
}
