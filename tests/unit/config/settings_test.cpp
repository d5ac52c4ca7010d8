#include "config/settings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using pgmcp::config::ConfigError;
using pgmcp::config::load_settings;
using pgmcp::config::parse_ini;
using pgmcp::config::parse_json;
using testing::HasSubstr;

namespace {

pgmcp::config::EnvLookup no_env() {
  return [](const std::string &) -> const char * { return nullptr; };
}

std::string problems_of(const std::string &ini) {
  try {
    load_settings(parse_ini(ini, "t.ini"), no_env());
  } catch (const ConfigError &e) {
    return e.what();
  }
  return "no error";
}

TEST(SettingsTest, DefaultsAreSafe) {
  auto s = load_settings(parse_ini("", "t.ini"), no_env());
  EXPECT_EQ(s.transport, pgmcp::config::Transport::stdio);
  EXPECT_EQ(s.http_listen.text(), "127.0.0.1:8765");
  EXPECT_TRUE(s.http_listen.loopback());
  EXPECT_EQ(s.http_path, "/mcp");
  ASSERT_TRUE(s.observability_listen.has_value());
  EXPECT_TRUE(s.observability_listen->loopback());
}

TEST(SettingsTest, ReadsEveryServerKey) {
  auto s = load_settings(parse_ini("[server]\ntransport = http\nplugin_dir = /opt/p\n"
                                   "log_level = debug\nlog_format = json\n"
                                   "[http]\nlisten = [::1]:9000\npath = /x\n"
                                   "[observability]\nlisten =\n",
                                   "t.ini"),
                         no_env());
  EXPECT_EQ(s.transport, pgmcp::config::Transport::http);
  EXPECT_EQ(s.plugin_dir, "/opt/p");
  EXPECT_EQ(s.log_level, pgmcp::log::Level::debug);
  EXPECT_EQ(s.log_format, pgmcp::log::Format::json);
  EXPECT_EQ(s.http_listen.host, "::1");
  EXPECT_EQ(s.http_listen.port, 9000);
  EXPECT_EQ(s.http_listen.text(), "[::1]:9000");
  EXPECT_EQ(s.http_path, "/x");
  EXPECT_FALSE(s.observability_listen.has_value());
}

TEST(SettingsTest, ReadsTheConnectionLimitsAndRefusesOutOfRange) {
  auto s = load_settings(parse_ini("[http]\nmax_connections = 64\nmax_connections_per_client = 8\n"
                                   "max_queued = 3\nheader_timeout_ms = 1500\n"
                                   "body_timeout_ms = 2500\nidle_timeout_ms = 3500\n"
                                   "write_timeout_ms = 4500\n",
                                   "t.ini"),
                         no_env());
  EXPECT_EQ(s.http_max_connections, 64u);
  EXPECT_EQ(s.http_max_connections_per_client, 8u);
  EXPECT_EQ(s.http_max_queued, 3u);
  EXPECT_EQ(s.http_header_timeout_ms, 1500);
  EXPECT_EQ(s.http_body_timeout_ms, 2500);
  EXPECT_EQ(s.http_idle_timeout_ms, 3500);
  EXPECT_EQ(s.http_write_timeout_ms, 4500);
  EXPECT_THAT(problems_of("[http]\nheader_timeout_ms = 5\n"), HasSubstr("http.header_timeout_ms"));
  EXPECT_THAT(problems_of("[http]\nmax_connections = 0\n"), HasSubstr("http.max_connections"));
}

TEST(SettingsTest, RelativePluginDirIsRelativeToTheConfigFile) {
  auto s = load_settings(parse_ini("[server]\nplugin_dir = ../plugins\n", "/etc/pg-mcp/a.ini"),
                         no_env());
  EXPECT_EQ(s.plugin_dir, "/etc/plugins");
}

TEST(SettingsTest, UnknownKeyAndSectionAreNamedWithFileAndLine) {
  std::string e = problems_of("[server]\ntransport = stdio\ntransprot = http\n[htp]\nlisten = x\n");
  EXPECT_THAT(e, HasSubstr("t.ini:3: server.transprot: unknown key (known in [server]: "));
  EXPECT_THAT(e, HasSubstr("t.ini:4: unknown section [htp]"));
}

TEST(SettingsTest, BadValuesNameTheKey) {
  std::string e = problems_of(
      "[server]\ntransport = carrier-pigeon\nlog_level = loud\nlog_format = xml\n"
      "[http]\nlisten = 127.0.0.1:99999\npath = mcp\n[observability]\nlisten = nohost\n");
  EXPECT_THAT(e, HasSubstr("t.ini:2: server.transport: 'carrier-pigeon' is not a transport"));
  EXPECT_THAT(e, HasSubstr("t.ini:3: server.log_level: 'loud' is not a log level"));
  EXPECT_THAT(e, HasSubstr("t.ini:4: server.log_format: 'xml' is not a log format"));
  EXPECT_THAT(e, HasSubstr("t.ini:6: http.listen: '99999' is not a port number"));
  EXPECT_THAT(e, HasSubstr("t.ini:7: http.path: 'mcp' is not a URL path"));
  EXPECT_THAT(e, HasSubstr("t.ini:9: observability.listen: 'nohost' is not host:port"));
}

TEST(SettingsTest, UnsetVariableIsAnError) {
  EXPECT_THAT(
      problems_of("[database.sales]\nplugin = postgres\ndsn = ${PGMCP_TEST_UNSET_DSN}\n"),
      HasSubstr(
          "t.ini:3: database.sales.dsn: environment variable PGMCP_TEST_UNSET_DSN is not set"));
}

TEST(SettingsTest, InstancesSplitHostKeysFromPluginKeys) {
  auto s =
      load_settings(parse_ini("[rate_limiter.fast]\nplugin = token-bucket\nrate = 5/s\nburst = 2\n"
                              "[database.sales]\nplugin = postgres\ndescription = Sales\n"
                              "rate_limiter = fast\ndsn = ${DSN:-postgres://localhost/sales}\n",
                              "t.ini"),
                    no_env());
  ASSERT_EQ(s.rate_limiters.size(), 1u);
  EXPECT_EQ(s.rate_limiters[0].section(), "rate_limiter.fast");
  EXPECT_EQ(s.rate_limiters[0].plugin, "token-bucket");
  ASSERT_EQ(s.rate_limiters[0].plugin_values.size(), 2u);
  EXPECT_EQ(s.rate_limiters[0].plugin_values[0],
            (std::pair<std::string, std::string>("rate", "5/s")));
  EXPECT_EQ(s.rate_limiters[0].plugin_values[1].first, "burst");
  ASSERT_EQ(s.databases.size(), 1u);
  EXPECT_EQ(s.databases[0].description, "Sales");
  EXPECT_EQ(s.databases[0].rate_limiter, "fast");
  ASSERT_EQ(s.databases[0].plugin_values.size(), 1u);
  EXPECT_EQ(s.databases[0].plugin_values[0].second, "postgres://localhost/sales");
}

TEST(SettingsTest, InstanceProblems) {
  std::string e = problems_of(
      "[rate_limiter.a]\nrate = 1/s\n[database.db]\nplugin = postgres\n"
      "rate_limiter = missing\n[llm.bad.name]\n[rate_limiter]\nx = 1\n");
  EXPECT_THAT(e, HasSubstr("t.ini:1: [rate_limiter.a]: 'plugin' is required"));
  EXPECT_THAT(e, HasSubstr("database.db.rate_limiter: 'missing' names no [rate_limiter.missing] "
                           "section (defined: a)"));
  EXPECT_THAT(e, HasSubstr("t.ini:6: [llm.bad.name]: an instance name is letters"));
  EXPECT_THAT(e, HasSubstr("rate_limiter.x: belongs in a named section"));
}

TEST(SettingsTest, AllowedSettingsAreNamesOrPrefixes) {
  auto s = load_settings(parse_ini("[database.db]\nplugin = postgres\nallowed_settings = "
                                   "work_mem, app.tenant, app.*, my_ext.x.y\n",
                                   "t.ini"),
                         no_env());
  EXPECT_EQ(s.databases.at(0).database.allowed_settings,
            (std::vector<std::string>{"work_mem", "app.tenant", "app.*", "my_ext.x.y"}));
  for (const char *bad :
       {"*", ".*", "app.", ".app", "app..x", "app.x*", "app*", "a b", "app.*.x", "app;x"}) {
    std::string e = problems_of(
        std::string("[database.db]\nplugin = postgres\nallowed_settings = ") + bad + "\n");
    EXPECT_THAT(e, HasSubstr("is not a setting's name")) << bad;
  }
}

TEST(SettingsTest, ReplicasAreUrisAndTheirMessagesHoldNoSecret) {
  auto s =
      load_settings(parse_ini("[database.db]\nplugin = postgres\ndsn = postgresql://p/db\n"
                              "replicas =  postgresql://u:pw@r1:5432/db\tpostgres://r2,r3/db \n"
                              "replica_balance = round_robin\nreplica_max_lag_ms = 5000\n",
                              "t.ini"),
                    no_env());
  ASSERT_EQ(s.databases.size(), 1u);
  const auto &o = s.databases[0].database;
  EXPECT_EQ(o.replicas,
            (std::vector<std::string>{"postgresql://u:pw@r1:5432/db", "postgres://r2,r3/db"}));
  EXPECT_FALSE(o.replica_least_busy);
  EXPECT_EQ(o.replica_max_lag_ms, 5000);
  EXPECT_EQ(o.replica_check_ms, 2000);
  // replicas is the host's key: the driver never sees it
  ASSERT_EQ(s.databases[0].plugin_values.size(), 1u);
  std::string e = problems_of(
      "[database.db]\nplugin = postgres\nreplicas = postgresql://r1/db host=r2 "
      "password=hunter2\nreplica_balance = random\n");
  EXPECT_THAT(e, HasSubstr("entry 2 is not a connection URI"));
  EXPECT_THAT(e, HasSubstr("'random' is not a replica_balance mode (least_busy or round_robin)"));
  EXPECT_THAT(e, testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(e, testing::Not(HasSubstr("r2")));
}

TEST(SettingsTest, JsonAndIniGiveTheSameSettings) {
  auto ini =
      load_settings(parse_ini("[server]\ntransport = http\n[http]\nlisten = 127.0.0.1:1\n"
                              "[rate_limiter.a]\nplugin = token-bucket\nrate = 1/s\nburst = 4\n",
                              "t.ini"),
                    no_env());
  auto json = load_settings(parse_json(R"({"server": {"transport": "http"},
      "http": {"listen": "127.0.0.1:1"},
      "rate_limiter": {"a": {"plugin": "token-bucket", "rate": "1/s", "burst": 4}}})",
                                       "t.json"),
                            no_env());
  EXPECT_EQ(ini.transport, json.transport);
  EXPECT_EQ(ini.http_listen.text(), json.http_listen.text());
  ASSERT_EQ(ini.rate_limiters.size(), json.rate_limiters.size());
  EXPECT_EQ(ini.rate_limiters[0].plugin, json.rate_limiters[0].plugin);
  auto sorted = [](auto v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(ini.rate_limiters[0].plugin_values),
            sorted(json.rate_limiters[0].plugin_values));
}

