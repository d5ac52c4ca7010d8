// JSON written as text: every splice goes through ObjectText, and a Payload
// wraps a value or such text in an envelope without copying it.
#include "core/json_text.hpp"

#include <gtest/gtest.h>

using pgmcp::json;
using pgmcp::core::ObjectText;
using pgmcp::core::Payload;

TEST(JsonText, StringsAreEscapedAsJsonDemands) {
  std::string out;
  pgmcp::core::append_json_string(out, std::string("a\"b\\c\n\t\x01\x1f end", 13));
  EXPECT_EQ(out, R"("a\"b\\c\n\t\u0001\u001f end")");
  EXPECT_EQ(json::parse(out).get<std::string>(), std::string("a\"b\\c\n\t\x01\x1f end", 13));
}

TEST(JsonText, AnObjectOfValuesAndSplicedTextIsOneValidObject) {
  ObjectText o;
  o.add("n", 1).add("s", "x\"y").add_json("rows", R"([[1,"a"],[2,null]])").add_string("t", "q\n");
  std::string &raw = o.member("built");
  raw += "[true,";
  raw += "false]";
  json j = json::parse(o.view());
  EXPECT_EQ(j["n"], 1);
  EXPECT_EQ(j["s"], "x\"y");
  EXPECT_EQ(j["rows"][1][1], nullptr);
  EXPECT_EQ(j["t"], "q\n");
  EXPECT_EQ(j["built"], json::array({true, false}));
  // Adding after a view reopens the object.
  o.add("later", "yes");
  EXPECT_EQ(json::parse(o.view())["later"], "yes");
}

TEST(JsonText, AnEmptyObjectIsBraces) {
  ObjectText o;
  EXPECT_EQ(o.view(), "{}");
}

TEST(JsonText, TheEnvelopeGoesIntoTheGapWithoutCopyingTheObject) {
  ObjectText o(1 << 20);
  std::string rows = "[1";
  for (int i = 0; i < 500; ++i) rows += ",1";
  o.add_json("rows", rows + "]");
  const char *before = o.view().data();
  std::string head = R"({"jsonrpc":"2.0","id":7,"result":)";
  std::string out = std::move(o).wrap(head, "}");
  json j = json::parse(out);
  EXPECT_EQ(j["id"], 7);
  EXPECT_EQ(j["result"]["rows"].size(), 501u);
  // The object did not move: the buffer is the one it was written in.
  EXPECT_EQ(out.data() + ObjectText::kGap, before);
}

TEST(JsonText, AHeadLongerThanTheGapStillWraps) {
  ObjectText o;
  o.add("a", 1);
  std::string head = "{\"pad\":\"" + std::string(300, 'x') + "\",\"v\":";
  json j = json::parse(std::move(o).wrap(head, "}"));
  EXPECT_EQ(j["v"]["a"], 1);
}

TEST(JsonText, APayloadIsAValueOrText) {
  Payload v(json{{"k", "v"}});
  EXPECT_FALSE(v.is_text());
  EXPECT_EQ(json::parse(std::move(v).wrap("[", "]"))[0]["k"], "v");
  ObjectText o;
  o.add("k", 2);
  Payload t(std::move(o));
  EXPECT_TRUE(t.is_text());
  EXPECT_EQ(std::move(t).dump(), "{\"k\":2}");
  // Invalid UTF-8 in a value is replaced, never thrown.
  Payload bad(json{{"k", std::string("\xff", 1)}});
  EXPECT_NO_THROW(json::parse(std::move(bad).dump()));
}

TEST(ObjectText, NestPutsAnObjectInsideAnotherWhereItLies) {
  pgmcp::core::ObjectText inner(4096);
  inner.add("rows", pgmcp::json::array({1, 2}));
  const char *before = inner.view().data();
  auto outer = pgmcp::core::ObjectText::nest(std::move(inner), "structuredContent");
  outer.add("n", 2);
  EXPECT_EQ(outer.view(), R"({"structuredContent":{"rows":[1,2]},"n":2})");
  // written in front of the inner object, which did not move
  EXPECT_EQ(outer.view().data() + std::string_view(R"({"structuredContent":)").size(), before);
  std::string message = std::move(outer).wrap(R"({"jsonrpc":"2.0","id":1,"result":)", "}");
  EXPECT_EQ(pgmcp::json::parse(message)["result"]["structuredContent"]["rows"][1], 2);
  // a key too long for the blanks in front is copied, with the same result
  pgmcp::core::ObjectText small;
  small.add("a", 1);
  std::string key(200, 'k');
  auto copied = pgmcp::core::ObjectText::nest(std::move(small), key);
  EXPECT_EQ(pgmcp::json::parse(copied.view())[key]["a"], 1);
}
