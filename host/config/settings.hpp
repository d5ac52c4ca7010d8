// The validated, typed server configuration. Plugin instance sections keep
// their own keys as strings: the plugin validates those itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config_file.hpp"
#include "log/log.hpp"

namespace pgmcp::config {

enum class Transport { stdio, http };

struct Endpoint {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
  std::string text() const;  // "127.0.0.1:8765", "[::1]:8765"
  bool loopback() const;
};
// Parses "host:port" or "[v6]:port"; throws std::invalid_argument.
Endpoint parse_endpoint(std::string_view text);

// A [rate_limiter.NAME], [database.NAME] or [llm.NAME] section.
struct InstanceSpec {
  std::string kind;          // "rate_limiter", "database", "llm"
  std::string name;          // "default"
  std::string plugin;        // plugin id
  std::string rate_limiter;  // name of a [rate_limiter.NAME], or empty
  std::string description;   // for humans (and the LLM choosing a database)
  std::string where;         // "file:line" of the section, for messages
  // The keys the plugin owns, in file order, ${VAR} expanded.
  std::vector<std::pair<std::string, std::string>> plugin_values;
  std::string section() const { return kind + "." + name; }
};

struct Settings {
  std::string config_path;
  Transport transport = Transport::stdio;
  std::string plugin_dir;  // empty: next to the executable
  log::Level log_level = log::Level::info;
  log::Format log_format = log::Format::text;
  Endpoint http_listen{"127.0.0.1", 8765};
  std::string http_path = "/mcp";
  std::optional<Endpoint> observability_listen = Endpoint{"127.0.0.1", 9090};
  std::vector<InstanceSpec> rate_limiters;
  std::vector<InstanceSpec> databases;
  std::vector<InstanceSpec> llms;
};

// Validates every key of file; throws ConfigError listing every problem found.
Settings load_settings(const ConfigFile &file, const EnvLookup &env);

// The defaults, for running without a config file.
Settings default_settings();

}  // namespace pgmcp::config
