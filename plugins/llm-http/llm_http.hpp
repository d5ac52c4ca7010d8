// What the HTTP-based LLM provider plugins share: the settings every provider
// has (base_url, timeout, TLS, extra headers), one POST of a JSON body over
// HTTP or HTTPS with certificate verification, and the mapping of failures to
// the statuses the host retries on (pgmcp.llm/1). Secrets are scrubbed from
// every message.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pgmcp/cpp/llm.hpp"

namespace pgmcp::llmhttp {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Common {
  std::string base_url;  // scheme://host[:port][/path], no trailing slash
  std::string scheme, host, path;
  unsigned short port = 0;
  long long timeout_ms = 60000;
  bool tls_verify = true;
  std::string ca_file;
  Headers extra_headers;  // header.NAME = value
  std::vector<std::string> secrets;
};

// Reads base_url, timeout_ms, tls_verify, ca_file and header.* from config;
// `own` lists the provider's other keys. Throws Error(PGMCP_ERR_CONFIG).
Common read_common(const sdk::Config &config, const std::string &default_base_url,
                   std::initializer_list<const char *> own);

struct Response {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
};

// POSTs JSON to base path + suffix. Throws sdk::Error: PGMCP_ERR_TIMEOUT,
// PGMCP_ERR_UNAVAILABLE (cannot connect), PGMCP_ERR_REMOTE (TLS failure),
// PGMCP_ERR_CANCELLED (cancelled before sending).
Response post_json(const Common &c, const std::string &suffix, const Headers &headers,
                   const std::string &body, long long timeout_ms, const sdk::LlmRequest &req);

// Turns a non-2xx answer into the right Error: 429 -> RATE_LIMITED with
// retry_after_ms; 5xx and 529 -> UNAVAILABLE; other 4xx -> REMOTE with
// http_status. The provider's own error message is kept (secrets scrubbed).
[[noreturn]] void fail(const Common &c, const std::string &provider, const Response &r);

// The parsed JSON body of a 2xx answer; garbage becomes Error(PGMCP_ERR_REMOTE).
nlohmann::json parse_body(const Common &c, const std::string &provider, const Response &r);

// j[key] when it is a string, else "".
std::string string_field(const nlohmann::json &j, const char *key);
// j[key] when it is an unsigned number, else 0.
std::uint64_t count_field(const nlohmann::json &j, const char *key);

// Milliseconds in a Retry-After value (delta-seconds or an HTTP date); -1 if unreadable.
long long retry_after_ms(const std::string &value);

// s with every secret replaced by "***".
std::string scrub(const Common &c, std::string s);

}  // namespace pgmcp::llmhttp
