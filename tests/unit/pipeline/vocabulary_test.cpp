// The operator's vocabulary in the query pipeline: which terms and examples a
// question brings into the prompt, and the tables they pin into a schema
// context too small for the whole catalog.
#include "pipeline/vocabulary.hpp"

#include <gtest/gtest.h>

#include "pipeline/query.hpp"

using pgmcp::config::parse_vocabulary;
using pgmcp::pipeline::guidance;

namespace {

const pgmcp::config::Vocabulary kVocabulary = parse_vocabulary(R"({
  "terms": [
    {"term": "ARR", "also": ["annual recurring revenue"],
     "means": "twelve times the monthly price of every active subscription",
     "tables": ["billing.subscriptions"], "columns": ["billing.plans.monthly_price"]},
    {"term": "churn", "means": "subscriptions cancelled in the period", "database": "other",
     "tables": ["billing.cancellations"]}
  ],
  "examples": [
    {"question": "What is the ARR of each region?",
     "sql": "SELECT r.name, 12 * sum(p.monthly_price) FROM billing.subscriptions s JOIN billing.plans p ON p.id = s.plan_id JOIN crm.regions r ON r.id = s.region_id WHERE s.status = 'active' GROUP BY 1"},
    {"question": "How many open tickets are there?",
     "sql": "SELECT count(*) FROM support.tickets WHERE state = 'open'"},
    {"question": "Which region has the most customers?", "database": "other",
     "sql": "SELECT 1"}
  ]
})",
                                                               "vocab.json");

pgmcp::db::Relation rel(const std::string &schema, const std::string &name,
                        std::vector<std::string> cols) {
  pgmcp::db::Relation r;
  r.schema = schema;
  r.name = name;
  r.kind = "table";
  int pos = 0;
  for (auto &c : cols) r.columns.push_back({c, "text", "", "", ++pos, false});
  return r;
}

}  // namespace

TEST(Guidance, TermsMatchAsWordsInAnyCaseAndPlural) {
  for (const char *q : {"What is our ARR?", "arr by month", "Show the ARRs of 2025",
                        "Annual recurring revenue per plan"}) {
    auto g = guidance(&kVocabulary, "demo", q);
    EXPECT_NE(g.prompt.find("- ARR (also: annual recurring revenue): twelve times"),
              std::string::npos)
        << q << "\n"
        << g.prompt;
    EXPECT_NE(g.linking_words.find("monthly price"), std::string::npos);
  }
  // inside another word, it is not the term
  EXPECT_EQ(guidance(&kVocabulary, "demo", "How many arrivals yesterday?").prompt.find("- ARR"),
            std::string::npos);
  // a term of another database is not used
  auto g = guidance(&kVocabulary, "demo", "What was churn last month?");
  EXPECT_EQ(g.prompt.find("churn"), std::string::npos) << g.prompt;
  EXPECT_TRUE(guidance(nullptr, "demo", "What is our ARR?").prompt.empty());
}

TEST(Guidance, TheClosestExamplesAndTheTablesTheyAndTheTermsPointAt) {
  auto g = guidance(&kVocabulary, "demo", "What is the ARR of the EMEA region?");
  EXPECT_NE(g.prompt.find("Question: What is the ARR of each region?\nSQL: SELECT r.name"),
            std::string::npos)
      << g.prompt;
  EXPECT_EQ(g.prompt.find("open tickets"), std::string::npos) << "shares no word";
  EXPECT_EQ(g.prompt.find("most customers"), std::string::npos) << "another database's";
  for (const char *name :
       {"billing.subscriptions", "billing.plans", "crm.regions", "subscriptions", "regions"})
    EXPECT_TRUE(std::binary_search(g.relations.begin(), g.relations.end(), name)) << name;
  for (const char *not_a_table : {"active", "'active'", ""})
    EXPECT_FALSE(std::binary_search(g.relations.begin(), g.relations.end(), not_a_table))
        << not_a_table;
  auto none = guidance(&kVocabulary, "demo", "zzz qqq");
  EXPECT_TRUE(none.prompt.empty());
  EXPECT_TRUE(none.relations.empty());
}

// The question's word is the operator's, defined nowhere in the schema: the
// term's tables reach the context all the same.
TEST(Guidance, PinsTheTermsTablesIntoASmallContext) {
  pgmcp::db::Catalog c;
  for (int i = 0; i < 200; ++i)
    c.add(rel("aaa", "filler_" + std::to_string(i), {"id", "alpha", "beta", "gamma"}));
  c.add(rel("billing", "subscriptions", {"id", "plan_id", "region_id", "status"}));
  c.add(rel("billing", "plans", {"id", "monthly_price"}));
  c.add(rel("crm", "regions", {"id", "name"}));
  const std::string q = "What is our ARR?";
  std::string without = pgmcp::pipeline::schema_context(c, q, 600);
  EXPECT_EQ(without.find("billing.subscriptions\n"), std::string::npos) << without;
  auto g = guidance(&kVocabulary, "demo", q);
  std::string with =
      pgmcp::pipeline::schema_context(c, q + "\n" + g.linking_words, 600, nullptr, g.relations);
  EXPECT_NE(with.find("billing.subscriptions\n"), std::string::npos) << with;
  EXPECT_NE(with.find("billing.plans\n"), std::string::npos) << with;
  EXPECT_NE(with.find("  monthly_price text"), std::string::npos) << with;
}
