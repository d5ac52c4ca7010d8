// Header-only C++ layer over the pg-mcp plugin ABI. Plugin authors write C++
// classes; these helpers turn them into the C tables with noexcept trampolines
// that catch every exception and turn it into a status and a message.
// Works with C++17 and later.
#ifndef PGMCP_CPP_PLUGIN_HPP
#define PGMCP_CPP_PLUGIN_HPP

#include "pgmcp/plugin.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmcp::sdk {

// A failure with a status code and optional named fields (see error_set_field).
class Error : public std::runtime_error {
 public:
  Error(pgmcp_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}
  Error &with(std::string field, std::string value) {
    fields_.emplace_back(std::move(field), std::move(value));
    return *this;
  }
  pgmcp_status status() const noexcept { return status_; }
  const std::vector<std::pair<std::string, std::string>> &fields() const noexcept {
    return fields_;
  }

 private:
  pgmcp_status status_;
  std::vector<std::pair<std::string, std::string>> fields_;
};

namespace detail {
// The host table this library was initialised with; one per plugin library.
inline const pgmcp_host *g_host = nullptr;
}  // namespace detail

// Access to the host services from anywhere in the plugin.
class Host {
 public:
  static const pgmcp_host *table() noexcept { return detail::g_host; }
  static bool log_enabled(pgmcp_log_level level) noexcept {
    const pgmcp_host *h = detail::g_host;
    return h != nullptr && h->log_enabled != nullptr && h->log_enabled(h, level) != 0;
  }
  static void log(pgmcp_log_level level, const std::string &message) noexcept {
    const pgmcp_host *h = detail::g_host;
    if (h != nullptr && h->log != nullptr) h->log(h, level, message.c_str());
  }
};

// Runs fn and converts any exception into a status and a message in err.
template <class Fn>
pgmcp_status guard(pgmcp_error *err, Fn &&fn) noexcept {
  const pgmcp_host *h = detail::g_host;
  auto report = [&](pgmcp_status status, const char *message) noexcept {
    if (h != nullptr && err != nullptr && h->error_set != nullptr) h->error_set(err, message);
    return status;
  };
  try {
    fn();
    return PGMCP_OK;
  } catch (const Error &e) {
    if (h != nullptr && err != nullptr && h->error_set_field != nullptr) {
      for (const auto &f : e.fields()) h->error_set_field(err, f.first.c_str(), f.second.c_str());
    }
    return report(e.status() == PGMCP_OK ? PGMCP_ERR_INTERNAL : e.status(), e.what());
  } catch (const std::exception &e) {
    return report(PGMCP_ERR_INTERNAL, e.what());
  } catch (...) {
    return report(PGMCP_ERR_INTERNAL, "unknown exception in plugin");
  }
}

// One plugin instance's config section, read and validated.
class Config {
 public:
  Config(const pgmcp_host *host, const pgmcp_config *config) : host_(host), config_(config) {}

  std::string name() const { return host_->config_name(config_); }

  std::optional<std::string> get(const char *key) const {
    const char *v = host_->config_get(config_, key);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  }

  std::string get_or(const char *key, std::string fallback) const {
    auto v = get(key);
    return v && !v->empty() ? *v : std::move(fallback);
  }

  std::string require(const char *key) const {
    auto v = get(key);
    if (!v || v->empty()) throw fail(key, "is required");
    return *v;
  }

  // A whole number in [min, max]; fallback when absent or empty.
  long long get_int(const char *key, long long fallback, long long min, long long max) const {
    auto v = get(key);
    if (!v || v->empty()) return fallback;
    errno = 0;
    char *end = nullptr;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (errno != 0 || end == v->c_str() || *end != '\0' || n < min || n > max) {
      throw fail(key, "= '" + *v + "' is not a whole number from " + std::to_string(min) + " to " +
                          std::to_string(max));
    }
    return n;
  }

