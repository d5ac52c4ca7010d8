#include "config/config_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

using pgmcp::config::ConfigError;
using pgmcp::config::expand_env;
using pgmcp::config::parse_ini;
using pgmcp::config::parse_json;
using testing::HasSubstr;

namespace {

std::string error_of(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const ConfigError &e) {
    return e.what();
  }
  return "no error";
}

pgmcp::config::EnvLookup env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const std::string &name) -> const char * {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(IniTest, ReadsSectionsKeysAndLineNumbers) {
  auto f =
      parse_ini("; comment\n[server]\ntransport = http\n\n[rate_limiter.a]\nrate = 5/s\n", "x.ini");
  EXPECT_EQ(f.values.at("server.transport").value, "http");
  EXPECT_EQ(f.values.at("server.transport").line, 3);
  EXPECT_EQ(f.values.at("rate_limiter.a.rate").value, "5/s");
  EXPECT_EQ(f.where("rate_limiter.a.rate"), "x.ini:6");
  EXPECT_EQ(f.sections.at("rate_limiter.a"), 5);
}

TEST(IniTest, StripsInlineCommentsButKeepsSemicolonsInsideValues) {
  auto f = parse_ini(
      "[s]\na = stdio            ; stdio | http\nb = x;y\nc =   ; empty\nd = v # hash\n", "x.ini");
  EXPECT_EQ(f.values.at("s.a").value, "stdio");
  EXPECT_EQ(f.values.at("s.b").value, "x;y");
  EXPECT_EQ(f.values.at("s.c").value, "");
  EXPECT_EQ(f.values.at("s.d").value, "v");
}

TEST(IniTest, QuotedValuesKeepCommentCharactersAndEscapes) {
  auto f = parse_ini("[s]\npassword = \"a ;b #c \\\"q\\\" \\\\\"  ; note\n", "x.ini");
  EXPECT_EQ(f.values.at("s.password").value, "a ;b #c \"q\" \\");
}

TEST(IniTest, EmptySectionsAreRecorded) {
  auto f = parse_ini("[http]\n", "x.ini");
  EXPECT_EQ(f.sections.count("http"), 1u);
}

TEST(IniTest, ReportsEveryBadLineWithItsNumber) {
  std::string e = error_of(
      [] { parse_ini("[s]\nno equals sign\nk = 1\nk = 2\n[bad name]\n = v\n[s]\n", "bad.ini"); });
  EXPECT_THAT(e, HasSubstr("bad.ini:2: expected 'key = value'"));
  EXPECT_THAT(e, HasSubstr("bad.ini:4: s.k is already set on line 3"));
  EXPECT_THAT(e, HasSubstr("bad.ini:5: 'bad name' is not a section name"));
  EXPECT_THAT(e, HasSubstr("bad.ini:6: '' is not a key name"));
  EXPECT_THAT(e, HasSubstr("bad.ini:7: section [s] appears twice"));
}

TEST(IniTest, KeyBeforeSectionAndUnterminatedQuoteAreErrors) {
  EXPECT_THAT(error_of([] { parse_ini("k = v\n", "a.ini"); }),
              HasSubstr("a.ini:1: key 'k' comes before any [section]"));
  EXPECT_THAT(error_of([] { parse_ini("[s]\nk = \"open\n", "a.ini"); }),
              HasSubstr("a.ini:2: s.k: unterminated quoted value"));
}

TEST(JsonTest, NestingBecomesDottedKeys) {
  auto f = parse_json(R"({"server": {"transport": "http"},
                          "rate_limiter": {"a": {"rate": "5/s", "burst": 3, "on": true,
                                                 "none": null, "list": ["x", 2]}}})",
                      "c.json");
  EXPECT_EQ(f.values.at("server.transport").value, "http");
  EXPECT_EQ(f.values.at("rate_limiter.a.burst").value, "3");
  EXPECT_EQ(f.values.at("rate_limiter.a.on").value, "true");
  EXPECT_EQ(f.values.at("rate_limiter.a.none").value, "");
  EXPECT_EQ(f.values.at("rate_limiter.a.list").value, "x,2");
  EXPECT_EQ(f.sections.count("rate_limiter.a"), 1u);
  EXPECT_EQ(f.where("server.transport"), "c.json");
}

TEST(JsonTest, SyntaxErrorsGiveLineAndColumn) {
  std::string e =
      error_of([] { parse_json("{\n  \"server\": {\n    \"transport\": ,\n", "c.json"); });
  EXPECT_THAT(e, HasSubstr("c.json:3:"));
  EXPECT_THAT(e, HasSubstr("not valid JSON"));
}

// Found by the fuzzer: a number overflow is not a parse_error in nlohmann-json.
TEST(JsonTest, NumberOverflowIsAConfigError) {
  EXPECT_THAT(error_of([] { parse_json(R"({"a": {"b": 7777.38e77777}})", "c.json"); }),
              HasSubstr("c.json: not valid JSON: number overflow"));
}

TEST(JsonTest, TopLevelMustBeAnObjectAndListsHoldScalars) {
  EXPECT_THAT(error_of([] { parse_json("[1]", "c.json"); }),
              HasSubstr("top level must be a JSON object"));
  EXPECT_THAT(error_of([] { parse_json(R"({"s": {"k": [{"a": 1}]}})", "c.json"); }),
              HasSubstr("s.k: a list may hold only strings and numbers"));
}

TEST(ExpandTest, ReplacesVariablesAndDefaults) {
  auto e = env({{"DSN", "postgres://u@h/db"}, {"EMPTY", ""}});
  EXPECT_EQ(expand_env("${DSN}", e), "postgres://u@h/db");
  EXPECT_EQ(expand_env("a-${DSN}-b", e), "a-postgres://u@h/db-b");
  EXPECT_EQ(expand_env("${MISSING:-fallback}", e), "fallback");
  EXPECT_EQ(expand_env("${EMPTY:-fallback}", e), "fallback");
  EXPECT_EQ(expand_env("${DSN:-fallback}", e), "postgres://u@h/db");
  EXPECT_EQ(expand_env("cost $5 and $${LITERAL}", e), "cost $5 and ${LITERAL}");
}

TEST(ExpandTest, UnsetVariableNamesItButNeverAValue) {
  auto e = env({{"SECRET", "hunter2"}});
  try {
    expand_env("${SECRET}${NOPE}", e);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument &ex) {
    EXPECT_THAT(ex.what(), HasSubstr("environment variable NOPE is not set"));
    EXPECT_THAT(ex.what(), HasSubstr("${NOPE:-default}"));
    EXPECT_THAT(ex.what(), testing::Not(HasSubstr("hunter2")));
  }
}

TEST(ExpandTest, MalformedReferencesAreErrors) {
  auto e = env({});
  EXPECT_THROW(expand_env("${UNCLOSED", e), std::invalid_argument);
  EXPECT_THROW(expand_env("${}", e), std::invalid_argument);
  EXPECT_THROW(expand_env("${1ABC}", e), std::invalid_argument);
  EXPECT_THROW(expand_env("${A B}", e), std::invalid_argument);
}

}  // namespace
