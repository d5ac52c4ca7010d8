// MCP protocol facts: revisions, error codes and kinds, which methods each
// era has, and the description of an incoming message that transports parse
// once and the dispatcher reads.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace pgmcp::mcp {

// Stateless, per-request metadata revision.
inline constexpr std::string_view kModernVersion = "2026-07-28";
// The newest revision that uses initialize and sessions.
inline constexpr std::string_view kLatestLegacyVersion = "2025-11-25";

// Every revision served, newest first.
const std::vector<std::string> &supported_versions();
bool is_legacy_version(std::string_view v);
bool is_modern_version(std::string_view v);

// What a revision has, so that a client is sent nothing its revision lacks.
struct Revision {
  bool batches = false;            // JSON-RPC batches: 2024-11-05 and 2025-03-26 only
  bool tool_annotations = true;    // since 2025-03-26
  bool completions = true;         // the completions capability: since 2025-03-26
  bool titles = true;              // title on tools, resources, prompts, serverInfo: 2025-06-18
  bool structured_content = true;  // outputSchema and structuredContent: since 2025-06-18
};
Revision revision(std::string_view version);

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

// What kind of failure an error is, beyond its JSON-RPC code; a transport
// that has a status of its own (HTTP) maps the kind to it.
enum class ErrorKind {
  in_body,      // an ordinary error response (HTTP 200)
  bad_request,  // the message cannot be served as sent (HTTP 400)
  not_found,    // no such method in the request's revision (HTTP 404)
  internal,     // the server failed (HTTP 500)
};

// A JSON-RPC error to send back.
class ProtocolError : public std::runtime_error {
 public:
  ProtocolError(int code, const std::string &message, json data = nullptr,
                ErrorKind kind = ErrorKind::in_body)
      : std::runtime_error(message), code_(code), data_(std::move(data)), kind_(kind) {}
  int code() const noexcept { return code_; }
  const json &data() const noexcept { return data_; }
  ErrorKind kind() const noexcept { return kind_; }

 private:
  int code_;
  json data_;
  ErrorKind kind_;
};

// Methods of the session era only (up to 2025-11-25), and of the stateless
// era only (2026-07-28).
bool legacy_only_method(std::string_view method);
bool modern_only_method(std::string_view method);

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

// Revision 2026-07-28's per-request metadata, checked.
struct ModernMeta {
  std::string protocol_version;
  json client_capabilities;
  std::optional<int> log_level;  // index into log_levels()
};

// One incoming message, parsed once by the transport that read it: its
// JSON-RPC shape and everything its _meta says.
class Incoming {
 public:
  // Throws ProtocolError(invalid_request) for anything that is not one
  // JSON-RPC 2.0 message.
  explicit Incoming(json doc);

  const Message &message() const { return m_; }
  Message::Kind kind() const { return m_.kind; }
  const json &id() const { return m_.id; }
  const std::string &method() const { return m_.method; }
  // The params object ({} when absent or not an object).
  const json &params() const;
  const json &doc() const { return *doc_; }
  // The id to answer with: the request's, or null.
  json reply_id() const { return m_.kind == Message::Kind::request ? m_.id : json(nullptr); }

  // The revision _meta declares, as sent ("" when none; a non-string dumped).
  const std::string &declared_version() const { return declared_; }
  // The checked metadata when _meta declares a revision; throws the
  // ProtocolError (kind bad_request) that says what is wrong with it.
  const std::optional<ModernMeta> &meta() const;
  // _meta.progressToken (null when absent or not a string or integer).
  const json &progress_token() const { return progress_token_; }

 private:
  std::unique_ptr<json> doc_;  // Message points into it: its address stays put
  Message m_;
  std::string declared_;
  std::optional<ModernMeta> meta_;
  std::optional<ProtocolError> meta_error_;
  json progress_token_;
};

// Log levels as MCP names them, lowest first; and a name's index (-1: none).
const std::vector<std::string> &log_levels();
int log_level_index(std::string_view name);

}  // namespace pgmcp::mcp
