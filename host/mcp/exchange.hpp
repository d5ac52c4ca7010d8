// Who is asking and where the messages of a request go: the calls in
// flight (for cancellation), the server's own requests to the client, the
// legacy session, and the Exchange a transport builds for each message.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mcp/protocol.hpp"
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

}  // namespace pgmcp::mcp
