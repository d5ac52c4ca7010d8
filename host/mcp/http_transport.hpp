// MCP over Streamable HTTP: one endpoint; POST carries one message; GET opens
// a legacy session's event stream; DELETE ends a legacy session. Both protocol
// eras are served at once: initialize starts a session (2025-03-26 to
// 2025-11-25), per-request _meta is stateless (2026-07-28).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "core/scheduler.hpp"
#include "http/server.hpp"
#include "mcp/http_auth.hpp"
#include "mcp/server.hpp"

namespace pgmcp::mcp {

struct HttpOptions {
  config::Endpoint listen{"127.0.0.1", 8765};
  std::string path = "/mcp";
  // Origins allowed besides loopback ones ("https://app.example.com"); "*" allows any.
  std::vector<std::string> allowed_origins;
  // Host header values allowed besides loopback names (when bound to loopback).
  std::vector<std::string> allowed_hosts;
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::chrono::seconds session_idle_timeout{1800};
  std::size_t max_sessions = 10000;
  http::HttpLimits limits;  // connections, workers and deadlines (max_body_bytes is above)
  std::string tls_cert;     // PEM files; both set = HTTPS
  std::string tls_key;
  std::shared_ptr<Authenticator> auth;  // null: no authentication
};

class HttpTransport {
 public:
  // Idle sessions are expired on `scheduler`, which must outlive the transport.
  HttpTransport(McpServer &server, HttpOptions options, core::Scheduler &scheduler);
  ~HttpTransport();
  HttpTransport(const HttpTransport &) = delete;
  HttpTransport &operator=(const HttpTransport &) = delete;

  // Binds and starts serving; throws std::runtime_error naming the address on failure.
  void start();
  // Stops accepting, ends every session and waits for handlers to finish.
  void stop();
  // The bound port (useful with port 0).
  std::uint16_t port() const;
  std::string url() const;

  // Sends a notification to every legacy session's standalone stream.
  void broadcast(const json &notification);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgmcp::mcp
