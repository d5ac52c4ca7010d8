// Example plugin: a fixed-window rate limiter. Each key may spend `limit`
// units per window of `window_s` seconds; the count resets when a new window
// starts. Simpler and burstier than a token bucket.
//   [rate_limiter.NAME]
//   plugin   = fixed-window
//   limit    = 100
//   window_s = 60
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "pgmcp/cpp/ratelimit.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using pgmcp::sdk::Config;
using pgmcp::sdk::Grant;

class FixedWindow final : public pgmcp::sdk::RateLimiter {
 public:
  explicit FixedWindow(const Config &config) {
    config.allow_only({"limit", "window_s"});
    limit_ = static_cast<std::uint64_t>(config.get_int("limit", 60, 1, 1000000000));
    window_ = std::chrono::seconds(config.get_int("window_s", 60, 1, 86400));
  }

  Grant try_acquire(std::string_view key, std::uint32_t cost) override {
    return take(key, cost, std::chrono::milliseconds(0));
  }

  Grant acquire(std::string_view key, std::uint32_t cost,
                std::chrono::milliseconds max_wait) override {
    return take(key, cost, max_wait);
  }

 private:
  struct Window {
    std::int64_t index = -1;
    std::uint64_t used = 0;
  };

  Grant take(std::string_view key, std::uint32_t cost, std::chrono::milliseconds max_wait) {
    if (cost > limit_) {
      throw pgmcp::sdk::Error(
          PGMCP_ERR_INVALID_ARGUMENT,
          "cost " + std::to_string(cost) + " exceeds the window limit " + std::to_string(limit_));
    }
    const auto start = Clock::now();
    std::unique_lock lock(mutex_);
    for (;;) {
      const auto now = Clock::now();
      const auto since_epoch = now.time_since_epoch();
      const std::int64_t index = since_epoch / window_;
      Window &w = windows_[std::string(key)];
      if (w.index != index) w = Window{index, 0};
      if (w.used + cost <= limit_) {
        w.used += cost;
        Grant g;
        g.granted = true;
        g.waited = std::chrono::duration_cast<std::chrono::microseconds>(now - start);
        return g;
      }
      const auto next = Clock::time_point((index + 1) * window_);
      const auto retry = std::chrono::duration_cast<std::chrono::microseconds>(next - now);
      if (now + retry > start + max_wait) {
        Grant g;
        g.retry_after = retry;
        return g;
      }
      lock.unlock();
      std::this_thread::sleep_until(next);
      lock.lock();
    }
  }

  std::uint64_t limit_ = 60;
  std::chrono::seconds window_{60};
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace

PGMCP_PLUGIN("fixed-window", "1.0.0", "Example: fixed-window rate limiter, per key",
             pgmcp::sdk::RateLimiterCapability<FixedWindow>)
