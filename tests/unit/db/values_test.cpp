// PostgreSQL's text values as the JSON text pg-mcp writes.
#include "db/values.hpp"

#include <gtest/gtest.h>

#include "core/json.hpp"

using pgmcp::json;
using pgmcp::db::append_json;
using pgmcp::db::classify_type;

namespace {
// The value as append_json writes it, for a column the driver named type.
std::string written(std::string_view text, std::string_view type, std::uint32_t oid = 0) {
  std::string out;
  append_json(out, text, classify_type(oid, type));
  EXPECT_TRUE(json::accept(out)) << out;
  return out;
}
json parsed(std::string_view text, std::string_view type, std::uint32_t oid = 0) {
  return json::parse(written(text, type, oid));
}
}  // namespace

TEST(Values, ScalarsBecomeTheJsonTheyMean) {
  EXPECT_EQ(parsed("42", "integer"), 42);
  EXPECT_EQ(parsed("42", "int4"), 42);  // a driver before ABI 1.3
  EXPECT_EQ(parsed("42", "", 23), 42);  // a driver that names nothing
  EXPECT_EQ(parsed("1.5", "double precision"), 1.5);
  EXPECT_EQ(parsed("NaN", "double precision"), "NaN");
  EXPECT_EQ(parsed("Infinity", "real"), "Infinity");
  EXPECT_EQ(parsed("t", "boolean"), true);
  EXPECT_EQ(parsed("f", "bool"), false);
  // numeric stays exact: a string
  EXPECT_EQ(parsed("12345678901234567890.000001", "numeric(30,6)"), "12345678901234567890.000001");
  EXPECT_EQ(parsed("2024-02-29", "date"), "2024-02-29");
  EXPECT_EQ(parsed("pro", "crm.tier"), "pro");
}

TEST(Values, IntegersBeyondJavaScriptsExactRangeAreStrings) {
  EXPECT_EQ(written("9007199254740991", "bigint"), "9007199254740991");
  EXPECT_EQ(written("-9007199254740991", "bigint"), "-9007199254740991");
  EXPECT_EQ(written("9007199254740992", "bigint"), "\"9007199254740992\"");
  EXPECT_EQ(written("-9223372036854775808", "bigint"), "\"-9223372036854775808\"");
  EXPECT_EQ(written("{1,9223372036854775807}", "bigint[]"), "[1,\"9223372036854775807\"]");
}

TEST(Values, JsonKeepsThePrintedNumbersAndItsNullDiffersFromSqlNull) {
  EXPECT_EQ(written("123456789012345678901234567890", "jsonb"), "123456789012345678901234567890");
  EXPECT_EQ(written(R"({"a": 1.50})", "jsonb"), R"({"a": 1.50})");
  EXPECT_EQ(written("null", "jsonb"), R"({"$json":null})");
  EXPECT_EQ(written(" null\n", "json"), R"({"$json":null})");
  // an object that looks like the wrapper is wrapped, so it reads back as itself
  EXPECT_EQ(written(R"({"$json": 5})", "jsonb"), R"({"$json":{"$json": 5}})");
  EXPECT_EQ(written(R"({"\u0024json": 5})", "json"), R"({"$json":{"\u0024json": 5}})");
  EXPECT_EQ(written(R"({"$json": 5, "b": 1})", "jsonb"), R"({"$json": 5, "b": 1})");
  EXPECT_EQ(written("\"null\"", "jsonb"), "\"null\"");
  EXPECT_EQ(written("{\"a\":\n1}", "json"), "{\"a\": 1}");
  EXPECT_EQ(written("not json {", "json"), "\"not json {\"");
  // in arrays too: elements keep their digits, and JSON null is not NULL
  EXPECT_EQ(written(R"({"{\"n\": 123456789012345678901234567890}","1.50","null",NULL})", "jsonb[]"),
            R"([{"n": 123456789012345678901234567890},1.50,{"$json":null},null])");
}

