// What the server offers: tool names, the argument checks every call passes,
// and results as the protocol shows them.
#include "mcp/registry.hpp"

#include <gtest/gtest.h>

using pgmcp::json;
using namespace pgmcp::mcp;

// Bad and duplicate names: RegistryTest.RefusesBadAndDuplicateToolNames below.
TEST(Registry, AToolsDescriptorIsKeptAsListed) {
  Registry r;
  Tool t;
  t.name = "execute_sql";
  t.description = "runs";
  t.output_schema = json{{"type", "object"}};
  t.annotations = {true, false, true, false};
  r.add_tool(t);
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
}

TEST(SchemaTest, ValidatesTheSubsetToolsUse) {
  json schema = {{"type", "object"},
                 {"properties",
                  {{"sql", {{"type", "string"}, {"minLength", 1}, {"maxLength", 5}}},
                   {"n", {{"type", "integer"}, {"minimum", 1}, {"maximum", 10}}},
                   {"kind", {{"enum", {"table", "view"}}}},
                   {"params",
                    {{"type", "array"},
                     {"maxItems", 2},
                     {"items", {{"type", json::array({"string", "null"})}}}}}}},
                 {"required", {"sql"}},
                 {"additionalProperties", false}};
  using pgmcp::mcp::validate_schema;
  EXPECT_EQ(validate_schema(schema, {{"sql", "x"}}), "");
  EXPECT_EQ(validate_schema(schema, {{"sql", "x"}, {"n", 3.0}}), "");  // 3.0 is an integer
  EXPECT_EQ(validate_schema(schema, {{"sql", "x"}, {"params", {"a", nullptr}}}), "");
  EXPECT_EQ(validate_schema(schema, json::object()), "arguments.sql: is required");
  EXPECT_EQ(validate_schema(schema, {{"sql", ""}}), "arguments.sql: must be at least 1 characters");
  EXPECT_EQ(validate_schema(schema, {{"sql", "éééééé"}}),
            "arguments.sql: must be at most 5 characters");
  EXPECT_EQ(validate_schema(schema, {{"sql", "x"}, {"n", 2.5}}),
            "arguments.n: expected integer, got number");
  EXPECT_EQ(validate_schema(schema, {{"sql", "x"}, {"n", 11}}), "arguments.n: must be at most 10");
  EXPECT_EQ(validate_schema(schema, {{"sql", "x"}, {"kind", "index"}}),
            "arguments.kind: must be one of [\"table\",\"view\"]");
  EXPECT_EQ(validate_schema(schema, {{"sql", "x"}, {"params", {1}}}),
            "arguments.params[0]: expected string or null, got integer");
  EXPECT_EQ(validate_schema(schema, {{"sql", "x"}, {"params", {"a", "b", "c"}}}),
            "arguments.params: takes at most 2 items");
  EXPECT_EQ(validate_schema(schema, json::array()), "arguments: expected object, got array");
}

TEST(RegistryTest, RefusesBadAndDuplicateToolNames) {
  pgmcp::mcp::Registry r;
  pgmcp::mcp::Tool t;
  t.name = "has space";
  EXPECT_THROW(r.add_tool(t), std::invalid_argument);
  t.name = std::string(129, 'a');
  EXPECT_THROW(r.add_tool(t), std::invalid_argument);
  t.name = "ok.name-1_x";
  r.add_tool(t);
  EXPECT_THROW(r.add_tool(t), std::invalid_argument);
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

TEST(Registry, AnOptionalArgumentSentAsNullIsAbsent) {
  json schema = {{"type", "object"},
                 {"properties",
                  {{"sql", {{"type", "string"}}},
                   {"max_rows", {{"type", "integer"}}},
                   {"database", {{"type", "string"}}}}},
                 {"required", {"sql"}},
                 {"additionalProperties", false}};
  json args = without_null_optionals(
      schema, {{"sql", "SELECT 1"}, {"max_rows", nullptr}, {"database", nullptr}});
  EXPECT_EQ(args, (json{{"sql", "SELECT 1"}}));
  EXPECT_EQ(validate_schema(schema, args), "");
  // Without the step, a null optional argument is refused.
  EXPECT_NE(validate_schema(schema, {{"sql", "SELECT 1"}, {"max_rows", nullptr}}), "");
  // A required argument sent as null is still an error.
  json missing = without_null_optionals(schema, {{"sql", nullptr}});
  EXPECT_NE(validate_schema(schema, missing), "");
}
