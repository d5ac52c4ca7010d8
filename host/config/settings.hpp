// The validated, typed server configuration. Plugin instance sections keep
// their own keys as strings: the plugin validates those itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config_file.hpp"
#include "config/vocabulary.hpp"
#include "log/log.hpp"

namespace pgmcp::config {

// The LLM provider that asks the caller's own model through its client
// (sampling/createMessage): its plugin id, and the [llm.NAME] it is known by
// when the configuration names no provider.
inline constexpr const char *kClientModel = "sampling";

enum class Transport { stdio, http };

// localhost, ::1, or an IPv4 literal in 127.0.0.0/8 (case-insensitive).
bool is_loopback_host(std::string_view host);

struct Endpoint {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
  std::string text() const;  // "127.0.0.1:8765", "[::1]:8765"
  bool loopback() const;     // is_loopback_host(host)
};
// Parses "host:port" or "[v6]:port"; throws std::invalid_argument.
Endpoint parse_endpoint(std::string_view text);

// What the host enforces for one [database.NAME], whatever its driver.
struct DatabaseOptions {
  int pool_min = 0;
  int pool_max = 8;
  int acquire_timeout_ms = 5000;
  int statement_timeout_ms = 30000;
  std::string role;         // SET LOCAL ROLE, empty = none
  std::string search_path;  // SET LOCAL search_path, empty = the role's own
  long long max_rows = 1000;
  // The whole tool result that carries rows (both renderings and what
  // surrounds them): well under the 10 MiB some clients take at most.
  long long max_result_bytes = 4 * 1024 * 1024;
  bool allow_explain_analyze = false;
  // Plain queries run inside the row guard: PostgreSQL stops a row larger
  // than max_result_bytes before sending it (see docs/operations.md).
  bool row_guard = true;
  // The SQL policy (docs/security.md). Names as in SQL; checked at start-up.
  bool allow_write = false;
  bool allow_explain = true;
  std::vector<std::string> blocked_tables, blocked_columns, blocked_functions, allowed_functions,
      allowed_tables, allowed_columns;
  // Settings a statement may read by name (current_setting, SHOW) although
  // they may hold secrets: name, or prefix.* for custom settings.
  std::vector<std::string> allowed_settings;
  int schema_ttl_s = 300;
  bool schema_at_startup = true;
  // The query tool's linking and prompt may use the most common values of
  // text columns with few distinct values, from PostgreSQL's statistics.
  bool sample_values = false;
  int rate_limit_wait_ms = 0;
  // Read replicas: connection strings given to the driver in place of its
  // dsn. Reads go to the healthy ones; writes and the host's catalog reads
  // to the primary.
  std::vector<std::string> replicas;
  bool replica_least_busy = true;  // else round robin
  int replica_check_ms = 2000;
  long long replica_max_lag_ms = 0;  // 0: lag never takes a replica out
};

// What the host enforces around one [llm.NAME], whatever its provider.
struct LlmOptions {
  int max_retries = 2;         // after the first attempt
  int retry_base_ms = 500;     // backoff: full jitter up to base * 2^attempt
  int retry_max_ms = 10000;    // the cap of one wait (and of a Retry-After)
  int breaker_failures = 5;    // consecutive failed calls that open the circuit
  int breaker_reset_s = 30;    // how long it stays open before one trial call
  int rate_limit_wait_ms = 0;  // how long a call may wait for the rate limiter
};

// The query tool ([tools] query.*).
struct QueryToolSettings {
  std::string llm;  // [llm.NAME]; empty: the only one configured, else "sampling"
  int max_attempts = 3;
  bool verify = false;
  int min_confidence = 60;
  int context_budget_tokens = 6000;
  int max_question_chars = 2000;
  // The operator's terms and example questions (config/vocabulary.hpp), read
  // from vocabulary_file when it is set.
  std::string vocabulary_file;
  std::shared_ptr<const Vocabulary> vocabulary;
};

// A [rate_limiter.NAME], [database.NAME] or [llm.NAME] section.
struct InstanceSpec {
  std::string kind;          // "rate_limiter", "database", "llm"
  std::string name;          // "default"
  std::string plugin;        // plugin id
  std::string rate_limiter;  // name of a [rate_limiter.NAME], or empty
  std::string description;   // for humans (and the LLM choosing a database)
  DatabaseOptions database;  // [database.NAME] only
  LlmOptions llm;            // [llm.NAME] only
  std::string where;         // "file:line" of the section, for messages
  // The keys the plugin owns, in file order, ${VAR} expanded.
  std::vector<std::pair<std::string, std::string>> plugin_values;
  std::string section() const { return kind + "." + name; }
};

enum class AuthMode { none, bearer, jwt };

struct AuthSettings {
  AuthMode mode = AuthMode::none;
  // bearer: "subject:token" or "token" entries.
  std::vector<std::string> tokens;
  // jwt: an OAuth 2.1 resource server.
  std::string issuer;
  std::vector<std::string> audiences;  // default: the resource URL
  std::string jwks_file;
  std::string jwks_url;
  std::string resource;  // this server's canonical URL
  std::vector<std::string> authorization_servers;
  std::vector<std::string> required_scopes;
  int leeway_s = 60;
};

struct Settings {
  std::string config_path;
  Transport transport = Transport::stdio;
  std::string plugin_dir;       // empty: next to the executable
  int shutdown_timeout_s = 10;  // SIGTERM: how long running statements may take to end
  log::Level log_level = log::Level::info;
  log::Format log_format = log::Format::text;
  // Audit records also go here, one JSON object per line, whatever the log
  // level; empty: only to standard error, at info.
  std::string audit_file;
  // The key that seals the 2026-07-28 flow's requestState, so that every
  // instance of a fleet can continue a round another started (at most one
  // of the two; neither: a random key per process).
  std::string request_state_key, request_state_key_file;
  Endpoint http_listen{"127.0.0.1", 8765};
  std::string http_path = "/mcp";
  std::vector<std::string> http_allowed_origins;
  std::vector<std::string> http_allowed_hosts;
  std::size_t http_max_body_bytes = 4 * 1024 * 1024;
  int http_session_idle_timeout_s = 1800;
  std::size_t http_max_sessions = 10000;
  int http_max_threads = 128;
  std::size_t http_max_connections = 2048;
  std::size_t http_max_connections_per_client = 1024;
  std::size_t http_max_queued = 256;
  int http_header_timeout_ms = 10000;
  int http_body_timeout_ms = 30000;
  int http_idle_timeout_ms = 60000;
  int http_write_timeout_ms = 30000;
  std::string http_tls_cert;
  std::string http_tls_key;
  AuthSettings auth;
  std::optional<Endpoint> observability_listen = Endpoint{"127.0.0.1", 9090};
  QueryToolSettings query;
  std::vector<InstanceSpec> rate_limiters;
  std::vector<InstanceSpec> databases;
  std::vector<InstanceSpec> llms;
};

// Splits a comma-separated list, trimming blanks and dropping empty items.
std::vector<std::string> split_list(std::string_view text);

// Validates every key of file; throws ConfigError listing every problem found.
Settings load_settings(const ConfigFile &file, const EnvLookup &env);

// The defaults, for running without a config file.
Settings default_settings();

}  // namespace pgmcp::config