TEST(Values, ArraysOfEveryElementTypeAreJsonArrays) {
  EXPECT_EQ(parsed("{1,2,NULL}", "integer[]"), json::parse("[1,2,null]"));
  EXPECT_EQ(parsed("{1,2,NULL}", "_int4"), json::parse("[1,2,null]"));
  EXPECT_EQ(parsed(R"({"a,b","c\"d",NULL,"NULL"})", "text[]"),
            json::parse(R"(["a,b","c\"d",null,"NULL"])"));
  EXPECT_EQ(parsed("{{1,2},{3,4}}", "bigint[]"), json::parse("[[1,2],[3,4]]"));
  EXPECT_EQ(parsed("{}", "integer[]"), json::array());
  EXPECT_EQ(parsed("{2024-01-01,2024-02-29}", "date[]"),
            json::parse(R"(["2024-01-01","2024-02-29"])"));
  EXPECT_EQ(parsed("{pro,free}", "crm.tier[]"), json::parse(R"(["pro","free"])"));
  EXPECT_EQ(parsed("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "uuid[]"),
            json::parse(R"(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"])"));
  EXPECT_EQ(parsed("{t,f}", "boolean[]"), json::parse("[true,false]"));
  EXPECT_EQ(parsed("{1.5,NaN}", "double precision[]"), json::parse(R"([1.5,"NaN"])"));
  EXPECT_EQ(parsed("{1.50}", "numeric[]"), json::parse(R"(["1.50"])"));
  EXPECT_EQ(parsed(R"x({"[1,5)",empty})x", "int4range[]"), json::parse(R"x(["[1,5)","empty"])x"));
  EXPECT_EQ(parsed("{(1,1),(0,0);(2,2),(1,1)}", "box[]"),
            json::parse(R"x(["(1,1),(0,0)","(2,2),(1,1)"])x"));
}

TEST(Values, ArraysKeepLowerBoundsThatAreNotOne) {
  EXPECT_EQ(parsed("[0:2]={1,2,3}", "integer[]"),
            json::parse(R"({"lower_bounds":[0],"values":[1,2,3]})"));
  EXPECT_EQ(parsed("[1:1][-1:0]={{a,b}}", "text[]"),
            json::parse(R"({"lower_bounds":[1,-1],"values":[["a","b"]]})"));
  EXPECT_EQ(parsed("[1:2]={1,2}", "integer[]"), json::parse("[1,2]"));
}

TEST(Values, AnArrayTheReaderCannotFollowStaysText) {
  for (std::string_view bad :
       {"{1,{2}", "{1,,2}", "[0:2={1}", "[x:2]={1}", "{1}x", "{\"a}", "{{{{{{{{1}}}}}}}}"})
    EXPECT_EQ(parsed(bad, "integer[]"), std::string(bad)) << bad;
}

TEST(Values, ACellIsCopyTextEscapedThenJsonEscaped) {
  auto cell = [](std::string_view text, std::string_view type) {
    std::string out;
    pgmcp::db::append_cell(out, text, classify_type(0, type));
    return json::parse("\"" + out + "\"").get<std::string>();  // what the model reads
  };
  EXPECT_EQ(cell("a\tb\nc\\d \"e\"", "text"), "a\\tb\\nc\\\\d \"e\"");
  EXPECT_EQ(cell("t", "boolean"), "true");
  EXPECT_EQ(cell("{1,NULL}", "integer[]"), "[1,null]");
  EXPECT_EQ(cell("null", "jsonb"), "{\"$json\":null}");
  EXPECT_EQ(cell("{\"a\":\n1}", "json"), "{\"a\": 1}");
  EXPECT_EQ(cell("9007199254740993", "bigint"), "9007199254740993");
}

// What a database could send that PostgreSQL's own output never holds (found
// by tests/fuzz/values_fuzz.cpp): the message stays valid JSON.
TEST(Values, TextThatIsNotUtf8OrNotANumberStillMakesValidJson) {
  // a SQL_ASCII database passes bytes through as stored
  EXPECT_EQ(written("caf\xe9", "text"), "\"caf\\ufffd\"");
  EXPECT_EQ(written("{\"a\xff\"}", "text[]"), "[\"a\\ufffd\"]");
  EXPECT_EQ(written("\xed\xa0\x80", "text"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
  EXPECT_EQ(written("caf\xc3\xa9 \xf0\x9f\x98\x80", "text"), "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  EXPECT_EQ(written(std::string_view("1\0 x", 4), "jsonb"), "\"1\\u0000 x\"");
  EXPECT_EQ(written("0-", "double precision"), "\"0-\"");
  EXPECT_EQ(written("9E818", "double precision"), "\"9E818\"");
  EXPECT_EQ(written("1.7976931348623157e+308", "double precision"), "1.7976931348623157e+308");
  EXPECT_EQ(written("1e5", "bigint"), "\"1e5\"");
  EXPECT_EQ(written("01", "integer"), "\"01\"");
  // the JSON reader skips a byte order mark before a value; inside a message it is no JSON
  EXPECT_EQ(written("\xEF\xBB\xBF{}", "json"), "\"\xEF\xBB\xBF{}\"");
  EXPECT_EQ(written("{\"\xEF\xBB\xBF\x31\"}", "json[]"), "[\"\xEF\xBB\xBF\x31\"]");
}
