#include "mcp/subscriptions.hpp"

namespace pgmcp::mcp {

namespace {
constexpr const char *kSubscriptionId = "io.modelcontextprotocol/subscriptionId";
constexpr std::string_view kToolsChanged = "notifications/tools/list_changed";
constexpr std::string_view kResourcesChanged = "notifications/resources/list_changed";
constexpr std::string_view kResourceUpdated = "notifications/resources/updated";

std::string method_of(const json &notification) {
  auto m = notification.find("method");
  return m != notification.end() && m->is_string() ? m->get<std::string>() : std::string();
}
}  // namespace

std::string updated_uri(const json &notification) {
  if (method_of(notification) != kResourceUpdated) return {};
  auto p = notification.find("params");
  if (p == notification.end() || !p->is_object()) return {};
  auto u = p->find("uri");
  return u != p->end() && u->is_string() ? u->get<std::string>() : std::string();
}

void ResourceSubscriptions::subscribe(const std::string &uri) {
  std::lock_guard lock(mutex_);
  uris_.insert(uri);
}

void ResourceSubscriptions::unsubscribe(const std::string &uri) {
  std::lock_guard lock(mutex_);
  uris_.erase(uri);
}

bool ResourceSubscriptions::wants(const json &notification) {
  if (method_of(notification) != kResourceUpdated) return true;
  std::string uri = updated_uri(notification);
  std::lock_guard lock(mutex_);
  return uris_.count(uri) != 0;
}

Listener::Listener(const json &params, json id) : id_(std::move(id)) {
  json wanted = params.is_object() ? params.value("notifications", json::object()) : json::object();
  if (!wanted.is_object())
    throw ProtocolError(code::invalid_params, "Invalid params: \"notifications\" must be an object",
                        nullptr, ErrorKind::bad_request);
  auto flag = [&](const char *key) {
    auto f = wanted.find(key);
    return f != wanted.end() && f->is_boolean() && f->get<bool>();
  };
  if (flag("toolsListChanged")) honoured_["toolsListChanged"] = true;
  if (flag("resourcesListChanged")) honoured_["resourcesListChanged"] = true;
  if (auto subs = wanted.find("resourceSubscriptions"); subs != wanted.end() && subs->is_array()) {
    json uris = json::array();
    for (const auto &u : *subs)
      if (u.is_string()) uris.push_back(u);
    honoured_["resourceSubscriptions"] = std::move(uris);
  }
}

json Listener::acknowledgement() const {
  return notification("notifications/subscriptions/acknowledged",
                      {{"notifications", honoured_}, {"_meta", {{kSubscriptionId, id_}}}});
}

std::optional<json> Listener::select(const json &n) const {
  std::string method = method_of(n);
  bool wanted = (method == kToolsChanged && honoured_.contains("toolsListChanged")) ||
                (method == kResourcesChanged && honoured_.contains("resourcesListChanged"));
  if (method == kResourceUpdated && honoured_.contains("resourceSubscriptions")) {
    std::string uri = updated_uri(n);
    for (const auto &u : honoured_["resourceSubscriptions"]) wanted = wanted || u == uri;
  }
  if (!wanted) return std::nullopt;
  json tagged = n;
  tagged["params"]["_meta"][kSubscriptionId] = id_;
  return tagged;
}

json Listener::closing() const {
  return result_response(id_, {{"resultType", "complete"}, {"_meta", {{kSubscriptionId, id_}}}});
}

}  // namespace pgmcp::mcp
