#include "mcp/http_sessions.hpp"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "log/log.hpp"
#include "util/base64.hpp"

namespace pgmcp::mcp {

namespace {

// 192 random bits, base64url.
std::string random_id() {
  unsigned char bytes[24];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<size_t>(n);
  }
  return util::base64url_encode(std::string_view(reinterpret_cast<char *>(bytes), sizeof bytes));
}

}  // namespace

std::shared_ptr<HttpSession> SessionStore::create() {
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= max_) return nullptr;
  auto s = std::make_shared<HttpSession>(random_id());
  sessions_[s->id()] = s;
  return s;
}

std::shared_ptr<HttpSession> SessionStore::find(const std::string &id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

void SessionStore::end(const std::string &id) {
  std::shared_ptr<HttpSession> s;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    s = it->second;
    sessions_.erase(it);
  }
  s->close();
}

void SessionStore::end_all() {
  expiry_.reset();
  for (auto &s : all()) end(s->id());
}

std::vector<std::shared_ptr<HttpSession>> SessionStore::all() {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<HttpSession>> out;
  for (auto &[id, s] : sessions_) out.push_back(s);
  return out;
}

void SessionStore::expire_idle() {
  std::vector<std::string> idle;
  {
    std::lock_guard lock(mutex_);
    for (auto &[id, s] : sessions_)
      if (!s->standalone().attached() && s->idle_longer_than(idle_timeout_)) idle.push_back(id);
  }
  for (auto &id : idle) {
    log::debug("http",
               "session expired after " + std::to_string(idle_timeout_.count()) + " s idle");
    end(id);
  }
}

void SessionStore::expire_on(core::Scheduler &scheduler) {
  auto every = std::clamp<std::chrono::milliseconds>(
      idle_timeout_ / 2, std::chrono::milliseconds(200), std::chrono::seconds(10));
  expiry_ = core::ScheduledTask(
      scheduler, scheduler.every(every, "session expiry", [this] { expire_idle(); }));
}

}  // namespace pgmcp::mcp
