// Long file: the event loop, the workers, the keeper of parked streams and
// the deadline watchdog share one connection table and one lock; their state
// machine (waiting, queued, working, parked, closing) reads best in one
// place, and splitting it would expose HttpConnection's internals to several
// files. The head parser is apart (head.cpp).
#include "http/server.hpp"

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/head.hpp"
#include "log/log.hpp"

namespace pgmcp::http {

using Clock = std::chrono::steady_clock;
using head::Arrived;
using head::assess;
using head::kPeekBytes;
using Poco::Net::HTTPResponse;

namespace {

constexpr std::uint64_t kListenerId = 0;
constexpr std::uint64_t kWakeId = 1;
constexpr auto kScanEvery = std::chrono::milliseconds(100);
constexpr auto kKeeperTick = std::chrono::milliseconds(250);
constexpr auto kLingerAfterRefusal = std::chrono::seconds(1);
constexpr int kQuickNextMs = 20;

std::int64_t ticks(Clock::time_point t) { return t.time_since_epoch().count(); }

// Exposes how many bytes Poco has read ahead (a pipelined request).
class Session final : public Poco::Net::HTTPServerSession {
 public:
  using HTTPServerSession::HTTPServerSession;
  int read_ahead() const { return buffered(); }
};

// The request a handler sees: the head as parsed, the body already read.
class BufferedRequest final : public Poco::Net::HTTPServerRequest {
 public:
  BufferedRequest(Poco::Net::HTTPServerRequestImpl &raw, Poco::Net::HTTPServerResponse &response,
                  std::string body)
      : raw_(raw), response_(response), body_(std::move(body)) {
    static_cast<Poco::Net::HTTPRequest &>(*this) = raw;
  }
  std::istream &stream() override { return body_; }
  const Poco::Net::SocketAddress &clientAddress() const override { return raw_.clientAddress(); }
  const Poco::Net::SocketAddress &serverAddress() const override { return raw_.serverAddress(); }
  const Poco::Net::HTTPServerParams &serverParams() const override { return raw_.serverParams(); }
  Poco::Net::HTTPServerResponse &response() const override { return response_; }
  bool secure() const override { return raw_.secure(); }

 private:
  Poco::Net::HTTPServerRequestImpl &raw_;
  Poco::Net::HTTPServerResponse &response_;
  std::istringstream body_;
};

// Waits up to `ms` for a whole next request on a kept-alive connection.
bool whole_request_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, ms) != 1 || (p.revents & POLLIN) == 0) return false;
  static thread_local std::vector<char> buffer(kPeekBytes);
  ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_PEEK | MSG_DONTWAIT);
  return n > 0 &&
         assess(std::string_view(buffer.data(), static_cast<std::size_t>(n))) == Arrived::whole;
}

std::string reason_phrase(int status) {
  return HTTPResponse::getReasonForStatus(static_cast<HTTPResponse::HTTPStatus>(status));
}

// A whole response with a JSON-RPC error, for the paths that answer without a handler.
std::string canned(int status, const std::string &message, int retry_after_s) {
  nlohmann::json body = {
      {"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", -32603}, {"message", message}}}};
  if (status == 400) body["error"]["code"] = -32700;
  std::string text = body.dump();
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
                    "\r\nServer: pg-mcp\r\nContent-Type: application/json\r\nConnection: close\r\n";
  if (retry_after_s > 0) out += "Retry-After: " + std::to_string(retry_after_s) + "\r\n";
  out += "Content-Length: " + std::to_string(text.size()) + "\r\n\r\n" + text;
  return out;
}

}  // namespace

class HttpConnection {
 public:
  enum class State { waiting, queued, working, parked, closing };

  HttpConnection(std::uint64_t id_, Poco::Net::StreamSocket s, std::string client_, bool tls_)
      : id(id_),
        socket(std::move(s)),
        fd(socket.impl()->sockfd()),
        client(std::move(client_)),
        tls(tls_) {}

