// What a tool or resource handler sees of the MCP request it serves: the
// core::RequestContext of one call, over its Exchange.
#pragma once

#include <chrono>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/context.hpp"
#include "mcp/exchange.hpp"

namespace pgmcp::mcp {

class CallContext final : public core::RequestContext {
 public:
  CallContext(Exchange &ex, CallState *call, json progress_token)
      : ex_(ex), call_(call), token_(std::move(progress_token)) {}

  // 2026-07-28: the answers a retry brings (from requestState, then
  // inputResponses), replayed in order to the tool's client requests.
  // notes: what earlier rounds noted (RequestContext::recall).
  void replay(std::vector<json> answers, const json *responses, json notes = json::object());

  bool cancelled() const override { return call_ != nullptr && call_->cancelled(); }
  void on_cancel(std::function<void()> fn) override;
  void progress(double value, std::optional<double> total, std::string_view message) override;
  void log(log::Level level, std::string_view logger, const json &data) override;
  const std::string &subject() const override { return ex_.subject; }
  const std::string &protocol_version() const override { return ex_.protocol_version; }
  const json &client_capabilities() const override { return ex_.client_capabilities; }
  // Legacy era: a request on the connection, answered by the client's
  // response. 2026-07-28: the answer from the retry, or InputRequired.
  json client_request(std::string_view method, const json &params,
                      std::chrono::milliseconds timeout) override;
  std::optional<json> recall(const std::string &key) const override;
  void note(const std::string &key, json value) override;

 private:
  json notes_ = json::object();
  Exchange &ex_;
  CallState *call_;
  json token_;
  std::vector<json> answers_;
  const json *responses_ = nullptr;
  size_t next_ = 0;
  std::mutex mutex_;
  double last_progress_ = -std::numeric_limits<double>::infinity();
};

}  // namespace pgmcp::mcp