// The shipped example configs say the same thing in both formats.
TEST(SettingsTest, ShippedExamplesAgree) {
  auto read = [](const std::string &p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  auto ini = parse_ini(read(PGMCP_SOURCE_DIR "/conf/pg-mcp.ini"), "pg-mcp.ini");
  auto json = parse_json(read(PGMCP_SOURCE_DIR "/conf/pg-mcp.json"), "pg-mcp.json");
  ASSERT_EQ(ini.values.size(), json.values.size());
  for (const auto &[k, v] : ini.values) {
    ASSERT_EQ(json.values.count(k), 1u) << k;
    EXPECT_EQ(json.values.at(k).value, v.value) << k;
  }
}

TEST(EndpointTest, ParsesAndClassifies) {
  EXPECT_EQ(pgmcp::config::parse_endpoint("0.0.0.0:80").text(), "0.0.0.0:80");
  EXPECT_FALSE(pgmcp::config::parse_endpoint("0.0.0.0:80").loopback());
  EXPECT_TRUE(pgmcp::config::parse_endpoint("localhost:80").loopback());
  EXPECT_TRUE(pgmcp::config::parse_endpoint("127.1.2.3:80").loopback());
  EXPECT_TRUE(pgmcp::config::parse_endpoint("[::1]:0").loopback());
  EXPECT_THROW(pgmcp::config::parse_endpoint("::1:80"), std::invalid_argument);
  EXPECT_THROW(pgmcp::config::parse_endpoint("host:"), std::invalid_argument);
  EXPECT_THROW(pgmcp::config::parse_endpoint("host:8a"), std::invalid_argument);
  EXPECT_THROW(pgmcp::config::parse_endpoint("[::1]80"), std::invalid_argument);
}

}  // namespace

TEST(EndpointTest, LoopbackIsLocalhostOrA127LiteralNeverANameThatLooksLikeOne) {
  using pgmcp::config::is_loopback_host;
  for (const char *yes : {"localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1"})
    EXPECT_TRUE(is_loopback_host(yes)) << yes;
  for (const char *no : {"127.0.0.1.example.com", "127.evil.com", "localhost.example.com",
                         "0.0.0.0", "128.0.0.1", "", "::"})
    EXPECT_FALSE(is_loopback_host(no)) << no;
  EXPECT_FALSE((pgmcp::config::Endpoint{"127.0.0.1.example.com", 8765}.loopback()));
}