  const std::uint64_t id;
  Poco::Net::StreamSocket socket;
  const int fd;
  const std::string client;
  const bool tls;
  bool secured = false;  // the TLS handshake has been started on it
  std::unique_ptr<Session> session;
  // A parked stream's response and request, kept alive with it.
  std::unique_ptr<Poco::Net::HTTPServerResponseImpl> response;
  std::unique_ptr<Poco::Net::HTTPServerRequestImpl> request;
  std::optional<ParkedStream> parked;
  Clock::time_point next_keepalive;

  // Guarded by the server's mutex.
  State state = State::waiting;
  // The event loop's, while waiting or closing.
  Clock::time_point wait_deadline;
  int phase = 0;  // 0: nothing of a request yet; 1: part of its head; 2: waiting for its body

  // A worker's read deadline, or a write deadline (0: none); the event loop
  // shuts the socket down when it passes.
  std::atomic<std::int64_t> deadline{0};
  std::atomic<const char *> deadline_reason{nullptr};
  std::atomic<bool> timed_out{false};
  std::atomic<int> writers{0};
  std::atomic<bool> peer_gone{false};
  std::chrono::milliseconds write_timeout{30000};

  void arm(Clock::duration within, const char *reason) {
    deadline_reason = reason;
    deadline = ticks(Clock::now() + within);
  }
  void disarm() { deadline = 0; }
};

WriteDeadline::WriteDeadline(const std::shared_ptr<HttpConnection> &connection)
    : connection_(connection.get()) {
  if (connection_ != nullptr && connection_->writers++ == 0)
    connection_->arm(connection_->write_timeout, "write_timeout");
}

WriteDeadline::~WriteDeadline() {
  if (connection_ != nullptr && --connection_->writers == 0) connection_->disarm();
}

namespace {
thread_local std::shared_ptr<HttpConnection> tl_current;
}

struct HttpServer::Impl {
  Poco::Net::ServerSocket listener;
  Poco::Net::Context::Ptr tls;
  HttpLimits limits;
  void count(const char *reason) {
    if (limits.metrics != nullptr) limits.metrics->http_dropped(reason);
  }
  Handler handler;
  Poco::AutoPtr<Poco::Net::HTTPServerParams> params = new Poco::Net::HTTPServerParams;

  int epfd = -1;
  int wakefd = -1;
  std::atomic<bool> stopping{false};
  std::thread reactor;
  std::thread keeper;
  std::vector<std::thread> workers;

  mutable std::mutex mutex;  // everything below
  std::unordered_map<std::uint64_t, std::shared_ptr<HttpConnection>> connections;
  std::unordered_map<std::string, std::size_t> per_client;
  std::deque<std::shared_ptr<HttpConnection>> queue;
  std::atomic<std::size_t> queued{0};  // queue.size(), readable without the mutex
  std::condition_variable work_cv;
  int idle_workers = 0;
  std::size_t large_bodies = 0;  // workers reading a body the event loop could not wait for
  std::condition_variable keeper_cv;
  std::uint64_t next_id = 2;
  bool listener_paused = false;

  Impl(Poco::Net::ServerSocket l, Poco::Net::Context::Ptr t, HttpLimits lim, Handler h)
      : listener(std::move(l)), tls(std::move(t)), limits(lim), handler(std::move(h)) {
    params->setKeepAlive(true);
    params->setTimeout(Poco::Timespan(
        std::chrono::duration_cast<std::chrono::microseconds>(limits.header_timeout).count()));
    params->setServerName("pg-mcp");
  }

  // ---- the event loop -------------------------------------------------

