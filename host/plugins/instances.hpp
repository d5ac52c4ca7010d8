// Plugin instances the config asks for: each [rate_limiter.NAME],
// [database.NAME] and [llm.NAME] section becomes one object made by its plugin.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "config/settings.hpp"
#include "pgmcp/driver.h"
#include "pgmcp/llm.h"
#include "pgmcp/ratelimit.h"
#include "plugins/host_services.hpp"
#include "plugins/loader.hpp"

namespace pgmcp::plugins {

// An object created through a capability table. Holds the library (and the
// config strings the plugin may keep pointers to) until it is destroyed.
template <class Table, class Handle>
class Instance {
 public:
  Instance(std::shared_ptr<PluginLibrary> library, const Table &table,
           std::unique_ptr<pgmcp_config> config, Handle *handle)
      : library_(std::move(library)), table_(table), config_(std::move(config)), handle_(handle) {}
  ~Instance() {
    if (handle_ != nullptr) table_.destroy(handle_);
  }
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;

  const Table &table() const { return table_; }
  Handle *handle() const { return handle_; }
  const std::string &name() const { return config_->name; }
  const PluginLibrary &library() const { return *library_; }

 private:
  std::shared_ptr<PluginLibrary> library_;  // destroyed last: the code lives there
  Table table_;
  std::unique_ptr<pgmcp_config> config_;
  Handle *handle_;
};

using DatabaseInstance = Instance<pgmcp_driver_v1, pgmcp_database>;
using LlmInstance = Instance<pgmcp_llm_v1, pgmcp_llm>;

// What a rate limiter said.
struct Admission {
  bool granted = false;
  std::chrono::microseconds waited{0};
  std::chrono::microseconds retry_after{0};
  std::string error;  // set when the limiter itself failed (not a mere refusal)
  // Granted without the limit being checked (PGMCP_RATELIMIT_UNENFORCED).
  bool unenforced = false;
  // For pg_mcp_rate_limiter_decisions_total: granted, refused, unenforced, failed.
  const char *outcome() const {
    return !error.empty() ? "failed" : !granted ? "refused" : unenforced ? "unenforced" : "granted";
  }
};

class RateLimiter {
 public:
  explicit RateLimiter(std::unique_ptr<Instance<pgmcp_ratelimit_v1, pgmcp_ratelimiter>> instance)
      : instance_(std::move(instance)) {}
  const std::string &name() const { return instance_->name(); }
  // Grants now or refuses at once.
  Admission try_acquire(std::string_view key, std::uint32_t cost = 1);
  // Waits up to max_wait for a grant; refuses at once when it cannot come in time.
  Admission acquire(std::string_view key, std::uint32_t cost, std::chrono::milliseconds max_wait);

 private:
  std::unique_ptr<Instance<pgmcp_ratelimit_v1, pgmcp_ratelimiter>> instance_;
};

// Every instance the config names, by instance name.
struct Instances {
  std::map<std::string, std::shared_ptr<RateLimiter>> rate_limiters;
  std::map<std::string, std::shared_ptr<DatabaseInstance>> databases;
  // Each database's read replicas (`replicas`), in order: the same driver
  // and keys, another dsn.
  std::map<std::string, std::vector<std::shared_ptr<DatabaseInstance>>> replicas;
  std::map<std::string, std::shared_ptr<LlmInstance>> llms;
};

// What is wrong with a plugin's table for capability `id` under the ABI's
// growth rule (smaller than its 1.0 layout, a required function NULL), or an
// empty string; also empty for capabilities this host does not know.
std::string capability_problem(std::string_view id, const void *table);

// Creates every instance in settings with the registry's plugins. Throws
// config::ConfigError listing each instance that could not be made and why.
Instances create_instances(const config::Settings &settings, const PluginRegistry &registry);

}  // namespace pgmcp::plugins
