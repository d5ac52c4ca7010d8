// The key table: every key validates, reads back what it set, shows its
// default, and says whether a reload takes it.
#include "config/keys.hpp"

#include <gtest/gtest.h>

#include <set>

#include "config/config_file.hpp"

using namespace pgmcp::config;

TEST(Keys, EveryKeyIsDocumentedAndUnique) {
  std::set<std::string> seen;
  for (const auto &k : keys()) {
    EXPECT_TRUE(seen.insert(k.full_name()).second) << "twice: " << k.full_name();
    EXPECT_FALSE(k.accepts.empty()) << k.full_name();
    EXPECT_FALSE(k.help.empty()) << k.full_name();
    EXPECT_TRUE(k.set && k.get) << k.full_name();
  }
  EXPECT_GE(keys().size(), 70u);
  EXPECT_NE(find_key("http", "listen", false), nullptr);
  EXPECT_NE(find_key("database", "max_rows", true), nullptr);
  EXPECT_EQ(find_key("database", "max_rows", false), nullptr);
  EXPECT_EQ(find_key("database", "dsn", true), nullptr) << "the driver's key, not the host's";
}

TEST(Keys, DefaultsAreTheCodesDefaults) {
  Settings s;
  InstanceSpec spec;
  EXPECT_EQ(default_of(*find_key("http", "max_connections", false)),
            std::to_string(s.http_max_connections));
  EXPECT_EQ(default_of(*find_key("database", "row_guard", true)), "true");
  EXPECT_EQ(default_of(*find_key("database", "schema_load", true)), "startup");
  EXPECT_EQ(default_of(*find_key("observability", "listen", false)), "127.0.0.1:9090");
  EXPECT_EQ(default_of(*find_key("llm", "max_retries", true)),
            std::to_string(spec.llm.max_retries));
}

TEST(Keys, WhatAKeySetsItReadsBackAndBadValuesSayWhatIsAccepted) {
  Settings s;
  InstanceSpec spec;
  for (const auto &k : keys()) {
    KeyTarget t{&s, &spec};
    // The value it holds now is one it accepts.
    std::string now = k.get(t);
    if (now.empty()) continue;
    EXPECT_NO_THROW(k.set(t, now)) << k.full_name() << " = " << now;
    EXPECT_EQ(k.get(t), now) << k.full_name();
  }
  const Key *rows = find_key("database", "max_rows", true);
  KeyTarget t{&s, &spec};
  rows->set(t, "250");
  EXPECT_EQ(spec.database.max_rows, 250);
  try {
    rows->set(t, "0");
    FAIL();
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find("from 1 to 10000000"), std::string::npos);
  }
  EXPECT_THROW(find_key("server", "transport", false)->set(t, "carrier-pigeon"),
               std::invalid_argument);
  EXPECT_THROW(find_key("http", "path", false)->set(t, "mcp"), std::invalid_argument);
  find_key("observability", "listen", false)->set(t, "");
  EXPECT_FALSE(s.observability_listen);
}

TEST(Keys, AReloadNamesWhatTakesARestart) {
  Settings a, b;
  b.http_listen.port = 9999;
  b.auth.leeway_s = 5;
  b.query.max_attempts = 5;  // a reload takes it
  b.log_level = pgmcp::log::Level::debug;
  auto changed = restart_keys_changed(a, b);
  EXPECT_EQ(changed, (std::vector<std::string>{"http.listen", "auth.leeway_s"}));
  EXPECT_TRUE(restart_keys_changed(a, a).empty());
}

TEST(Keys, TheReferenceAndTheHelpCoverEveryKey) {
  std::string ref = reference_markdown();
  std::string help = help_summary();
  for (const auto &k : keys()) {
    EXPECT_NE(ref.find("| `" + k.name + "` |"), std::string::npos) << k.full_name();
    EXPECT_NE(help.find(k.name), std::string::npos) << k.full_name();
  }
  EXPECT_NE(ref.find("## `[database.NAME]`"), std::string::npos);
  EXPECT_NE(ref.find("*restart*"), std::string::npos);
}

TEST(Keys, LoadingGoesThroughTheTable) {
  auto file = parse_ini(
      "[http]\nmax_queued = 12\n[database.main]\nplugin = postgres\nmax_rows = 7\ndsn = x\n"
      "[tools]\nquery.verify = yes\n",
      "t.ini");
  Settings s = load_settings(file, [](const std::string &) -> const char * { return nullptr; });
  EXPECT_EQ(s.http_max_queued, 12u);
  EXPECT_TRUE(s.query.verify);
  ASSERT_EQ(s.databases.size(), 1u);
  EXPECT_EQ(s.databases[0].database.max_rows, 7);
  EXPECT_EQ(s.databases[0].plugin_values,
            (std::vector<std::pair<std::string, std::string>>{{"dsn", "x"}}));
  try {
    load_settings(parse_ini("[http]\nmax_queud = 1\n", "t.ini"),
                  [](const std::string &) -> const char * { return nullptr; });
    FAIL();
  } catch (const ConfigError &e) {
    EXPECT_NE(std::string(e.what()).find("max_queued"), std::string::npos)
        << "the known keys are listed: " << e.what();
  }
}
