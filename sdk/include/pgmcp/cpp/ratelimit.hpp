// C++ base class for "pgmcp.ratelimit/1" plugins.
#ifndef PGMCP_CPP_RATELIMIT_HPP
#define PGMCP_CPP_RATELIMIT_HPP

#include "pgmcp/cpp/plugin.hpp"
#include "pgmcp/ratelimit.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgmcp::sdk {

struct Grant {
  bool granted = false;
  std::chrono::microseconds waited{0};       // granted: how long it waited
  std::chrono::microseconds retry_after{0};  // refused: earliest retry, 0 if unknown
  // Granted without checking the limit: its store is unreachable and the
  // configuration lets calls through (PGMCP_RATELIMIT_UNENFORCED).
  bool unenforced = false;
};

// "10/min" -> 10/60 per second; units s, sec, second, min, minute, h, hour.
// Throws std::invalid_argument saying how to write a rate.
inline double parse_rate(std::string_view text) {
  auto bad = [&] {
    return std::invalid_argument("'" + std::string(text) +
                                 "' is not a rate: write N/s, N/min or N/h (e.g. 10/min)");
  };
  auto slash = text.find('/');
  if (slash == std::string_view::npos) throw bad();
  std::string count(text.substr(0, slash));
  std::string_view unit = text.substr(slash + 1);
  while (!count.empty() && count.back() == ' ') count.pop_back();
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  char *end = nullptr;
  double n = std::strtod(count.c_str(), &end);
  if (count.empty() || end == count.c_str() || *end != '\0' || !std::isfinite(n) || n <= 0)
    throw bad();
  double seconds = 0;
  if (unit == "s" || unit == "sec" || unit == "second")
    seconds = 1;
  else if (unit == "min" || unit == "minute")
    seconds = 60;
  else if (unit == "h" || unit == "hour")
    seconds = 3600;
  else
    throw bad();
  return n / seconds;
}

// Implement this; the constructor takes a `const Config &` and throws Error on
// bad config. Both methods may be called concurrently from many threads.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  virtual Grant try_acquire(std::string_view key, std::uint32_t cost) = 0;
  virtual Grant acquire(std::string_view key, std::uint32_t cost,
                        std::chrono::milliseconds max_wait) = 0;
};

// Builds the C table for T (derived from RateLimiter).
template <class T>
struct RateLimiterCapability {
  static constexpr const char *id = PGMCP_RATELIMIT_V1;

  static const void *table() {
    static const pgmcp_ratelimit_v1 t = {sizeof(pgmcp_ratelimit_v1), &create, &destroy,
                                         &try_acquire, &acquire};
    return &t;
  }

 private:
  static RateLimiter *self(pgmcp_ratelimiter *p) { return reinterpret_cast<RateLimiter *>(p); }

  static pgmcp_status report(const Grant &g, pgmcp_ratelimit_result *r) {
    if (r != nullptr) {
      if (PGMCP_HAS_FIELD(pgmcp_ratelimit_result, r->struct_size, waited_us))
        r->waited_us = static_cast<std::uint64_t>(g.waited.count());
      if (PGMCP_HAS_FIELD(pgmcp_ratelimit_result, r->struct_size, retry_after_us))
        r->retry_after_us = static_cast<std::uint64_t>(g.retry_after.count());
      if (PGMCP_HAS_FIELD(pgmcp_ratelimit_result, r->struct_size, flags))
        r->flags = g.unenforced ? PGMCP_RATELIMIT_UNENFORCED : 0u;
    }
    if (g.granted) return PGMCP_OK;
    return PGMCP_ERR_RATE_LIMITED;
  }

  static pgmcp_status PGMCP_CALL create(const pgmcp_host *host, const pgmcp_config *config,
                                        pgmcp_ratelimiter **out, pgmcp_error *err) noexcept {
    return guard(err, [&] {
      RateLimiter *instance = new T(Config(host, config));
      *out = reinterpret_cast<pgmcp_ratelimiter *>(instance);
    });
  }

  static void PGMCP_CALL destroy(pgmcp_ratelimiter *p) noexcept { delete self(p); }

  static pgmcp_status refused(pgmcp_error *err, const Grant &g) noexcept {
    const pgmcp_host *h = Host::table();
    if (h != nullptr && err != nullptr) {
      std::string ms = std::to_string((g.retry_after.count() + 999) / 1000);
      h->error_set_field(err, "retry_after_ms", ms.c_str());
      h->error_set(err, ("rate limited, retry after " + ms + " ms").c_str());
    }
    return PGMCP_ERR_RATE_LIMITED;
  }

  static pgmcp_status PGMCP_CALL try_acquire(pgmcp_ratelimiter *p, const char *key,
                                             std::uint32_t cost, pgmcp_ratelimit_result *r,
                                             pgmcp_error *err) noexcept {
    Grant g;
    pgmcp_status s = guard(err, [&] { g = self(p)->try_acquire(key, cost); });
    if (s != PGMCP_OK) return s;
    return report(g, r) == PGMCP_OK ? PGMCP_OK : refused(err, g);
  }

  static pgmcp_status PGMCP_CALL acquire(pgmcp_ratelimiter *p, const char *key, std::uint32_t cost,
                                         std::uint32_t max_wait_ms, pgmcp_ratelimit_result *r,
                                         pgmcp_error *err) noexcept {
    Grant g;
    pgmcp_status s = guard(
        err, [&] { g = self(p)->acquire(key, cost, std::chrono::milliseconds(max_wait_ms)); });
    if (s != PGMCP_OK) return s;
    return report(g, r) == PGMCP_OK ? PGMCP_OK : refused(err, g);
  }
};

}  // namespace pgmcp::sdk

#endif  // PGMCP_CPP_RATELIMIT_HPP
