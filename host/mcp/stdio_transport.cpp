#include "mcp/stdio_transport.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <functional>
#include <thread>

#include "log/log.hpp"
#include "mcp/subscriptions.hpp"

namespace pgmcp::mcp {
namespace {

// Writes whole lines to the output fd; one writer at a time.
class LineWriter final : public Outbound {
 public:
  explicit LineWriter(int fd) : fd_(fd) {}
  bool send(const json &message) override {
    return send_text(message.dump(-1, ' ', false, json::error_handler_t::replace));
  }

  bool send_text(std::string line) {
    line += '\n';
    std::lock_guard lock(mutex_);
    if (broken_) return false;
    const char *p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        broken_ = true;
        return false;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  std::mutex mutex_;
  bool broken_ = false;
};

class Connection {
 public:
  Connection(McpServer &server, int out_fd, StdioOptions options)
      : server_(server),
        out_(out_fd),
        options_(options),
        session_(std::make_shared<Session>("stdio")) {
    for (size_t i = 0; i < std::max<size_t>(1, options_.workers); ++i) {
      workers_.emplace_back([this] { work(); });
    }
    sink_ = server_.add_sink([this](const json &m) { notify(m); });
  }

  ~Connection() { drain(); }

  // A change notification (list changed, resource updated) for this client:
  // a legacy session gets it once initialized (resources/updated only for
  // what it subscribed to); a 2026-07-28 client on each subscriptions/listen
  // request that asked for it, tagged with that request's id.
  void notify(const json &message) {
    if (session_->negotiated.load() && session_->subscriptions.wants(message)) out_.send(message);
    std::vector<std::shared_ptr<const Listener>> all;
    {
      std::lock_guard lock(mutex_);
      all = listeners_;
    }
    for (const auto &l : all)
      if (auto tagged = l->select(message)) out_.send(*tagged);
  }

