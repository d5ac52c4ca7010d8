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

// The request's conversation as [{role, content}] (user and assistant turns).
nlohmann::json conversation(const sdk::LlmRequest &req);

// POSTs body to base path + suffix (within the request's timeout_ms, else the
// configured one) and returns the parsed JSON answer. Throws sdk::Error:
// PGMCP_ERR_TIMEOUT, PGMCP_ERR_UNAVAILABLE (cannot connect, 5xx, 408, 529),
// PGMCP_ERR_RATE_LIMITED (429, with retry_after_ms from Retry-After),
// PGMCP_ERR_REMOTE (TLS failure; other 4xx with http_status and the
// provider's message; a body that is not a JSON object), PGMCP_ERR_CANCELLED.
// Secrets are scrubbed from every message.
nlohmann::json call(const Common &c, const std::string &provider, const std::string &suffix,
                    const Headers &headers, const nlohmann::json &body, const sdk::LlmRequest &req);

// j[key] when it is a string, else "".
std::string string_field(const nlohmann::json &j, const char *key);
// j[key] when it is an unsigned number, else 0.
std::uint64_t count_field(const nlohmann::json &j, const char *key);

// Milliseconds in a Retry-After value (delta-seconds or an HTTP date); -1 if unreadable.
long long retry_after_ms(const std::string &value);

// s with every secret replaced by "***".
std::string scrub(const Common &c, std::string s);

}  // namespace pgmcp::llmhttp
