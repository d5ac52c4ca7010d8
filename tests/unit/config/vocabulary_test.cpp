// The vocabulary file: what it accepts, and a clear message for what it does not.
#include "config/vocabulary.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using pgmcp::config::parse_vocabulary;

namespace {

std::string problem(const std::string &text) {
  try {
    parse_vocabulary(text, "vocab.json");
  } catch (const std::invalid_argument &e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Vocabulary, TermsAndExamplesAreRead) {
  auto v = parse_vocabulary(R"({
    "terms": [{"term": "ARR", "also": ["annual recurring revenue"], "means": "yearly value",
               "database": "demo", "tables": "billing.subscriptions",
               "columns": ["billing.subscriptions.price"]}],
    "examples": [{"question": "How many customers?", "sql": "SELECT count(*) FROM shop.customers"}]
  })",
                            "vocab.json");
  ASSERT_EQ(v.terms.size(), 1u);
  EXPECT_EQ(v.terms[0].term, "ARR");
  EXPECT_EQ(v.terms[0].also, std::vector<std::string>{"annual recurring revenue"});
  EXPECT_EQ(v.terms[0].tables, std::vector<std::string>{"billing.subscriptions"});
  EXPECT_EQ(v.terms[0].database, "demo");
  ASSERT_EQ(v.examples.size(), 1u);
  EXPECT_EQ(v.examples[0].database, "");
  EXPECT_EQ(v.path, "vocab.json");
  EXPECT_TRUE(parse_vocabulary("{}", "x").empty());
}

TEST(Vocabulary, EveryMistakeIsNamedWithWhereItIs) {
  EXPECT_NE(problem("not json").find("is not JSON"), std::string::npos);
  EXPECT_NE(problem("[]").find("must be a JSON object"), std::string::npos);
  EXPECT_EQ(problem(R"({"glossary": []})"),
            "glossary: is not a known key (known: terms, examples)");
  EXPECT_EQ(problem(R"({"terms": {}})"), "terms: must be an array");
  EXPECT_EQ(problem(R"({"terms": [{"means": "x"}]})"), "terms[0].term: is required");
  EXPECT_EQ(problem(R"({"terms": [{"term": "ARR", "means": "  "}]})"),
            "terms[0].means: must not be empty");
  EXPECT_EQ(problem(R"({"terms": [{"term": "ARR", "means": "x", "meaning": "y"}]})"),
            "terms[0].meaning: is not a known key (known: term, also, means, database, tables, "
            "columns)");
  EXPECT_EQ(problem(R"({"terms": [{"term": "ARR", "means": "x", "tables": [1]}]})"),
            "terms[0].tables[0]: must be a non-empty string");
  EXPECT_EQ(problem(R"({"terms": [{"term": "ARR", "means": "x", "columns": ["price"]}]})"),
            "terms[0].columns[0]: 'price' must name its table: table.column or "
            "schema.table.column");
  EXPECT_EQ(problem(R"({"examples": [{"question": "q"}]})"), "examples[0].sql: is required");
  EXPECT_EQ(problem(R"({"examples": [{"question": "q", "sql": 3}]})"),
            "examples[0].sql: must be a string");
  EXPECT_EQ(problem(R"({"examples": ["SELECT 1"]})"),
            "examples[0]: must be an object with \"question\" and \"sql\"");
  EXPECT_THROW(pgmcp::config::load_vocabulary("/nonexistent/vocab.json"), std::invalid_argument);
}
