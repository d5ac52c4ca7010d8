// The "token-bucket" plugin: an in-process rate limiter for one pg-mcp.
//   [rate_limiter.NAME]
//   plugin   = token-bucket
//   rate     = 10/min     ; N/s, N/min or N/h (required)
//   burst    = 10         ; tokens a key may spend at once (default: N of the rate)
//   max_keys = 100000     ; buckets kept before idle ones are dropped
#include <cmath>
#include <stdexcept>
#include <thread>

#include "pgmcp/cpp/ratelimit.hpp"
#include "token_bucket.hpp"

namespace {

using pgmcp::sdk::Config;
using pgmcp::sdk::Grant;

pgmcp::token_bucket::Settings read_settings(const Config &config) {
  config.allow_only({"rate", "burst", "max_keys"});
  std::string rate_text = config.require("rate");
  pgmcp::token_bucket::Settings s;
  try {
    s.rate_per_second = pgmcp::token_bucket::parse_rate(rate_text);
  } catch (const std::invalid_argument &e) {
    throw config.fail("rate", std::string("= ") + e.what());
  }
  // Default burst: the N of "N/unit", so "10/min" allows 10 at once.
  double n = std::strtod(rate_text.c_str(), nullptr);
  long long default_burst = std::max(1LL, static_cast<long long>(std::ceil(n)));
  s.burst = static_cast<double>(config.get_int("burst", default_burst, 1, 1000000000));
  s.max_keys = static_cast<std::size_t>(config.get_int("max_keys", 100000, 1, 100000000));
  return s;
}

class TokenBucketLimiter final : public pgmcp::sdk::RateLimiter {
 public:
  explicit TokenBucketLimiter(const Config &config) : buckets_(read_settings(config)) {}

  Grant try_acquire(std::string_view key, std::uint32_t cost) override {
    return decide(key, cost, std::chrono::microseconds(0));
  }

  Grant acquire(std::string_view key, std::uint32_t cost,
                std::chrono::milliseconds max_wait) override {
    return decide(key, cost, max_wait);
  }

 private:
  Grant decide(std::string_view key, std::uint32_t cost, std::chrono::microseconds max_wait) {
    pgmcp::token_bucket::Decision d;
    try {
      d = buckets_.reserve(key, cost, max_wait);
    } catch (const std::invalid_argument &e) {
      throw pgmcp::sdk::Error(PGMCP_ERR_INVALID_ARGUMENT, e.what());
    }
    Grant g;
    g.granted = d.granted;
    g.retry_after = d.retry_after;
    if (d.granted && d.wait.count() > 0) {
      std::this_thread::sleep_for(d.wait);
      g.waited = d.wait;
    }
    return g;
  }

  pgmcp::token_bucket::TokenBuckets buckets_;
};

}  // namespace

PGMCP_PLUGIN("token-bucket", "1.0.0", "In-process token-bucket rate limiter, per key",
             pgmcp::sdk::RateLimiterCapability<TokenBucketLimiter>)