  void on_line(std::string_view line) {
    if (line.empty() || line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    json doc;
    try {
      doc = json::parse(line);
    } catch (const json::exception &e) {
      out_.send(
          error_response(nullptr, code::parse_error, std::string("Parse error: ") + e.what()));
      return;
    }
    if (doc.is_array()) return on_batch(std::move(doc));
    json id = reply_id(doc);
    std::unique_ptr<Incoming> in;
    try {
      in = std::make_unique<Incoming>(std::move(doc));
    } catch (const ProtocolError &e) {
      out_.send(error_response(id, e));
      return;
    }
    switch (in->kind()) {
      case Message::Kind::response:
        server_.handle_response(*in, *session_);
        return;
      case Message::Kind::notification: {
        if (in->method() == "notifications/cancelled" && stop_listening(*in)) return;
        Exchange ex = exchange();
        server_.handle_notification(*in, ex);
        return;
      }
      case Message::Kind::request:
        if (in->method() == "subscriptions/listen" && carries_meta(*in)) {
          listen(*in);
        } else if (in->method() == "initialize") {
          // Inline, so requests that follow see the negotiated session.
          run(*in);
        } else {
          std::shared_ptr<Incoming> shared(std::move(in));
          enqueue([this, shared] { run(*shared); });
        }
        return;
    }
  }

  // A JSON-RPC batch, which revisions 2024-11-05 and 2025-03-26 allow once
  // the session is initialized: its requests run in order on one worker and
  // their responses go back together, as one array.
  void on_batch(json batch) {
    if (!session_->negotiated.load() || !revision(session_->protocol_version).batches) {
      std::string why = session_->negotiated.load()
                            ? "this session speaks " + session_->protocol_version +
                                  ", which has no JSON-RPC batches"
                            : "initialize first (it cannot be part of a batch)";
      out_.send(error_response(nullptr, code::invalid_request,
                               "Invalid Request: batches are part of revisions 2024-11-05 and "
                               "2025-03-26 only; " +
                                   why + ": send one message at a time"));
      return;
    }
    if (batch.empty()) {
      out_.send(error_response(nullptr, code::invalid_request, "Invalid Request: an empty batch"));
      return;
    }
    auto shared = std::make_shared<json>(std::move(batch));
    enqueue([this, shared] {
      std::string replies = server_.handle_batch(std::move(*shared), [this] { return exchange(); });
      if (!replies.empty()) out_.send_text(std::move(replies));
    });
  }

  void too_large() {
    out_.send(error_response(nullptr, code::invalid_request,
                             "Invalid Request: message larger than " +
                                 std::to_string(options_.max_message_bytes) + " bytes; discarded"));
  }

  // Waits for queued and running requests, then stops the workers; each
  // subscriptions/listen request gets its closing response.
  void drain() {
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    server_.remove_sink(sink_);
    cv_.notify_all();
    for (auto &t : workers_) t.join();
    session_->fail_pending("the client closed stdin");
    std::vector<std::shared_ptr<const Listener>> all;
    {
      std::lock_guard lock(mutex_);
      all.swap(listeners_);
    }
    for (const auto &l : all) out_.send(l->closing());
  }

 private:
  Exchange exchange() {
    Exchange ex;
    ex.session = session_;
    ex.peer = session_.get();
    ex.out = &out_;
    ex.transport = "stdio";
    return ex;
  }

  // 2026-07-28 over stdio: the request stays open, answered only when the
  // server stops; its notifications flow meanwhile, and the client ends it
  // with notifications/cancelled.
  void listen(const Incoming &in) {
    std::shared_ptr<const Listener> l;
    try {
      l = std::make_shared<const Listener>(in.params(), in.id());
    } catch (const ProtocolError &e) {
      out_.send(error_response(in.id(), e));
      return;
    }
    out_.send(l->acknowledgement());
    std::lock_guard lock(mutex_);
    listeners_.push_back(std::move(l));
  }

  // Whether the request carries valid 2026-07-28 _meta; a broken one is left
  // to the dispatcher, which says what is wrong with it.
  static bool carries_meta(const Incoming &in) {
    try {
      return in.meta().has_value();
    } catch (const ProtocolError &) {
      return false;
    }
  }

  // Whether a notifications/cancelled ended a subscriptions/listen request.
  bool stop_listening(const Incoming &in) {
    const json &params = in.params();
    if (!params.is_object() || !params.contains("requestId")) return false;
    std::lock_guard lock(mutex_);
    auto it = std::find_if(listeners_.begin(), listeners_.end(),
                           [&](const auto &l) { return l->id() == params["requestId"]; });
    if (it == listeners_.end()) return false;
    listeners_.erase(it);
    return true;
  }

  void run(const Incoming &in) {
    Exchange ex = exchange();
    if (auto reply = server_.handle_request(in, ex)) out_.send_text(std::move(reply->text));
  }

  void enqueue(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  McpServer &server_;
  LineWriter out_;
  StdioOptions options_;
  std::shared_ptr<Session> session_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::shared_ptr<const Listener>> listeners_;  // open subscriptions/listen
  int sink_ = -1;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace

void serve_stdio(McpServer &server, int in_fd, int out_fd, StdioOptions options) {
  Connection conn(server, out_fd, options);
  std::string line;
  bool discarding = false;  // inside a line that is already too long
  char chunk[65536];
  for (;;) {
    ssize_t n = ::read(in_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::string_view data(chunk, static_cast<size_t>(n));
    while (!data.empty()) {
      auto nl = data.find('\n');
      std::string_view part = data.substr(0, nl);
      if (!discarding) {
        if (line.size() + part.size() > options.max_message_bytes) {
          discarding = true;
          line.clear();
          conn.too_large();
        } else {
          line.append(part);
        }
      }
      if (nl == std::string_view::npos) break;
      if (!discarding) conn.on_line(line);
      line.clear();
      discarding = false;
      data.remove_prefix(nl + 1);
    }
  }
  if (!line.empty() && !discarding) conn.on_line(line);
  log::debug("mcp", "stdin closed; finishing requests in flight");
  conn.drain();
}

}  // namespace pgmcp::mcp
