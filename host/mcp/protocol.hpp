// MCP protocol constants: revisions, error codes, and the error type that
// carries a JSON-RPC error (and, on HTTP, its status) out of a handler.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pgmcp::mcp {

using json = nlohmann::json;

// Stateless, per-request metadata revision.
inline constexpr std::string_view kModernVersion = "2026-07-28";
// The newest revision that uses initialize and sessions.
inline constexpr std::string_view kLatestLegacyVersion = "2025-11-25";

// Every revision served, newest first.
const std::vector<std::string> &supported_versions();
bool is_legacy_version(std::string_view v);
bool is_modern_version(std::string_view v);

inline constexpr const char *kMetaProtocolVersion = "io.modelcontextprotocol/protocolVersion";
inline constexpr const char *kMetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities";
inline constexpr const char *kMetaClientInfo = "io.modelcontextprotocol/clientInfo";
inline constexpr const char *kMetaLogLevel = "io.modelcontextprotocol/logLevel";
inline constexpr const char *kMetaServerInfo = "io.modelcontextprotocol/serverInfo";

namespace code {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
inline constexpr int resource_not_found_legacy = -32002;
inline constexpr int header_mismatch = -32020;
inline constexpr int missing_client_capability = -32021;
inline constexpr int unsupported_version = -32022;
inline constexpr int request_cancelled = -32800;
}  // namespace code

// A JSON-RPC error to send back. http_status is what the HTTP transport uses
// when this error answers the whole POST (0: 200 with the error in the body).
class ProtocolError : public std::runtime_error {
 public:
  ProtocolError(int code, const std::string &message, json data = nullptr, int http_status = 0)
      : std::runtime_error(message),
        code_(code),
        data_(std::move(data)),
        http_status_(http_status) {}
  int code() const noexcept { return code_; }
  const json &data() const noexcept { return data_; }
  int http_status() const noexcept { return http_status_; }

 private:
  int code_;
  json data_;
  int http_status_;
};

// {"jsonrpc":"2.0","id":id,"error":{...}}; id null when unknown.
json error_response(const json &id, int code, std::string_view message, const json &data = nullptr);
json error_response(const json &id, const ProtocolError &e);
json result_response(const json &id, json result);
json notification(std::string_view method, json params);

// A JSON-RPC message, classified. Validation errors become ProtocolError.
struct Message {
  enum class Kind { request, notification, response };
  Kind kind;
  json id;             // request/response
  std::string method;  // request/notification
  const json *params;  // request/notification; points into the parsed document, may be null
  const json *doc;     // the whole message
};
// Throws ProtocolError(invalid_request) for anything that is not one JSON-RPC 2.0 message.
Message classify(const json &doc);

// The id to answer a message that failed classify() with: its id when that is
// a valid one, else null.
json reply_id(const json &doc);

}  // namespace pgmcp::mcp
