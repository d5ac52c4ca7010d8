// The query pipeline's pure parts: finding the SQL in a model's answer, the
// schema context under a token budget, and the sealed request state.
#include <gtest/gtest.h>

#include "catalog_builder.hpp"
#include "mcp/request_state.hpp"
#include "pipeline/query.hpp"

using pgmcp::json;
using pgmcp::pipeline::extract_sql;
using pgmcp::pipeline::schema_context;

TEST(ExtractSql, EveryShapeAModelAnswersIn) {
  std::string why;
  EXPECT_EQ(extract_sql(R"({"sql": "SELECT 1;", "explanation": "one"})", &why), "SELECT 1");
  EXPECT_EQ(why, "one");
  EXPECT_EQ(extract_sql("Here you go:\n{\"sql\": \"SELECT 2\"}\nEnjoy."), "SELECT 2");
  EXPECT_EQ(extract_sql("```sql\nSELECT a\nFROM t;\n```\nThis lists a."), "SELECT a\nFROM t");
  EXPECT_EQ(extract_sql("```\nWITH x AS (SELECT 1) SELECT * FROM x\n```"),
            "WITH x AS (SELECT 1) SELECT * FROM x");
  EXPECT_EQ(extract_sql("The query is:\nSELECT count(*) FROM users WHERE name = 'a;b';\nDone."),
            "SELECT count(*) FROM users WHERE name = 'a;b'");
  EXPECT_EQ(extract_sql("Answer: SELECT 3\n\nThis returns three."), "SELECT 3");
  // writes are extracted too, so that the policy refuses them by name
  EXPECT_EQ(extract_sql("DELETE FROM orders;"), "DELETE FROM orders");
  EXPECT_EQ(extract_sql("I cannot help with that."), "");
  EXPECT_EQ(extract_sql("Please select a table first."), "");  // a word, not a statement
  EXPECT_EQ(extract_sql(""), "");
  EXPECT_EQ(extract_sql("{\"sql\": 42}"), "");
  // Markdown escapes some models write into SQL, undone outside quotes only
  EXPECT_EQ(extract_sql("SELECT count(\\*) AS n\\_rows FROM transactions\\_1k WHERE a = 'x\\_y'"),
            "SELECT count(*) AS n_rows FROM transactions_1k WHERE a = 'x\\_y'");
}

namespace {

pgmcp::db::Relation table(const std::string &name, std::vector<std::string> cols,
                          const std::string &ref = "") {
  pgmcp::db::Relation r;
  r.schema = "s";
  r.name = name;
  r.kind = "table";
  int pos = 0;
  for (auto &c : cols) r.columns.push_back({c, "integer", "", "", ++pos, false});
  if (!ref.empty())
    r.constraints.push_back({name + "_fk", "foreign_key", "", {ref + "_id"}, "s", ref, {"id"}});
  return r;
}

}  // namespace

TEST(SchemaContext, AllWhenItFitsElseWhatTheQuestionNeedsAndItsNeighbours) {
  pgmcp::db::Catalog c;
  c.add(table("customers", {"id", "name", "country"}));
  c.add(table("orders", {"id", "customers_id", "total"}, "customers"));
  for (int i = 0; i < 300; ++i) c.add(table("filler_" + std::to_string(i), {"id", "a", "b", "c"}));
  std::string small = schema_context(c, "anything", 1000000);
  EXPECT_NE(small.find("s.filler_299"), std::string::npos);
  std::string budget = schema_context(c, "total of orders per country", 400);
  EXPECT_LE(budget.size() / 4, 420u);
  size_t orders = budget.find("s.orders\n");
  ASSERT_NE(orders, std::string::npos) << budget;
  EXPECT_NE(budget.find("  total integer"), std::string::npos);
  EXPECT_NE(budget.find("foreign key (customers_id) references s.customers (id)"),
            std::string::npos);
  EXPECT_NE(budget.find("s.customers\n"), std::string::npos) << "the foreign-key neighbour";
  EXPECT_NE(budget.find("Other relations (columns not shown): "), std::string::npos);
  size_t filler = budget.find("s.filler_");
  EXPECT_LT(orders, filler) << "what the question names comes first";
  EXPECT_LT(budget.find("s.customers\n"), filler);
}

// A relation in any schema, with text columns, no keys declared.
pgmcp::db::Relation plain(const std::string &schema, const std::string &name,
                          std::vector<std::string> cols, const std::string &comment = "") {
  pgmcp::db::Relation r;
  r.schema = schema;
  r.name = name;
  r.kind = "table";
  r.comment = comment;
  int pos = 0;
  for (auto &c : cols) r.columns.push_back({c, "text", "", "", ++pos, false});
  return r;
}

