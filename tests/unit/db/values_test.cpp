// PostgreSQL's text values as JSON, both ways the host writes them.
#include "db/values.hpp"

#include <gtest/gtest.h>

using pgmcp::json;
using pgmcp::db::append_json;
using pgmcp::db::classify_type;
using pgmcp::db::to_json;

namespace {
// The value as append_json writes it, parsed back.
json appended(std::string_view text, std::string_view type) {
  std::string out;
  append_json(out, text, classify_type(0, type));
  return json::parse(out);
}
}  // namespace

TEST(Values, ScalarsBecomeTheJsonTheyMean) {
  EXPECT_EQ(to_json("42", classify_type(23, "int4")), 42);
  EXPECT_EQ(to_json("-9223372036854775808", classify_type(20, "int8")),
            json(-9223372036854775807LL - 1));
  EXPECT_EQ(to_json("1.5", classify_type(701, "float8")), 1.5);
  EXPECT_EQ(to_json("NaN", classify_type(701, "float8")), "NaN");
  EXPECT_EQ(to_json("Infinity", classify_type(700, "float4")), "Infinity");
  EXPECT_EQ(to_json("t", classify_type(16, "bool")), true);
  EXPECT_EQ(to_json("f", classify_type(16, "bool")), false);
  // numeric stays exact: a string
  EXPECT_EQ(to_json("12345678901234567890.000001", classify_type(1700, "numeric")),
            "12345678901234567890.000001");
  EXPECT_EQ(to_json("2024-02-29", classify_type(1082, "date")), "2024-02-29");
  EXPECT_EQ(to_json(R"({"a": [1, 2]})", classify_type(3802, "jsonb"))["a"][1], 2);
}

TEST(Values, ArraysNestAndKeepNullsAndQuotes) {
  EXPECT_EQ(to_json("{1,2,NULL}", classify_type(0, "_int4")), json::parse("[1,2,null]"));
  EXPECT_EQ(to_json(R"({"a,b","c\"d",NULL,"NULL"})", classify_type(0, "_text")),
            json::parse(R"(["a,b","c\"d",null,"NULL"])"));
  EXPECT_EQ(to_json("{{1,2},{3,4}}", classify_type(0, "_int8")), json::parse("[[1,2],[3,4]]"));
  EXPECT_EQ(to_json("{}", classify_type(0, "_int4")), json::array());
  // An array the reader cannot follow stays PostgreSQL's text, never half-read.
  EXPECT_EQ(to_json("{1,{2}", classify_type(0, "_int4")), "{1,{2}");
}

TEST(Values, TheTextWriterAgreesWithTheValueWriter) {
  for (auto [text, type] :
       std::vector<std::pair<std::string, std::string>>{{"42", "int4"},
                                                        {"NaN", "float8"},
                                                        {"t", "bool"},
                                                        {"1.10", "numeric"},
                                                        {"{1,NULL}", "_int4"},
                                                        {R"({"x": "\u00e9"})", "jsonb"},
                                                        {"line\nbreak \"quoted\"", "text"},
                                                        {"not json {", "json"}}) {
    EXPECT_EQ(appended(text, type), to_json(text, classify_type(0, type))) << type << ": " << text;
  }
}