  // Edge-triggered: a waiting request is looked at again only when more of it arrives.
  void watch(HttpConnection &c) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = c.id;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, c.fd, &ev) != 0 && errno == EEXIST)
      ::epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
  }
  void unwatch(HttpConnection &c) { ::epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr); }

  void wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakefd, &one, sizeof one);
  }

  std::shared_ptr<HttpConnection> find(std::uint64_t id) {
    std::lock_guard lock(mutex);
    auto it = connections.find(id);
    return it == connections.end() ? nullptr : it->second;
  }

  void close(const std::shared_ptr<HttpConnection> &c) {
    {
      std::lock_guard lock(mutex);
      if (connections.erase(c->id) == 0) return;
      if (auto it = per_client.find(c->client); it != per_client.end() && --it->second == 0)
        per_client.erase(it);
    }
    unwatch(*c);
    try {
      c->socket.close();
    } catch (const Poco::Exception &) {
    }
  }

  // Answers without a worker, then lingers briefly so the client reads the
  // answer instead of a reset.
  void refuse(const std::shared_ptr<HttpConnection> &c, int status, const std::string &message,
              int retry_after_s, const char *reason) {
    if (reason != nullptr) count(reason);
    if (c->tls && !c->secured) return close(c);  // it would not understand plain text
    std::string text = canned(status, message, retry_after_s);
    [[maybe_unused]] auto sent =
        ::send(c->fd, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::shutdown(c->fd, SHUT_WR);
    {
      std::lock_guard lock(mutex);
      c->state = HttpConnection::State::closing;
      c->wait_deadline = Clock::now() + kLingerAfterRefusal;
    }
    watch(*c);
  }

  void accept_all() {
    for (;;) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      int fd = ::accept4(listener.impl()->sockfd(), reinterpret_cast<sockaddr *>(&addr), &len,
                         SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) {
          // Out of descriptors: stop listening for a moment rather than spin.
          log::warning("http", "out of file descriptors; not accepting for 100 ms");
          ::epoll_ctl(epfd, EPOLL_CTL_DEL, listener.impl()->sockfd(), nullptr);
          std::lock_guard lock(mutex);
          listener_paused = true;
        }
        return;
      }
      char host[INET6_ADDRSTRLEN] = "?";
      if (addr.ss_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in &>(addr).sin_addr, host, sizeof host);
      else if (addr.ss_family == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6 &>(addr).sin6_addr, host, sizeof host);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto set_timeout = [fd](int option, std::chrono::milliseconds t) {
        timeval tv{static_cast<time_t>(t.count() / 1000),
                   static_cast<suseconds_t>((t.count() % 1000) * 1000)};
        ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
      };
      // A backstop: the event loop's write deadline fires first (and counts).
      set_timeout(SO_SNDTIMEO, limits.write_timeout * 2);
      set_timeout(SO_RCVTIMEO, limits.header_timeout);
      Poco::Net::StreamSocket socket(new Poco::Net::StreamSocketImpl(fd));
      std::shared_ptr<HttpConnection> c;
      const char *over = nullptr;
      {
        std::lock_guard lock(mutex);
        c = std::make_shared<HttpConnection>(next_id++, socket, host, bool(tls));
        c->write_timeout = limits.write_timeout;
        c->wait_deadline = Clock::now() + limits.header_timeout;
        std::size_t &mine = per_client[c->client];
        if (connections.size() >= limits.max_connections)
          over = "max_connections";
        else if (mine >= limits.max_connections_per_client)
          over = "max_connections_per_client";
        connections[c->id] = c;
        ++mine;
      }
      if (over != nullptr) {
        log::debug("http", std::string("refused a connection from ") + host + " (" + over + ")");
        refuse(c, 503,
               std::string("Service Unavailable: too many open connections") +
                   (std::strcmp(over, "max_connections") == 0 ? "" : " from this client") +
                   "; retry later",
               2, over);
        continue;
      }
      watch(*c);
    }
  }

  // A waiting connection has new bytes: is a whole request there yet?
  void readable(const std::shared_ptr<HttpConnection> &c) {
    static thread_local std::vector<char> buffer(kPeekBytes);
    ssize_t n = ::recv(c->fd, buffer.data(), buffer.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return close(c);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) close(c);
      return;
    }
    auto now = Clock::now();
    if (c->phase == 0) {  // the head's deadline runs from its first byte
      c->phase = 1;
      c->wait_deadline = now + limits.header_timeout;
    }
    if (c->tls) return dispatch(c, false);  // encrypted: a worker reads it under deadlines
    switch (assess(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
      case Arrived::part_of_head:
        return;
      case Arrived::head_too_large:
        return refuse(c, 431,
                      "Request Header Fields Too Large: a request head may be at most " +
                          std::to_string(kPeekBytes) + " bytes",
                      0, "header_too_large");
      case Arrived::whole:
        return dispatch(c, false);
      case Arrived::head_of_large_body:
        return dispatch(c, true);
      case Arrived::head_and_part_of_body:
        if (c->phase == 1) {
          c->phase = 2;
          c->wait_deadline = now + limits.body_timeout;
        }
        return;
    }
  }

  void dispatch(const std::shared_ptr<HttpConnection> &c, bool large_body) {
    unwatch(*c);
    bool busy = false;
    {
      std::lock_guard lock(mutex);
      if (queue.size() >= limits.max_queued ||
          (large_body &&
           large_bodies >= static_cast<std::size_t>(std::max(1, limits.max_threads / 4)))) {
        busy = true;
      } else {
        c->state = HttpConnection::State::queued;
        queue.push_back(c);
        queued = queue.size();
        // Idle workers count until they take something: more queued requests
        // than idle workers means one more worker, up to max_threads.
        if (queue.size() > static_cast<std::size_t>(idle_workers) &&
            static_cast<int>(workers.size()) < limits.max_threads)
          workers.emplace_back([this] { work_loop(); });
      }
    }
    if (busy) {
      refuse(c, 503, "Service Unavailable: pg-mcp is busy; retry later", 1, "busy");
      return;
    }
    work_cv.notify_one();
  }

  // Deadlines of waiting connections, and of reads and writes in progress.
  void scan() {
    auto now = Clock::now();
    std::vector<std::shared_ptr<HttpConnection>> expired, lingered;
    {
      std::lock_guard lock(mutex);
      if (listener_paused) {
        listener_paused = false;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kListenerId;
        ::epoll_ctl(epfd, EPOLL_CTL_ADD, listener.impl()->sockfd(), &ev);
      }
      for (auto &entry : connections) {
        HttpConnection &c = *entry.second;
        if (c.state == HttpConnection::State::waiting && now >= c.wait_deadline)
          expired.push_back(entry.second);
        else if (c.state == HttpConnection::State::closing && now >= c.wait_deadline)
          lingered.push_back(entry.second);
        std::int64_t d = c.deadline.load();
        if (d != 0 && ticks(now) >= d && c.deadline.compare_exchange_strong(d, 0)) {
          const char *why = c.deadline_reason.load();
          c.timed_out = true;
          count(why);
          log::debug("http", std::string("connection from ") + c.client + ": " + why +
                                 "; shutting it down");
          ::shutdown(c.fd, SHUT_RDWR);
        }
      }
    }
    for (auto &c : lingered) close(c);
    for (auto &c : expired) {
      if (c->phase == 0) {
        close(c);  // an idle connection: nothing to answer
      } else {
        unwatch(*c);
        refuse(c, 408,
               c->phase == 1 ? "Request Timeout: the request head did not arrive in time"
                             : "Request Timeout: the request body did not arrive in time",
               0, c->phase == 1 ? "header_timeout" : "body_timeout");
      }
    }
  }

  void lingering(const std::shared_ptr<HttpConnection> &c) {
    char sink[4096];
    for (;;) {
      ssize_t n = ::recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
      if (n > 0) continue;
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) close(c);
      return;
    }
  }

  void loop() {
    std::vector<epoll_event> events(256);
    auto last_scan = Clock::now();
    while (!stopping.load()) {
      int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()),
                           static_cast<int>(kScanEvery.count()));
      for (int i = 0; i < n; ++i) {
        std::uint64_t id = events[i].data.u64;
        if (id == kListenerId) {
          accept_all();
          continue;
        }
        if (id == kWakeId) {
          std::uint64_t v;
          [[maybe_unused]] auto r = ::read(wakefd, &v, sizeof v);
          continue;
        }
        auto c = find(id);
        if (!c) continue;
        HttpConnection::State state;
        {
          std::lock_guard lock(mutex);
          state = c->state;
        }
        if (state == HttpConnection::State::waiting) {
          readable(c);
        } else if (state == HttpConnection::State::closing) {
          lingering(c);
        } else if (state == HttpConnection::State::parked &&
                   (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
          c->peer_gone = true;
          keeper_cv.notify_all();
        }
      }
      if (Clock::now() - last_scan >= kScanEvery) {
        scan();
        last_scan = Clock::now();
      }
    }
  }

  // ---- workers --------------------------------------------------------

  void work_loop() {
    for (;;) {
      std::shared_ptr<HttpConnection> c;
      {
        std::unique_lock lock(mutex);
        ++idle_workers;
        work_cv.wait(lock, [&] { return stopping.load() || !queue.empty(); });
        --idle_workers;
        if (stopping.load()) return;
        c = std::move(queue.front());
        queue.pop_front();
        queued = queue.size();
        c->state = HttpConnection::State::working;
      }
      tl_current = c;
      Outcome outcome = Outcome::close;
      try {
        outcome = serve(*c);
      } catch (const std::exception &e) {
        log::debug("http", std::string("connection ended: ") + e.what());
      } catch (...) {
        log::debug("http", "connection ended");
      }
      tl_current.reset();
      c->disarm();
      if (outcome == Outcome::keep && !stopping.load()) {
        {
          std::lock_guard lock(mutex);
          c->state = HttpConnection::State::waiting;
          c->phase = 0;
          c->wait_deadline = Clock::now() + limits.idle_timeout;
        }
        watch(*c);
      } else if (outcome == Outcome::parked && !stopping.load()) {
        {
          std::lock_guard lock(mutex);
          c->state = HttpConnection::State::parked;
          c->next_keepalive = Clock::now() + limits.keepalive_interval;
        }
        watch(*c);
        keeper_cv.notify_all();
      } else if (outcome == Outcome::linger && !stopping.load()) {
        ::shutdown(c->fd, SHUT_WR);
        {
          std::lock_guard lock(mutex);
          c->state = HttpConnection::State::closing;
          c->wait_deadline = Clock::now() + kLingerAfterRefusal;
        }
        watch(*c);
      } else {
        if (outcome == Outcome::parked) end_parked(c);
        close(c);
      }
    }
  }

  // close: at once; linger: after the answer, reading what the client still
  // sends for a moment, so that closing does not reset the answer away.
  enum class Outcome { close, linger, keep, parked };

  // Sends a JSON-RPC error on a response that has not started.
  static void answer_error(Session &session, int status, const std::string &message) {
    Poco::Net::HTTPServerResponseImpl response(session);
    response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
    response.setKeepAlive(false);
    response.set("Server", "pg-mcp");
    response.setContentType("application/json");
    nlohmann::json body = {
        {"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", -32700}, {"message", message}}}};
    std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Not sendBuffer: with no request attached it sends the head alone.
    response.setContentLength(static_cast<std::streamsize>(text.size()));
    response.send().write(text.data(), static_cast<std::streamsize>(text.size())).flush();
  }

  Outcome serve(HttpConnection &c) {
    std::shared_ptr<HttpConnection> self = tl_current;
    if (c.tls && !c.secured) {
      c.secured = true;
      c.arm(limits.header_timeout, "header_timeout");
      c.socket = Poco::Net::SecureStreamSocket::attach(c.socket, tls);
    }
    if (!c.session) c.session = std::make_unique<Session>(c.socket, params);
    for (;;) {
      c.arm(limits.header_timeout, "header_timeout");
      auto response = std::make_unique<Poco::Net::HTTPServerResponseImpl>(*c.session);
      std::unique_ptr<Poco::Net::HTTPServerRequestImpl> raw;
      try {
        raw = std::make_unique<Poco::Net::HTTPServerRequestImpl>(*response, *c.session, params);
      } catch (const Poco::Net::NoMessageException &) {
        return Outcome::close;
      } catch (const Poco::Exception &e) {
        if (c.timed_out) return Outcome::close;
        c.disarm();
        WriteDeadline w(self);
        answer_error(*c.session, 400,
                     "Bad Request: the request head or its framing is malformed (" +
                         e.displayText() + "); send one HTTP/1.1 request with a valid head");
        return Outcome::linger;
      }
      // Poco's parser takes any three words for a request line; the version
      // would be echoed back in the status line.
      const std::string &version = raw->getVersion();
      if (version != Poco::Net::HTTPMessage::HTTP_1_1 &&
          version != Poco::Net::HTTPMessage::HTTP_1_0) {
        c.disarm();
        WriteDeadline w(self);
        answer_error(*c.session, 400,
                     "Bad Request: this is not an HTTP/1.1 request; pg-mcp speaks HTTP/1.1");
        return Outcome::linger;
      }
      // Two ways of framing one body is how requests are smuggled past proxies.
      int lengths = 0;
      for (const auto &field : *raw)
        if (Poco::icompare(field.first, "Content-Length") == 0) ++lengths;
      if (lengths > 1 || (lengths == 1 && raw->has("Transfer-Encoding"))) {
        c.disarm();
        WriteDeadline w(self);
        answer_error(*c.session, 400,
                     "Bad Request: the body is framed twice (Content-Length with another "
                     "Content-Length or with Transfer-Encoding); send one");
        return Outcome::linger;
      }
      // The body, whole, under the body deadline; one larger than the limit
      // is left for the handler to refuse.
      std::string body;
      const bool chunked = raw->getChunkedTransferEncoding();
      const Poco::Int64 declared = raw->hasContentLength() ? raw->getContentLength64() : 0;
      if ((chunked || declared > 0) &&
          declared <= static_cast<Poco::Int64>(limits.max_body_bytes)) {
        bool large = chunked || declared > static_cast<Poco::Int64>(kPeekBytes);
        if (large) {
          std::lock_guard lock(mutex);
          ++large_bodies;
        }
        struct Release {
          Impl &impl;
          bool large;
          ~Release() {
            if (!large) return;
            std::lock_guard lock(impl.mutex);
            --impl.large_bodies;
          }
        } release{*this, large};
        if (raw->getExpectContinue()) response->sendContinue();
        c.arm(limits.body_timeout, "body_timeout");
        std::istream &in = raw->stream();
        char chunk[16384];
        try {
          while (body.size() <= limits.max_body_bytes &&
                 (in.read(chunk, sizeof chunk) || in.gcount() > 0))
            body.append(chunk, static_cast<std::size_t>(in.gcount()));
        } catch (const Poco::Exception &e) {
          if (c.timed_out) return Outcome::close;
          c.disarm();
          WriteDeadline w(self);
          answer_error(*c.session, 400,
                       "Bad Request: the request body is malformed (" + e.displayText() + ")");
          return Outcome::linger;
        }
        if (c.timed_out) return Outcome::close;
      }
      c.disarm();
      BufferedRequest request(*raw, *response, std::move(body));
      response->setDate(Poco::Timestamp());
      response->setVersion(raw->getVersion());
      response->setKeepAlive(raw->getKeepAlive() && !stopping.load());
      handler(request, *response);
      if (c.parked) {
        c.response = std::move(response);
        c.request = std::move(raw);
        return Outcome::parked;
      }
      bool keep = response->sent() && response->getKeepAlive() && !c.timed_out;
      {
        WriteDeadline w(self);
        response.reset();  // ends a chunked body
        raw.reset();
      }
      if (c.timed_out || stopping.load()) return Outcome::close;
      if (!keep) return Outcome::linger;
      if (c.session->read_ahead() > 0 || (c.tls && c.socket.available() > 0)) continue;
      // A client that sends its next request at once (a loop, a benchmark)
      // is served by this worker without a round through the event loop; a
      // whole request only, so waiting costs at most kQuickNextMs.
      // Never while other requests wait for a worker: one busy client must
      // not keep this worker from them.
      if (!c.tls && queued.load() == 0 && whole_request_within(c.fd, kQuickNextMs)) continue;
      return Outcome::keep;
    }
  }

  // ---- parked streams -------------------------------------------------

  void end_parked(const std::shared_ptr<HttpConnection> &c) {
    try {
      if (c->parked && c->parked->end) c->parked->end();
    } catch (const std::exception &) {
    }
    try {
      WriteDeadline w(c);
      c->response.reset();
      c->request.reset();
    } catch (const std::exception &) {
    }
    c->parked.reset();
  }

  void keep_loop() {
    std::unique_lock lock(mutex);
    for (;;) {
      keeper_cv.wait_for(lock, kKeeperTick);
      bool stop_all = stopping.load();
      std::vector<std::shared_ptr<HttpConnection>> parked;
      for (auto &entry : connections)
        if (entry.second->state == HttpConnection::State::parked) parked.push_back(entry.second);
      lock.unlock();
      auto now = Clock::now();
      for (auto &c : parked) {
        bool done = stop_all || c->peer_gone.load() || c->timed_out.load();
        try {
          if (!done) done = !c->parked->alive();
          if (!done && now >= c->next_keepalive) {
            c->next_keepalive = now + limits.keepalive_interval;
            WriteDeadline w(c);
            done = !c->parked->keepalive();
          }
        } catch (const std::exception &) {
          done = true;
        }
        if (done) {
          end_parked(c);
          close(c);
        }
      }
      lock.lock();
      if (stop_all) return;
    }
  }
};

