// Per-key token buckets: `rate` tokens per second refill up to `burst`.
// acquire() reserves future tokens (the bucket may go negative) so waiters are
// served in arrival order and the reported wait is exact.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pgmcp/cpp/ratelimit.hpp"

namespace pgmcp::token_bucket {

using Clock = std::chrono::steady_clock;

struct Settings {
  double rate_per_second = 1.0;   // > 0
  double burst = 1.0;             // >= 1
  std::size_t max_keys = 100000;  // buckets kept before idle ones are dropped
};

// "10/min" -> 10/60 per second (the SDK's, shared by every limiter).
using sdk::parse_rate;

struct Decision {
  bool granted = false;
  std::chrono::microseconds wait{0};         // granted: how long to wait first
  std::chrono::microseconds retry_after{0};  // refused: earliest possible grant
};

class TokenBuckets {
 public:
  using Now = std::function<Clock::time_point()>;
  explicit TokenBuckets(Settings settings, Now now = &Clock::now);

  // Grants cost tokens if the grant can start within max_wait; the caller then
  // waits `wait` before proceeding. Refusals consume nothing.
  // Throws std::invalid_argument when cost exceeds the burst.
  Decision reserve(std::string_view key, std::uint32_t cost, std::chrono::microseconds max_wait);

  std::size_t key_count() const;
  const Settings &settings() const { return settings_; }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr std::size_t kShards = 16;

  void refill(Bucket &b, Clock::time_point now) const;
  void evict_idle(Shard &shard, Clock::time_point now);

  Settings settings_;
  Now now_;
  std::array<Shard, kShards> shards_;
};

}  // namespace pgmcp::token_bucket
