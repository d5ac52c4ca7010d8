// The MCP dispatcher: one object serves every client of every transport and
// both protocol eras. Transports turn bytes into an Incoming (parsed once),
// build an Exchange that says who is asking and where request-related
// messages go, and send back what handle_request returns.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/json_text.hpp"
#include "mcp/exchange.hpp"
#include "mcp/protocol.hpp"
#include "mcp/registry.hpp"
#include "mcp/subscriptions.hpp"

namespace pgmcp::mcp {

struct ServerInfo {
  std::string name = "pg-mcp";
  std::string title = "pg-mcp: PostgreSQL for AI assistants";
  std::string version = PGMCP_VERSION;
  std::string instructions;
};

class McpServer {
 public:
  McpServer(ServerInfo info, std::shared_ptr<Registry> registry);

  // A response, as text, and what kind of error it is, if one.
  struct Reply {
    std::string text;
    std::optional<ErrorKind> error;  // set for an error response
  };
  // Handles one request and returns its response, or nullopt when the request
  // was cancelled (no response is then sent). Never throws.
  // The messages of a JSON-RPC batch, in order, each with a fresh exchange
  // from `exchange` (which must carry the session); the responses to its
  // requests as the text of one JSON array, "" when it held no request.
  // initialize cannot be part of a batch.
  std::string handle_batch(json batch, const std::function<Exchange()> &exchange);
  std::optional<Reply> handle_request(const Incoming &in, Exchange &ex);
  // Handles a notification. Never throws.
  void handle_notification(const Incoming &in, Exchange &ex);
  // Routes the client's response to a server-to-client request.
  void handle_response(const Incoming &in, Peer &peer);

  // Change notifications (list_changed, resources/updated) go to every
  // transport that registered a sink; each decides which clients get them.
  using Sink = std::function<void(const json &notification)>;
  int add_sink(Sink sink);
  void remove_sink(int id);
  void broadcast(const json &notification);

  const ServerInfo &info() const { return info_; }
  // The tools, prompts and resources new requests see. A request keeps the
  // one it started with; replacing it (a configuration reload) tells clients
  // that the lists changed.
  std::shared_ptr<const Registry> current_registry() const;
  void replace_registry(std::shared_ptr<Registry> registry);
  json capabilities() const;

 private:
  void establish(const Incoming &in, Exchange &ex) const;
  core::Payload dispatch(const Incoming &in, Exchange &ex, CallState *call);
  json initialize(const json &params, Exchange &ex);
  json discover(Exchange &ex);
  json list_tools(const json &params, Exchange &ex);
  core::Payload call_tool(const Incoming &in, Exchange &ex, CallState *call);
  core::Payload tool_result(ToolResult r, const Exchange &ex) const;
  json list_prompts(const json &params, Exchange &ex);
  json get_prompt(const json &params, Exchange &ex);
  json list_resources(const json &params, Exchange &ex);
  json list_resource_templates(const json &params, Exchange &ex);
  json read_resource(const Incoming &in, Exchange &ex, CallState *call);
  json complete(const json &params, Exchange &ex);
  json server_meta() const;
  static json for_revision(json result, const Revision &r);
  json finish(json result, const Exchange &ex, bool cacheable) const;

  ServerInfo info_;
  mutable std::mutex registry_mutex_;
  std::shared_ptr<Registry> registry_;
  std::mutex sinks_mutex_;
  std::map<int, Sink> sinks_;
  int next_sink_ = 1;
};

}  // namespace pgmcp::mcp
