#include "token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace pgmcp::token_bucket {

TokenBuckets::TokenBuckets(Settings settings, Now now) : settings_(settings), now_(std::move(now)) {
  if (!(settings_.rate_per_second > 0) || !(settings_.burst >= 1)) {
    throw std::invalid_argument("token bucket needs rate > 0 and burst >= 1");
  }
}

void TokenBuckets::refill(Bucket &b, Clock::time_point now) const {
  if (now > b.updated) {
    double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(settings_.burst, b.tokens + elapsed * settings_.rate_per_second);
    b.updated = now;
  }
}

void TokenBuckets::evict_idle(Shard &shard, Clock::time_point now) {
  // A bucket that has refilled to its burst is the same as no bucket at all.
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    refill(it->second, now);
    it = it->second.tokens >= settings_.burst ? shard.buckets.erase(it) : std::next(it);
  }
}

Decision TokenBuckets::reserve(std::string_view key, std::uint32_t cost,
                               std::chrono::microseconds max_wait) {
  if (cost > settings_.burst) {
    throw std::invalid_argument("cost " + std::to_string(cost) + " exceeds the burst of " +
                                std::to_string(static_cast<long long>(settings_.burst)) +
                                " and could never be granted");
  }
  Shard &shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  const auto now = now_();
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= std::max<std::size_t>(1, settings_.max_keys / kShards)) {
      evict_idle(shard, now);
    }
    it = shard.buckets.emplace(std::string(key), Bucket{settings_.burst, now}).first;
  }
  Bucket &b = it->second;
  refill(b, now);
  Decision d;
  if (b.tokens >= cost) {
    b.tokens -= cost;
    d.granted = true;
    return d;
  }
  double deficit = static_cast<double>(cost) - b.tokens;
  auto wait = std::chrono::microseconds(
      static_cast<std::int64_t>(std::ceil(deficit / settings_.rate_per_second * 1e6)));
  if (wait > max_wait) {
    d.retry_after = wait;
    return d;
  }
  b.tokens -= cost;  // a reservation: later callers queue behind it
  d.granted = true;
  d.wait = wait;
  return d;
}

std::size_t TokenBuckets::key_count() const {
  std::size_t n = 0;
  for (const auto &s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace pgmcp::token_bucket
