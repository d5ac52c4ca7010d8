#include "mcp/exchange.hpp"

namespace pgmcp::mcp {

void CallState::cancel() {
  std::vector<std::function<void()>> run;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_.exchange(true)) return;
    run.swap(callbacks_);
  }
  for (auto &fn : run) fn();
}

void CallState::on_cancel(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    if (!cancelled_.load()) {
      callbacks_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

namespace {
std::string id_key(const json &id) { return id.dump(); }
}  // namespace

std::shared_ptr<CallState> Peer::begin_call(const json &id) {
  auto state = std::make_shared<CallState>();
  std::lock_guard lock(mutex_);
  inflight_[id_key(id)] = state;
  return state;
}

void Peer::end_call(const json &id) {
  std::lock_guard lock(mutex_);
  inflight_.erase(id_key(id));
}

bool Peer::cancel_call(const json &id) {
  std::shared_ptr<CallState> state;
  {
    std::lock_guard lock(mutex_);
    auto it = inflight_.find(id_key(id));
    if (it == inflight_.end()) return false;
    state = it->second;
  }
  state->cancel();
  return true;
}

void Peer::cancel_all() {
  std::vector<std::shared_ptr<CallState>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto &[k, v] : inflight_) all.push_back(v);
  }
  for (auto &s : all) s->cancel();
}

std::pair<std::string, std::future<json>> Peer::expect_response() {
  std::lock_guard lock(mutex_);
  std::string id = "pgmcp-" + std::to_string(next_request_++);
  auto &p = pending_[id];
  return {id, p.get_future()};
}

bool Peer::deliver_response(const json &id, json message) {
  if (!id.is_string()) return false;
  std::lock_guard lock(mutex_);
  auto it = pending_.find(id.get<std::string>());
  if (it == pending_.end()) return false;
  it->second.set_value(std::move(message));
  pending_.erase(it);
  return true;
}

void Peer::forget_response(const std::string &id) {
  std::lock_guard lock(mutex_);
  pending_.erase(id);
}

void Peer::fail_pending(const std::string &why) {
  std::lock_guard lock(mutex_);
  for (auto &[id, p] : pending_) {
    p.set_value(error_response(id, code::internal_error, why));
  }
  pending_.clear();
}

}  // namespace pgmcp::mcp