// Names read as people read them, joins without declared keys, and the
// question's own schema before others, whatever the catalog order.
TEST(SchemaContext, NamesAreReadAsWordsAndJoinsAreFoundWithoutForeignKeys) {
  pgmcp::db::Catalog c;
  // early in the alphabet, and large: must not crowd the answer out
  for (int i = 0; i < 120; ++i)
    c.add(plain("aaa", "filler_" + std::to_string(i), {"id", "alpha", "beta", "gamma", "delta"}));
  c.add(plain("shop", "sbcustomer", {"CustomerID", "Segment"}));
  c.add(plain("shop", "transactions_1k", {"TransactionID", "CustomerID", "Price"}));
  c.add(plain("shop", "businesses", {"business_id", "city_name", "stars"}));
  c.add(plain("shop", "checkin", {"business_id", "day", "count"}));
  c.add(plain("academic", "author", {"author_id", "name"}));
  c.add(plain("academic", "paper", {"paper_id", "title", "year"}));
  c.add(plain("academic", "writes", {"author_id", "paper_id"}));  // no word of the question
  c.add(plain("heroes", "superhero", {"id", "superhero_name", "eye_colour_id"}));
  c.add(plain("heroes", "colour", {"id", "colour"}));
  c.add(plain("heroes", "hero_power", {"hero_id", "power_id"}));
  c.add(plain("heroes", "superpower", {"id", "power_name"}));
  c.add(plain("club", "expense", {"expense_id", "cost", "link_to_budget"}));
  c.add(plain("club", "budget", {"budget_id", "event_status"}));
  auto shown = [](const std::string &context, const std::string &rel) {
    return context.find(rel + "\n") != std::string::npos;
  };
  std::string a = schema_context(c, "Which customers paid the highest price?", 1500);
  EXPECT_TRUE(shown(a, "shop.sbcustomer")) << a;       // a run-together name
  EXPECT_TRUE(shown(a, "shop.transactions_1k")) << a;  // CustomerID joins them
  std::string b = schema_context(c, "How many check-ins do businesses in each city have?", 1500);
  EXPECT_TRUE(shown(b, "shop.businesses")) << b;  // businesses, not "businesse"
  EXPECT_TRUE(shown(b, "shop.checkin")) << b;
  std::string w = schema_context(c, "List the titles of papers by the author Ada Lovelace", 1500);
  EXPECT_TRUE(shown(w, "academic.writes")) << w;  // the link table between the two
  std::string h = schema_context(c, "List the superpowers of superheroes with blue eyes", 1500);
  for (const char *rel :
       {"heroes.superhero", "heroes.hero_power", "heroes.superpower", "heroes.colour"})
    EXPECT_TRUE(shown(h, rel)) << rel << "\n" << h;
  std::string e =
      schema_context(c, "What is the status of the event of the cheapest expense?", 1500);
  EXPECT_TRUE(shown(e, "club.budget")) << e;  // link_to_budget names it
  // the rest of the question's schema comes before other schemas
  EXPECT_LT(h.find("heroes."),
            h.find("aaa.filler_0\n") == std::string::npos ? h.size() : h.find("aaa.filler_0\n"));
}

TEST(RequestState, AKeyFromASecretIsSharedByEveryInstanceThatHasIt) {
  using namespace pgmcp::mcp;
  RequestState s{"alice", "query", digest_arguments({{"question", "q"}}), {}};
  const std::string secret(40, 'k');
  set_request_state_key(secret);
  std::string sealed = seal_request_state(s, std::chrono::seconds(60));
  set_request_state_key(secret);  // another instance, the same secret
  EXPECT_TRUE(open_request_state(sealed));
  set_request_state_key(std::string(40, 'x'));  // another secret
  EXPECT_FALSE(open_request_state(sealed));
  try {
    set_request_state_key("short-secret-value");
    ADD_FAILURE() << "a short secret is refused";
  } catch (const std::invalid_argument &e) {
    EXPECT_EQ(std::string(e.what()).find("short-secret-value"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("at least 32"), std::string::npos);
  }
  set_request_state_key("");  // back to a random key of this process
  EXPECT_FALSE(open_request_state(sealed));
}

TEST(RequestState, SealedBoundAndTamperProof) {
  using namespace pgmcp::mcp;
  RequestState s{"alice", "query", digest_arguments({{"question", "q"}}), {json{{"x", 1}}}};
  std::string sealed = seal_request_state(s, std::chrono::seconds(60));
  auto open = open_request_state(sealed);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->subject, "alice");
  EXPECT_EQ(open->tool, "query");
  EXPECT_EQ(open->args_digest, digest_arguments({{"question", "q"}}));
  EXPECT_NE(open->args_digest, digest_arguments({{"question", "other"}}));
  EXPECT_EQ(open->answers.at(0)["x"], 1);
  std::string flipped = sealed;
  flipped[3] = flipped[3] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(open_request_state(flipped));
  EXPECT_FALSE(open_request_state(sealed.substr(0, sealed.find('.'))));
  EXPECT_FALSE(open_request_state("garbage"));
  EXPECT_FALSE(open_request_state(seal_request_state(s, std::chrono::seconds(-1))));  // expired
}

