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
#include "mcp/protocol.hpp"
#include "mcp/registry.hpp"
#include "mcp/subscriptions.hpp"

namespace pgmcp::mcp {

// Where messages related to one request (or one connection) go. Thread-safe.
class Outbound {
 public:
  virtual ~Outbound() = default;
  // Returns false when the message could not be delivered (client gone).
  virtual bool send(const json &message) = 0;
};

// One request in flight; cancellation reaches the work through it.
class CallState {
 public:
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  void cancel();
  void on_cancel(std::function<void()> fn);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::vector<std::function<void()>> callbacks_;
};

// State that outlives a request: what is in flight and what the server asked
// the client. One per stdio connection and per legacy HTTP session.
class Peer {
 public:
  std::shared_ptr<CallState> begin_call(const json &id);
  void end_call(const json &id);
  bool cancel_call(const json &id);
  void cancel_all();

  // A server-to-client request id and the future its response fulfils.
  std::pair<std::string, std::future<json>> expect_response();
  bool deliver_response(const json &id, json message);
  void forget_response(const std::string &id);
  void fail_pending(const std::string &why);

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<CallState>> inflight_;
  std::map<std::string, std::promise<json>> pending_;
  std::uint64_t next_request_ = 1;
};

// What `initialize` negotiated (legacy era).
class Session : public Peer {
 public:
  explicit Session(std::string id) : id_(std::move(id)) {}
  const std::string &id() const { return id_; }

  std::string protocol_version;  // negotiated
  json client_capabilities = json::object();
  json client_info = json::object();
  std::atomic<int> log_level{1};  // index into the MCP levels; 1 = info
  std::atomic<bool> initialized{false};
  std::atomic<bool> negotiated{false};
  ResourceSubscriptions subscriptions;  // resources/subscribe

 private:
  std::string id_;
};

// Who is asking, in which era, and where replies other than the response go.
struct Exchange {
  std::shared_ptr<Session> session;  // legacy era (required for initialize)
  Peer *peer = nullptr;              // for cancellation and client requests; may be null
  Outbound *out = nullptr;           // request-related messages; null when none can be sent
  std::string subject;               // authenticated subject, "" without auth
  std::string transport = "stdio";   // "stdio" or "http"

  // Filled by the dispatcher from the request.
  bool modern = false;
  std::string protocol_version;
  json client_capabilities = json::object();
  std::optional<int> log_level;  // modern: from _meta; absent = no log notifications
};

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
  json finish(json result, const Exchange &ex, bool cacheable) const;

  ServerInfo info_;
  mutable std::mutex registry_mutex_;
  std::shared_ptr<Registry> registry_;
  std::mutex sinks_mutex_;
  std::map<int, Sink> sinks_;
  int next_sink_ = 1;
};

}  // namespace pgmcp::mcp
