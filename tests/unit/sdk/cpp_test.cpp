// The header-only C++ layer: exceptions become statuses and messages, and
// Config reads and validates an instance section.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pgmcp/cpp/plugin.hpp"
#include "plugins/host_services.hpp"

using pgmcp::sdk::Config;
using pgmcp::sdk::Error;
using pgmcp::sdk::guard;
using testing::HasSubstr;

namespace {

class SdkTest : public testing::Test {
 protected:
  void SetUp() override { pgmcp::sdk::detail::g_host = &host_.api; }
  void TearDown() override { pgmcp::sdk::detail::g_host = nullptr; }
  pgmcp::plugins::HostTable host_{"sdk-test"};
};

TEST_F(SdkTest, GuardTurnsExceptionsIntoStatusesAndMessages) {
  pgmcp_error err;
  EXPECT_EQ(guard(&err, [] {}), PGMCP_OK);
  EXPECT_EQ(
      guard(&err,
            [] { throw Error(PGMCP_ERR_TIMEOUT, "took too long").with("retry_after_ms", "250"); }),
      PGMCP_ERR_TIMEOUT);
  EXPECT_EQ(err.message, "took too long");
  EXPECT_EQ(err.field("retry_after_ms"), "250");
  EXPECT_EQ(guard(&err, [] { throw std::runtime_error("boom"); }), PGMCP_ERR_INTERNAL);
  EXPECT_EQ(err.message, "boom");
  EXPECT_EQ(guard(&err, [] { throw 42; }), PGMCP_ERR_INTERNAL);
  EXPECT_EQ(err.message, "unknown exception in plugin");
}

TEST_F(SdkTest, ConfigReadsTypedValuesAndNamesBadKeys) {
  pgmcp_config c{"llm.main",
                 {{"model", "x"},
                  {"timeout_ms", "1500"},
                  {"temperature", "0.2"},
                  {"stream", "yes"},
                  {"bad_int", "12abc"},
                  {"empty", ""}}};
  Config cfg(&host_.api, &c);
  EXPECT_EQ(cfg.name(), "llm.main");
  EXPECT_EQ(cfg.require("model"), "x");
  EXPECT_EQ(cfg.get_or("empty", "dflt"), "dflt");
  EXPECT_EQ(cfg.get_int("timeout_ms", 0, 1, 60000), 1500);
  EXPECT_EQ(cfg.get_int("absent", 7, 1, 10), 7);
  EXPECT_DOUBLE_EQ(cfg.get_double("temperature", 1, 0, 2), 0.2);
  EXPECT_TRUE(cfg.get_bool("stream", false));
  EXPECT_THROW(cfg.require("absent"), Error);
  try {
    cfg.get_int("bad_int", 0, 0, 100);
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(e.status(), PGMCP_ERR_CONFIG);
    EXPECT_THAT(e.what(), HasSubstr("bad_int = '12abc' is not a whole number from 0 to 100"));
  }
  EXPECT_THROW(cfg.get_int("timeout_ms", 0, 1, 1000), Error);  // out of range
  EXPECT_THROW(cfg.get_bool("model", false), Error);
  try {
    cfg.allow_only({"model", "timeout_ms", "temperature", "stream", "empty"});
    FAIL();
  } catch (const Error &e) {
    EXPECT_THAT(e.what(), HasSubstr("bad_int is not a known key (known: model, timeout_ms"));
  }
}

}  // namespace