TEST(SchemaContext, BlockedTablesAndColumnsAreNotShownToTheModel) {
  pgmcp::db::Catalog c;
  c.add(table("users", {"id", "email", "password"}));
  c.add(table("secrets", {"id", "value"}));
  pgmcp::sql::PolicyOptions o;
  o.blocked_tables = {"s.secrets"};
  o.blocked_columns = {"users.password"};
  pgmcp::sql::SqlPolicy policy(o, "db");
  std::string shown = schema_context(c, "users", 100000, &policy);
  EXPECT_NE(shown.find("  email integer"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("password"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("secrets"), std::string::npos) << shown;
  EXPECT_NE(schema_context(c, "users", 100000).find("password"), std::string::npos);
}

// With the catalog's policy facts loaded, what the model is shown is what
// the policy lets a statement read: a blocked table's inheritance child and
// a refused column's sampled values stay out, though no rule names them.
TEST(SchemaContext, TheModelSeesWhatThePolicyLetsAStatementReadNotOnlyWhatItNames) {
  pgmcp::db::Catalog c = *pgmcp::testing::policy_catalog();  // facts: app.users, app.secrets, ...
  auto archive = plain("app", "secrets_archive", {"id", "value", "archived_at"});
  archive.columns[1].common_values = {"launch-code"};
  c.add(archive);
  auto users = plain("app", "users", {"id", "email", "password"});
  users.columns[2].common_values = {"hunter2"};
  c.add(users);
  pgmcp::sql::PolicyOptions o;
  o.blocked_tables = {"app.secrets"};
  o.blocked_columns = {"users.password"};
  pgmcp::sql::SqlPolicy policy(o, "db");
  std::string shown = schema_context(c, "archived secrets and users", 100000, &policy);
  EXPECT_NE(shown.find("app.users\n  id text"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("secrets_archive"), std::string::npos) << shown;  // shares rows
  EXPECT_EQ(shown.find("launch-code"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("hunter2"), std::string::npos) << shown;
  // the same catalog without its facts: by the rules' names alone
  c.facts = {};
  shown = schema_context(c, "archived secrets and users", 100000, &policy);
  EXPECT_NE(shown.find("secrets_archive"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("hunter2"), std::string::npos) << shown;
}

// Enum labels and sampled common values point at their tables; a blocked
// column's values never do, and are never shown.
TEST(SchemaContext, EnumLabelsAndCommonValuesLinkButNotABlockedColumns) {
  pgmcp::db::Catalog c;
  for (int i = 0; i < 200; ++i)
    c.add(plain("aaa", "filler_" + std::to_string(i), {"id", "alpha", "beta", "gamma"}));
  auto sites = plain("ops", "sites", {"id", "town"});
  sites.columns[1].common_values = {"Lyon", "Paris", "Marseille"};
  c.add(sites);
  auto staff = plain("hr", "staff", {"id", "secret_code"});
  staff.columns[1].common_values = {"walrus"};
  c.add(staff);
  auto tickets = plain("ops", "tickets", {"id", "state"});
  tickets.columns[1].type = "ops.ticket_state";
  c.add(tickets);
  c.enums.push_back({"ops", "ticket_state", "open,escalated,closed", ""});
  auto shown = [](const std::string &context, const std::string &rel) {
    return context.find(rel + "\n") != std::string::npos;
  };
  std::string lyon = schema_context(c, "How much was spent in Lyon?", 400);
  EXPECT_TRUE(shown(lyon, "ops.sites")) << lyon;
  EXPECT_NE(lyon.find("town text (common values: 'Lyon', 'Paris', 'Marseille')"), std::string::npos)
      << lyon;
  std::string esc = schema_context(c, "List the escalated ones", 400);
  EXPECT_TRUE(shown(esc, "ops.tickets")) << esc;
  pgmcp::sql::PolicyOptions o;
  o.blocked_columns = {"hr.staff.secret_code"};
  pgmcp::sql::SqlPolicy policy(o, "d");
  std::string walrus = schema_context(c, "Who is the walrus?", 400);
  EXPECT_TRUE(shown(walrus, "hr.staff")) << "without the block, the value links";
  std::string blocked = schema_context(c, "Who is the walrus?", 400, &policy);
  EXPECT_FALSE(shown(blocked, "hr.staff")) << blocked;
  EXPECT_EQ(blocked.find("walrus"), std::string::npos);
}
