// The token-bucket logic with a fake clock, and the real plugin through the
// loader and the C ABI.
#include "token_bucket.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "config/settings.hpp"
#include "plugins/instances.hpp"

using namespace std::chrono_literals;
using pgmcp::token_bucket::Clock;
using pgmcp::token_bucket::parse_rate;
using pgmcp::token_bucket::Settings;
using pgmcp::token_bucket::TokenBuckets;
using testing::HasSubstr;

namespace {

struct FakeClock {
  Clock::time_point now = Clock::time_point(1000s);
  TokenBuckets::Now fn() {
    return [this] { return now; };
  }
};

TEST(ParseRateTest, UnitsAndErrors) {
  EXPECT_DOUBLE_EQ(parse_rate("5/s"), 5.0);
  EXPECT_DOUBLE_EQ(parse_rate("10/min"), 10.0 / 60);
  EXPECT_DOUBLE_EQ(parse_rate("36/h"), 0.01);
  EXPECT_DOUBLE_EQ(parse_rate("0.5/second"), 0.5);
  EXPECT_DOUBLE_EQ(parse_rate("2 / minute"), 2.0 / 60);
  for (const char *bad :
       {"", "10", "/s", "10/", "10/day", "-1/s", "0/s", "x/s", "1e999/s", "5/s "}) {
    EXPECT_THROW(parse_rate(bad), std::invalid_argument) << bad;
  }
}

TEST(TokenBucketTest, BurstIsGrantedAtOnceThenRefused) {
  FakeClock clock;
  TokenBuckets b(Settings{1.0, 3.0, 100}, clock.fn());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.reserve("k", 1, 0us).granted) << i;
  auto d = b.reserve("k", 1, 0us);
  EXPECT_FALSE(d.granted);
  EXPECT_EQ(d.retry_after, 1s);  // one token at 1/s
}

TEST(TokenBucketTest, RefillsAtTheRateUpToTheBurst) {
  FakeClock clock;
  TokenBuckets b(Settings{2.0, 4.0, 100}, clock.fn());  // 2 tokens/s
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(b.reserve("k", 1, 0us).granted);
  clock.now += 500ms;  // one token back
  EXPECT_TRUE(b.reserve("k", 1, 0us).granted);
  EXPECT_FALSE(b.reserve("k", 1, 0us).granted);
  clock.now += 1h;  // refill stops at the burst
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(b.reserve("k", 1, 0us).granted) << i;
  EXPECT_FALSE(b.reserve("k", 1, 0us).granted);
}

TEST(TokenBucketTest, KeysAreIndependent) {
  FakeClock clock;
  TokenBuckets b(Settings{1.0, 1.0, 100}, clock.fn());
  EXPECT_TRUE(b.reserve("alice", 1, 0us).granted);
  EXPECT_FALSE(b.reserve("alice", 1, 0us).granted);
  EXPECT_TRUE(b.reserve("bob", 1, 0us).granted);
}

TEST(TokenBucketTest, CostAboveBurstIsAnErrorAndCostsAddUp) {
  FakeClock clock;
  TokenBuckets b(Settings{1.0, 5.0, 100}, clock.fn());
  EXPECT_THROW(b.reserve("k", 6, 1h), std::invalid_argument);
  EXPECT_TRUE(b.reserve("k", 5, 0us).granted);
  auto d = b.reserve("k", 2, 0us);
  EXPECT_FALSE(d.granted);
  EXPECT_EQ(d.retry_after, 2s);
}

TEST(TokenBucketTest, DeadlineGrantsWithTheExactWaitOrRefusesWithoutConsuming) {
  FakeClock clock;
  TokenBuckets b(Settings{10.0, 1.0, 100}, clock.fn());  // one token per 100 ms
  ASSERT_TRUE(b.reserve("k", 1, 0us).granted);
  auto refused = b.reserve("k", 1, 50ms);  // needs 100 ms
  EXPECT_FALSE(refused.granted);
  EXPECT_EQ(refused.retry_after, 100ms);
  auto granted = b.reserve("k", 1, 150ms);
  EXPECT_TRUE(granted.granted);
  EXPECT_EQ(granted.wait, 100ms);
  // The reservation queues the next caller behind it.
  auto next = b.reserve("k", 1, 1s);
  EXPECT_TRUE(next.granted);
  EXPECT_EQ(next.wait, 200ms);
}

TEST(TokenBucketTest, IdleFullBucketsAreEvictedPastMaxKeys) {
  FakeClock clock;
  TokenBuckets b(Settings{1.0, 1.0, 16}, clock.fn());  // one bucket per shard
  for (int i = 0; i < 200; ++i) b.reserve("k" + std::to_string(i), 1, 0us);
  EXPECT_GT(b.key_count(), 16u);  // all still draining: nothing to evict
  clock.now += 10s;               // all refilled: equivalent to absent
  b.reserve("fresh", 1, 0us);
  EXPECT_LT(b.key_count(), 200u);
}

