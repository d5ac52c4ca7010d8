// The host side of the objects the ABI keeps opaque, and the services table
// handed to each plugin.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgmcp/plugin.h"

// Collects what a plugin reports about a failure (pgmcp_host.error_set*).
struct pgmcp_error {
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
  // The value of a field, or empty.
  std::string field(std::string_view name) const;
};

// One plugin instance's section, owned by the host for the instance's lifetime.
struct pgmcp_config {
  std::string name;  // "rate_limiter.default"
  std::vector<std::pair<std::string, std::string>> values;
};

namespace pgmcp::plugins {

// A services table bound to one plugin (so its log lines carry its id).
// Must not move once handed out: keep it inside a heap object.
struct HostTable {
  explicit HostTable(std::string plugin_id);
  HostTable(const HostTable &) = delete;
  HostTable &operator=(const HostTable &) = delete;

  pgmcp_host api{};
  std::string component;  // "plugin:<id>"
};

}  // namespace pgmcp::plugins
