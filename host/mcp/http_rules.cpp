#include "mcp/http_rules.hpp"

#include <algorithm>
#include <cctype>

#include "util/base64.hpp"

namespace pgmcp::mcp {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "localhost:8765" -> "localhost", "[::1]:80" -> "::1".
std::string host_part(const std::string &hostport) {
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    return close == std::string::npos ? hostport : hostport.substr(1, close - 1);
  }
  auto colon = hostport.find(':');
  if (colon != std::string::npos && hostport.find(':', colon + 1) == std::string::npos)
    return hostport.substr(0, colon);
  return hostport;
}

bool loopback_name(const std::string &host) { return config::is_loopback_host(host); }

// The base64 sentinel of the 2026-07-28 request headers: =?base64?...?=
// Poco's header parser treats "=?" as the start of an RFC 2047 encoded word
// and, failing to decode it, drops those two characters, so the sentinel
// arrives as "base64?...?=". Both forms are accepted; no tool name can
// contain '?', so no plain value is mistaken for one.
}  // namespace

std::string decode_header_value(const std::string &v) {
  std::string_view body;
  if (v.size() >= 11 && v.rfind("=?base64?", 0) == 0 && v.compare(v.size() - 2, 2, "?=") == 0) {
    body = std::string_view(v).substr(9, v.size() - 11);
  } else if (v.size() >= 9 && v.rfind("base64?", 0) == 0 && v.compare(v.size() - 2, 2, "?=") == 0) {
    body = std::string_view(v).substr(7, v.size() - 9);
  } else {
    return v;
  }
  // An undecodable value cannot match any body value.
  return util::base64_decode(body).value_or("\x01undecodable");
}

std::optional<std::string> access_refusal(const std::string *host, const std::string *origin,
                                          const config::Endpoint &listen,
                                          const std::vector<std::string> &allowed_hosts,
                                          const std::vector<std::string> &allowed_origins) {
  if (host != nullptr) {
    bool ok = !listen.loopback() || loopback_name(host_part(*host));
    for (const auto &h : allowed_hosts)
      ok = ok || lower(h) == lower(*host) || lower(h) == lower(host_part(*host));
    if (!ok) return "Forbidden: Host '" + *host + "' is not allowed (add it to http.allowed_hosts)";
  }
  if (origin != nullptr) {
    auto scheme = origin->find("://");
    bool ok = scheme != std::string::npos && loopback_name(host_part(origin->substr(scheme + 3)));
    for (const auto &o : allowed_origins) ok = ok || o == "*" || lower(o) == lower(*origin);
    if (!ok)
      return "Forbidden: Origin '" + *origin + "' is not allowed (add it to http.allowed_origins)";
  }
  return std::nullopt;
}

std::optional<std::string> header_mismatch(const HeaderLookup &header, const Incoming &in,
                                           const ModernMeta &meta) {
  std::string version = header("MCP-Protocol-Version").value_or("");
  if (version.empty()) return "Header mismatch: MCP-Protocol-Version header is required";
  if (version != meta.protocol_version) {
    return "Header mismatch: MCP-Protocol-Version header '" + version +
           "' does not match body value '" + meta.protocol_version + "'";
  }
  auto sent_method = header("Mcp-Method");
  if (!sent_method) return "Header mismatch: Mcp-Method header is required";
  const std::string &method = *sent_method;
  if (method != in.method()) {
    return "Header mismatch: Mcp-Method header value '" + method + "' does not match body value '" +
           in.method() + "'";
  }
  const char *field = in.method() == "resources/read"                                 ? "uri"
                      : (in.method() == "tools/call" || in.method() == "prompts/get") ? "name"
                                                                                      : nullptr;
  if (field != nullptr) {
    std::string body_value;
    auto f = in.params().find(field);
    if (f != in.params().end() && f->is_string()) body_value = f->get<std::string>();
    auto sent_name = header("Mcp-Name");
    if (!sent_name) return "Header mismatch: Mcp-Name header is required for " + in.method();
    std::string name = decode_header_value(*sent_name);
    if (name != body_value) {
      return "Header mismatch: Mcp-Name header value '" + name + "' does not match body value '" +
             body_value + "'";
    }
  }
  return std::nullopt;
}

}  // namespace pgmcp::mcp