// --- the real plugin, through the loader and the C ABI ---

pgmcp::plugins::Instances make_limiter(const std::string &body,
                                       pgmcp::plugins::PluginRegistry &registry) {
  // Just this plugin: the tests need neither the others nor their libraries.
  EXPECT_FALSE(
      registry.load_file(std::filesystem::path(PGMCP_PLUGIN_DIR) / "token-bucket.so").has_value());
  auto settings = pgmcp::config::load_settings(
      pgmcp::config::parse_ini("[rate_limiter.t]\nplugin = token-bucket\n" + body, "t.ini"),
      [](const std::string &) -> const char * { return nullptr; });
  return pgmcp::plugins::create_instances(settings, registry);
}

std::string config_error(const std::string &body) {
  pgmcp::plugins::PluginRegistry registry;
  try {
    make_limiter(body, registry);
  } catch (const pgmcp::config::ConfigError &e) {
    return e.what();
  }
  return "no error";
}

TEST(TokenBucketPluginTest, RejectsBadConfig) {
  EXPECT_THAT(config_error(""), HasSubstr("[rate_limiter.t]: rate is required"));
  EXPECT_THAT(config_error("rate = fast\n"),
              HasSubstr("rate = 'fast' is not a rate: write N/s, N/min or N/h"));
  EXPECT_THAT(config_error("rate = 10/min\nburst = 0\n"),
              HasSubstr("burst = '0' is not a whole number from 1"));
  EXPECT_THAT(config_error("rate = 10/min\nburst = 2.5\n"),
              HasSubstr("burst = '2.5' is not a whole number"));
  EXPECT_THAT(config_error("rate = 10/min\nmax_keys = -3\n"), HasSubstr("max_keys = '-3'"));
  EXPECT_THAT(config_error("rate = 10/min\nburts = 3\n"),
              HasSubstr("burts is not a known key (known: rate, burst, max_keys)"));
}

TEST(TokenBucketPluginTest, DefaultBurstIsTheRateCount) {
  pgmcp::plugins::PluginRegistry registry;
  auto inst = make_limiter("rate = 3/h\n", registry);
  auto &l = *inst.rate_limiters.at("t");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l.try_acquire("k").granted);
  auto refused = l.try_acquire("k");
  EXPECT_FALSE(refused.granted);
  EXPECT_TRUE(refused.error.empty());
  EXPECT_GT(refused.retry_after, 1000s);  // 20 minutes per token
}

TEST(TokenBucketPluginTest, AcquireWaitsForARealGrantAndReportsTheWait) {
  pgmcp::plugins::PluginRegistry registry;
  auto inst = make_limiter("rate = 50/s\nburst = 1\n", registry);  // a token every 20 ms
  auto &l = *inst.rate_limiters.at("t");
  ASSERT_TRUE(l.try_acquire("k").granted);
  auto start = std::chrono::steady_clock::now();
  auto a = l.acquire("k", 1, 1000ms);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(a.granted);
  EXPECT_GT(a.waited, 0us);
  EXPECT_LE(a.waited, 20ms);
  EXPECT_GE(elapsed, a.waited);
  // A deadline too short for the next token is refused at once.
  auto refused = l.acquire("k", 1, 1ms);
  EXPECT_FALSE(refused.granted);
  EXPECT_GT(refused.retry_after, 1ms);
}

TEST(TokenBucketPluginTest, CostAboveBurstIsAnErrorNotARefusal) {
  pgmcp::plugins::PluginRegistry registry;
  auto inst = make_limiter("rate = 1/s\nburst = 2\n", registry);
  auto a = inst.rate_limiters.at("t")->try_acquire("k", 3);
  EXPECT_FALSE(a.granted);
  EXPECT_THAT(a.error, HasSubstr("cost 3 exceeds the burst of 2"));
}

TEST(TokenBucketPluginTest, ManyThreadsOnOneKeyGetExactlyTheBurst) {
  pgmcp::plugins::PluginRegistry registry;
  // 1/h: no refill within the test, so the burst is the exact total.
  auto inst = make_limiter("rate = 1/h\nburst = 1000\n", registry);
  auto &l = *inst.rate_limiters.at("t");
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i)
        if (l.try_acquire("shared").granted) ++granted;
    });
  }
  for (auto &t : threads) t.join();
  EXPECT_EQ(granted.load(), 1000);
}

}  // namespace