  // A finite number in [min, max]; fallback when absent or empty.
  double get_double(const char *key, double fallback, double min, double max) const {
    auto v = get(key);
    if (!v || v->empty()) return fallback;
    errno = 0;
    char *end = nullptr;
    double d = std::strtod(v->c_str(), &end);
    if (errno != 0 || end == v->c_str() || *end != '\0' || !std::isfinite(d) || d < min ||
        d > max) {
      throw fail(key, "= '" + *v + "' is not a number from " + std::to_string(min) + " to " +
                          std::to_string(max));
    }
    return d;
  }

  bool get_bool(const char *key, bool fallback) const {
    auto v = get(key);
    if (!v || v->empty()) return fallback;
    if (*v == "true" || *v == "yes" || *v == "on" || *v == "1") return true;
    if (*v == "false" || *v == "no" || *v == "off" || *v == "0") return false;
    throw fail(key, "= '" + *v + "' is not a boolean (true or false)");
  }

  // Rejects any key not in `known`, naming it and listing the known ones.
  // Calls fn(key, value) for every key of the section, in file order.
  template <class F>
  void each(F &&fn) const {
    host_->config_each(
        config_,
        [](void *user, const char *key, const char *value) {
          (*static_cast<F *>(user))(std::string_view(key), std::string_view(value));
        },
        &fn);
  }

  void allow_only(std::initializer_list<const char *> known) const {
    struct Visit {
      std::initializer_list<const char *> known;
      std::string unknown;
    } visit{known, {}};
    host_->config_each(
        config_,
        [](void *user, const char *key, const char *) {
          auto *v = static_cast<Visit *>(user);
          if (!v->unknown.empty()) return;
          for (const char *k : v->known)
            if (std::strcmp(k, key) == 0) return;
          v->unknown = key;
        },
        &visit);
    if (!visit.unknown.empty()) {
      std::string list;
      for (const char *k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      throw fail(visit.unknown.c_str(), "is not a known key (known: " + list + ")");
    }
  }

  // An Error of kind PGMCP_ERR_CONFIG naming the key.
  Error fail(const char *key, const std::string &what) const {
    return Error(PGMCP_ERR_CONFIG, std::string(key) + " " + what);
  }

 private:
  const pgmcp_host *host_;
  const pgmcp_config *config_;
};

namespace detail {

template <class... Caps>
const void *PGMCP_CALL get_capability(const char *id) {
  const void *found = nullptr;
  ((found = found != nullptr ? found : (std::strcmp(id, Caps::id) == 0 ? Caps::table() : nullptr)),
   ...);
  return found;
}

inline pgmcp_status PGMCP_CALL default_init(const pgmcp_host *host, pgmcp_error *) {
  g_host = host;
  return PGMCP_OK;
}

inline void PGMCP_CALL default_deinit() { g_host = nullptr; }

template <class... Caps>
const pgmcp_plugin *describe(uint32_t host_abi_major, const char *id, const char *version,
                             const char *description) {
  static const pgmcp_plugin plugin = {
      sizeof(pgmcp_plugin), PGMCP_ABI_MAJOR, PGMCP_ABI_MINOR,         id, version, description,
      &default_init,        &default_deinit, &get_capability<Caps...>};
  return host_abi_major == PGMCP_ABI_MAJOR ? &plugin : nullptr;
}

}  // namespace detail
}  // namespace pgmcp::sdk

// Declares the plugin: its id, version, one-line description and the
// capabilities it offers, e.g.
//   PGMCP_PLUGIN("token-bucket", "1.0.0", "In-process token bucket",
//                pgmcp::sdk::RateLimiterCapability<TokenBucket>)
// Use once per plugin library, at namespace scope.
#define PGMCP_PLUGIN(ID, VERSION, DESCRIPTION, ...)                                               \
  extern "C" PGMCP_EXPORT const pgmcp_plugin *PGMCP_CALL pgmcp_plugin_entry(                      \
      uint32_t host_abi_major) {                                                                  \
    return ::pgmcp::sdk::detail::describe<__VA_ARGS__>(host_abi_major, ID, VERSION, DESCRIPTION); \
  }

#endif  // PGMCP_CPP_PLUGIN_HPP
