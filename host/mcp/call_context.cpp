#include "mcp/call_context.hpp"

#include <cmath>

#include "mcp/request_state.hpp"

namespace pgmcp::mcp {

namespace {

int level_index(log::Level level) {
  switch (level) {
    case log::Level::trace:
    case log::Level::debug:
      return 0;
    case log::Level::info:
      return 1;
    case log::Level::warning:
      return 3;
    case log::Level::error:
      return 4;
  }
  return 1;
}

// The result of a client's answer to a server request, read by its shape: an
// error of any shape, or a result that is no object, is the client's error,
// never an exception of the JSON library.
json client_result(std::string_view method, const json &response) {
  auto e = response.is_object() ? response.find("error") : response.end();
  if (response.is_object() && e != response.end()) {
    int error_code = code::internal_error;
    std::string message = "the client answered " + std::string(method) + " with an error";
    if (e->is_object()) {
      auto c = e->find("code");
      if (c != e->end() && c->is_number_integer()) error_code = c->get<int>();
      auto m = e->find("message");
      if (m != e->end() && m->is_string())
        message = m->get<std::string>();  // the client's own words
    } else {
      message += " that is not an object (" + e->dump().substr(0, 200) + ")";
    }
    throw ProtocolError(error_code, message);
  }
  auto r = response.is_object() ? response.find("result") : response.end();
  if (r == response.end() || !r->is_object())
    throw ProtocolError(code::internal_error, "the client's answer to " + std::string(method) +
                                                  " holds no result object");
  return *r;
}

}  // namespace

void CallContext::replay(std::vector<json> answers, const json *responses, json notes) {
  answers_ = std::move(answers);
  responses_ = responses;
  if (notes.is_object()) notes_ = std::move(notes);
}

std::optional<json> CallContext::recall(const std::string &key) const {
  auto it = notes_.find(key);
  if (it == notes_.end()) return std::nullopt;
  return *it;
}

void CallContext::note(const std::string &key, json value) {
  if (ex_.modern) notes_[key] = std::move(value);  // only that revision replays
}

void CallContext::on_cancel(std::function<void()> fn) {
  if (call_ != nullptr) call_->on_cancel(std::move(fn));
}

void CallContext::progress(double value, std::optional<double> total, std::string_view message) {
  if (token_.is_null() || ex_.out == nullptr || !std::isfinite(value)) return;
  std::lock_guard lock(mutex_);
  if (value <= last_progress_) return;
  last_progress_ = value;
  json p = {{"progressToken", token_}, {"progress", value}};
  if (total) p["total"] = *total;
  if (!message.empty()) p["message"] = message;
  ex_.out->send(notification("notifications/progress", std::move(p)));
}

void CallContext::log(log::Level level, std::string_view logger, const json &data) {
  if (ex_.out == nullptr) return;
  int threshold;
  if (ex_.modern) {
    if (!ex_.log_level) return;
    threshold = *ex_.log_level;
  } else {
    if (!ex_.session) return;
    threshold = ex_.session->log_level.load();
  }
  int idx = level_index(level);
  if (idx < threshold) return;
  ex_.out->send(notification(
      "notifications/message",
      {{"level", log_levels()[static_cast<size_t>(idx)]}, {"logger", logger}, {"data", data}}));
}

json CallContext::client_request(std::string_view method, const json &params,
                                 std::chrono::milliseconds timeout) {
  if (ex_.modern) {
    // The input-required flow: the n-th request's answer is either known
    // from an earlier round, in this retry's inputResponses, or asked for.
    size_t n = next_++;
    if (n < answers_.size()) return answers_[n];
    std::string key = "r" + std::to_string(n);
    if (responses_ != nullptr) {
      auto it = responses_->find(key);
      if (it != responses_->end() && it->is_object()) {
        answers_.push_back(*it);
        return answers_.back();
      }
    }
    throw InputRequired{key, {{"method", method}, {"params", params}}, answers_, notes_};
  }
  if (ex_.out == nullptr || ex_.peer == nullptr) {
    throw ProtocolError(code::internal_error,
                        "no channel to the client for " + std::string(method));
  }
  auto [id, future] = ex_.peer->expect_response();
  json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
  if (!ex_.out->send(request)) {
    ex_.peer->forget_response(id);
    throw ProtocolError(code::internal_error, "the client is gone");
  }
  // A cancellation wakes the wait at once: it answers the request itself.
  if (call_ != nullptr)
    call_->on_cancel([peer = ex_.peer, id = id] {
      peer->deliver_response(
          json(id), error_response(json(id), code::request_cancelled, "request cancelled"));
    });
  bool answered = future.wait_for(timeout) == std::future_status::ready;
  if (cancelled()) {
    ex_.peer->forget_response(id);
    throw ProtocolError(code::request_cancelled, "request cancelled");
  }
  if (!answered) {
    ex_.peer->forget_response(id);
    throw core::ClientTimeout("the client did not answer " + std::string(method) + " within " +
                              std::to_string(timeout.count()) + " ms");
  }
  json response = future.get();
  return client_result(method, response);
}

}  // namespace pgmcp::mcp
