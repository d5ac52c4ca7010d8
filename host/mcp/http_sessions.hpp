// The sessions of the legacy era over HTTP (initialize to DELETE): their
// event streams, and the store that finds, caps and expires them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/scheduler.hpp"
#include "mcp/http_streams.hpp"
#include "mcp/server.hpp"

namespace pgmcp::mcp {

// Finished streams kept per session.
inline constexpr std::size_t kFinishedStreams = 64;

class HttpSession : public Session {
 public:
  using Session::Session;

  std::shared_ptr<SseStream> new_stream() {
    std::lock_guard lock(mutex_);
    auto s = std::make_shared<SseStream>("p" + std::to_string(next_stream_++));
    streams_[s->id()] = s;
    order_.push_back(s->id());
    while (order_.size() > kFinishedStreams) {
      auto it = streams_.find(order_.front());
      if (it != streams_.end() && !it->second->finished()) break;
      if (it != streams_.end()) streams_.erase(it);
      order_.pop_front();
    }
    return s;
  }

  std::shared_ptr<SseStream> find_stream(const std::string &id) {
    std::lock_guard lock(mutex_);
    if (id == standalone_->id()) return standalone_;
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second;
  }

  SseStream &standalone() { return *standalone_; }

  void touch() { last_used_ = std::chrono::steady_clock::now().time_since_epoch().count(); }
  bool idle_longer_than(std::chrono::seconds limit) const {
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto limit_ticks =
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(limit).count();
    return now - last_used_.load() > limit_ticks;
  }

  void close() {
    closed = true;
    cancel_all();
    fail_pending("the session ended");
  }

  std::atomic<bool> closed{false};

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<SseStream>> streams_;
  std::deque<std::string> order_;
  std::uint64_t next_stream_ = 1;
  std::shared_ptr<SseStream> standalone_ = std::make_shared<SseStream>("g");
  std::atomic<std::int64_t> last_used_{std::chrono::steady_clock::now().time_since_epoch().count()};
};

// Every live session. Thread-safe.
class SessionStore {
 public:
  SessionStore(std::size_t max_sessions, std::chrono::seconds idle_timeout)
      : max_(max_sessions), idle_timeout_(idle_timeout) {}

  // A new session with a random id; nullptr when max_sessions are live.
  std::shared_ptr<HttpSession> create();
  std::shared_ptr<HttpSession> find(const std::string &id);
  // Ends a session: its calls are cancelled and its pending requests failed.
  void end(const std::string &id);
  void end_all();
  std::vector<std::shared_ptr<HttpSession>> all();
  // Ends sessions idle longer than the timeout that hold no open stream.
  void expire_idle();
  // Expires idle sessions on `scheduler` (twice per timeout, at least every
  // 10 s) until the store goes or end_all().
  void expire_on(core::Scheduler &scheduler);

 private:
  std::size_t max_;
  std::chrono::seconds idle_timeout_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<HttpSession>> sessions_;
  core::ScheduledTask expiry_;
};

}  // namespace pgmcp::mcp