HttpServer::HttpServer(Poco::Net::ServerSocket listener, Poco::Net::Context::Ptr tls,
                       HttpLimits limits, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(listener), std::move(tls), limits,
                                   std::move(handler))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  Impl &i = *impl_;
  i.epfd = ::epoll_create1(EPOLL_CLOEXEC);
  i.wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (i.epfd < 0 || i.wakefd < 0)
    throw std::runtime_error(std::string("cannot start the HTTP event loop: ") +
                             std::strerror(errno));
  i.listener.setBlocking(false);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerId;
  ::epoll_ctl(i.epfd, EPOLL_CTL_ADD, i.listener.impl()->sockfd(), &ev);
  ev.data.u64 = kWakeId;
  ::epoll_ctl(i.epfd, EPOLL_CTL_ADD, i.wakefd, &ev);
  i.reactor = std::thread([&i] { i.loop(); });
  i.keeper = std::thread([&i] { i.keep_loop(); });
}

void HttpServer::stop() {
  Impl &i = *impl_;
  if (i.epfd < 0 || i.stopping.exchange(true)) return;
  i.wake();
  if (i.reactor.joinable()) i.reactor.join();
  try {
    i.listener.close();
  } catch (const Poco::Exception &) {
  }
  i.keeper_cv.notify_all();
  if (i.keeper.joinable()) i.keeper.join();
  std::vector<std::shared_ptr<HttpConnection>> all;
  {
    std::lock_guard lock(i.mutex);
    for (auto &entry : i.connections) all.push_back(entry.second);
    i.queue.clear();
    i.queued = 0;
  }
  // Connections still running a request are shut down: their handler's
  // reads and writes fail and it returns.
  for (auto &c : all) {
    HttpConnection::State state;
    {
      std::lock_guard lock(i.mutex);
      state = c->state;
    }
    if (state == HttpConnection::State::working)
      ::shutdown(c->fd, SHUT_RDWR);
    else
      i.close(c);
  }
  i.work_cv.notify_all();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(i.mutex);
    workers.swap(i.workers);
  }
  for (auto &t : workers) t.join();
  ::close(i.epfd);
  ::close(i.wakefd);
}

std::shared_ptr<HttpConnection> HttpServer::current() { return tl_current; }

void HttpServer::park(ParkedStream stream) {
  if (tl_current) tl_current->parked = std::move(stream);
}

HttpServer::Counts HttpServer::counts() const {
  std::lock_guard lock(impl_->mutex);
  Counts n;
  n.open = impl_->connections.size();
  for (auto &entry : impl_->connections) {
    switch (entry.second->state) {
      case HttpConnection::State::waiting:
        ++n.waiting;
        break;
      case HttpConnection::State::queued:
      case HttpConnection::State::working:
        ++n.working;
        break;
      case HttpConnection::State::parked:
        ++n.parked;
        break;
      case HttpConnection::State::closing:
        break;
    }
  }
  n.queued = impl_->queue.size();
  n.threads = static_cast<int>(impl_->workers.size());
  return n;
}

}  // namespace pgmcp::http
