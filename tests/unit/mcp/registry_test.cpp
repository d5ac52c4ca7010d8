// What the server offers: tool names, the argument checks every call passes,
// and results as the protocol shows them.
#include "mcp/registry.hpp"

#include <gtest/gtest.h>

using pgmcp::json;
using namespace pgmcp::mcp;

TEST(Registry, ToolsHaveValidUniqueNamesAndTheirDescriptorsAreKept) {
  Registry r;
  Tool t;
  t.name = "execute_sql";
  t.description = "runs";
  t.output_schema = json{{"type", "object"}};
  t.annotations = {true, false, true, false};
  r.add_tool(t);
  EXPECT_THROW(r.add_tool(t), std::invalid_argument);
  Tool bad = t;
  bad.name = "has space";
  EXPECT_THROW(r.add_tool(bad), std::invalid_argument);
  ASSERT_EQ(r.tool_descriptors().size(), 1u);
  const json &d = r.tool_descriptors()[0];
  EXPECT_EQ(d["name"], "execute_sql");
  EXPECT_EQ(d["annotations"]["readOnlyHint"], true);
  EXPECT_EQ(d["annotations"]["destructiveHint"], false);
  EXPECT_TRUE(d.contains("outputSchema"));
  EXPECT_NE(r.find_tool("execute_sql"), nullptr);
  EXPECT_EQ(r.find_tool("nope"), nullptr);
  EXPECT_TRUE(valid_tool_name("a.b-c_D9"));
  EXPECT_FALSE(valid_tool_name(""));
  EXPECT_FALSE(valid_tool_name(std::string(129, 'a')));
}

TEST(Registry, ArgumentsAreCheckedAgainstTheSchemaWithThePathOfTheProblem) {
  json schema = {{"type", "object"},
                 {"properties",
                  {{"sql", {{"type", "string"}, {"minLength", 1}, {"maxLength", 10}}},
                   {"n", {{"type", "integer"}, {"minimum", 1}, {"maximum", 5}}},
                   {"mode", {{"type", "string"}, {"enum", {"a", "b"}}}},
                   {"params",
                    {{"type", "array"},
                     {"maxItems", 2},
                     {"items", {{"type", json::array({"string", "null"})}}}}}}},
                 {"required", {"sql"}},
                 {"additionalProperties", false}};
  EXPECT_EQ(validate_schema(schema, {{"sql", "SELECT 1"}, {"n", 2}, {"params", {"x", nullptr}}}),
            "");
  auto problem = [&](json v) { return validate_schema(schema, v); };
  EXPECT_NE(problem(json::object()).find("sql"), std::string::npos);
  EXPECT_NE(problem({{"sql", 5}}).find("arguments.sql"), std::string::npos);
  EXPECT_NE(problem({{"sql", ""}}), "");
  EXPECT_NE(problem({{"sql", "01234567890"}}), "");
  EXPECT_NE(problem({{"sql", "x"}, {"n", 0}}), "");
  EXPECT_NE(problem({{"sql", "x"}, {"n", 1.5}}), "");
  EXPECT_NE(problem({{"sql", "x"}, {"mode", "c"}}), "");
  EXPECT_NE(problem({{"sql", "x"}, {"params", {1}}}).find("arguments.params[0]"),
            std::string::npos);
  EXPECT_NE(problem({{"sql", "x"}, {"params", {"a", "b", "c"}}}), "");
  EXPECT_NE(problem({{"sql", "x"}, {"extra", 1}}).find("extra"), std::string::npos);
}

TEST(Registry, ResultsCarryStructuredContentAsValueOrText) {
  ToolResult v = structured_result(json{{"rows", {1, 2}}});
  ASSERT_TRUE(v.structured);
  EXPECT_FALSE(v.structured->is_text());
  EXPECT_EQ(json::parse(v.content[0]["text"].get<std::string>())["rows"][1], 2);
  pgmcp::core::ObjectText o;
  o.add_json("rows", "[[1]]");
  ToolResult t = structured_result(std::move(o));
  ASSERT_TRUE(t.structured && t.structured->is_text());
  EXPECT_EQ(t.structured->text().view(), R"({"rows":[[1]]})");
  ToolResult e = error_result("no such table");
  EXPECT_TRUE(e.is_error);
  EXPECT_EQ(e.content[0]["text"], "no such table");
}
