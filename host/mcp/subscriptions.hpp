// Who wants which change notifications. A session of the legacy era gets
// list changes on its standalone stream and resources/updated for the URIs
// it subscribed to; a 2026-07-28 client opens a subscriptions/listen stream
// that names what it wants, and every notification on it carries the
// subscription's id. Transports only carry what these select.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "mcp/protocol.hpp"

namespace pgmcp::mcp {

// The resources one legacy session subscribed to. Thread-safe.
class ResourceSubscriptions {
 public:
  void subscribe(const std::string &uri);
  void unsubscribe(const std::string &uri);
  // Whether `notification` goes to the session: list changes always,
  // resources/updated for a subscribed URI.
  bool wants(const json &notification);

 private:
  std::mutex mutex_;
  std::set<std::string> uris_;
};

// One subscriptions/listen stream (revision 2026-07-28). Immutable.
class Listener {
 public:
  // Honours only what this server can send. Throws ProtocolError
  // (invalid_params) when params.notifications is not an object.
  Listener(const json &params, json id);

  const json &id() const { return id_; }
  // notifications/subscriptions/acknowledged: what will be sent.
  json acknowledgement() const;
  // The notification as this stream carries it, or nullopt when it was not asked for.
  std::optional<json> select(const json &notification) const;
  // The response that ends the stream when the server stops.
  json closing() const;

 private:
  json id_;
  json honoured_ = json::object();
};

// The URI of a notifications/resources/updated ("" for anything else).
std::string updated_uri(const json &notification);

}  // namespace pgmcp::mcp
