#include "mcp/http_transport.hpp"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <sys/random.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <thread>

#include "log/log.hpp"
#include "mcp/http_server.hpp"
#include "util/base64.hpp"

namespace pgmcp::mcp {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

constexpr std::size_t kHistoryEvents = 512;   // events kept per stream for resumption
constexpr std::size_t kFinishedStreams = 64;  // finished streams kept per session

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
  std::string id =
      util::base64url_encode(std::string_view(reinterpret_cast<char *>(bytes), sizeof bytes));
  return id;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "localhost:8765" -> "localhost", "[::1]:80" -> "::1".
std::string host_part(const std::string &hostport) {
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    return close == std::string::npos ? hostport : hostport.substr(1, close - 1);
  }
  auto colon = hostport.find(':');
  if (colon != std::string::npos && hostport.find(':', colon + 1) == std::string::npos)
    return hostport.substr(0, colon);
  return hostport;
}

bool loopback_name(const std::string &host) {
  std::string h = lower(host);
  return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
}

// The base64 sentinel of the 2026-07-28 request headers: =?base64?...?=
// Poco's header parser treats "=?" as the start of an RFC 2047 encoded word
// and, failing to decode it, drops those two characters, so the sentinel
// arrives as "base64?...?=". Both forms are accepted; no tool name can
// contain '?', so no plain value is mistaken for one.
std::string decode_header_value(const std::string &v) {
  std::string_view body;
  if (v.size() >= 11 && v.rfind("=?base64?", 0) == 0 && v.compare(v.size() - 2, 2, "?=") == 0) {
    body = std::string_view(v).substr(9, v.size() - 11);
  } else if (v.size() >= 9 && v.rfind("base64?", 0) == 0 && v.compare(v.size() - 2, 2, "?=") == 0) {
    body = std::string_view(v).substr(7, v.size() - 9);
  } else {
    return v;
  }
  // An undecodable value cannot match any body value.
  return util::base64_decode(body).value_or("\x01undecodable");
}

// Starts an event-stream answer and returns its body.
std::ostream &open_event_stream(HTTPServerResponse &r) {
  r.setStatusAndReason(HTTPResponse::HTTP_OK);
  r.setContentType("text/event-stream");
  r.set("Cache-Control", "no-cache");
  r.set("X-Accel-Buffering", "no");  // proxies must not buffer events
  r.setChunkedTransferEncoding(true);
  return r.send();
}

// One logical event stream: a POST's response stream or a session's GET
// stream. Legacy sessions keep recent events so a client can resume with
// Last-Event-ID on a new connection.
class SseStream {
 public:
  explicit SseStream(std::string id) : id_(std::move(id)) {}
  const std::string &id() const { return id_; }

  // Records an event and writes it to the attached connection, if any.
  // Returns whether it reached a connection.
  bool publish(const std::string &data, bool final) {
    std::lock_guard lock(mutex_);
    std::uint64_t seq = next_++;
    history_.emplace_back(seq, data);
    if (history_.size() > kHistoryEvents) history_.pop_front();
    bool delivered = write_locked(seq, data);
    if (final) finished_ = true;
    return delivered;
  }

  // Attaches a connection and replays every event after `after`.
  bool attach(std::ostream *out, std::shared_ptr<HttpConnection> connection, std::uint64_t after) {
    std::lock_guard lock(mutex_);
    out_ = out;
    connection_ = std::move(connection);
    for (const auto &[seq, data] : history_) {
      if (seq > after && !data.empty() && !write_locked(seq, data)) return false;
    }
    return out_ != nullptr;
  }

  void detach(std::ostream *out) {
    std::lock_guard lock(mutex_);
    if (out_ == out) {
      out_ = nullptr;
      connection_.reset();
    }
  }

  // Whether `out` still carries this stream, which has not finished.
  bool carried_by(std::ostream *out) {
    std::lock_guard lock(mutex_);
    return out_ == out && !finished_;
  }

  // A comment that keeps proxies from closing an idle stream; false once
  // `out` no longer carries it.
  bool keepalive(std::ostream *out) {
    std::lock_guard lock(mutex_);
    if (out_ != out) return false;
    WriteDeadline deadline(connection_);
    *out_ << ": keep-alive\n\n";
    out_->flush();
    if (!out_->good()) out_ = nullptr;
    return out_ != nullptr;
  }

  bool attached() {
    std::lock_guard lock(mutex_);
    return out_ != nullptr;
  }
  bool finished() {
    std::lock_guard lock(mutex_);
    return finished_;
  }

 private:
  bool write_locked(std::uint64_t seq, const std::string &data) {
    if (out_ == nullptr) return false;
    WriteDeadline deadline(connection_);
    *out_ << "id: " << id_ << '.' << seq << "\ndata: " << data << "\n\n";
    out_->flush();
    if (!out_->good()) {
      out_ = nullptr;
      return false;
    }
    return true;
  }

  std::string id_;
  std::mutex mutex_;
  std::deque<std::pair<std::uint64_t, std::string>> history_;
  std::uint64_t next_ = 1;
  std::ostream *out_ = nullptr;
  std::shared_ptr<HttpConnection> connection_;  // of out_, for its write deadline
  bool finished_ = false;
};

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

// Answers with JSON unless something is sent before the response, in which
// case the answer becomes an event stream carrying both.
class LazyResponse final : public Outbound {
 public:
  LazyResponse(HTTPServerResponse &r, std::shared_ptr<SseStream> stream, bool priming)
      : r_(r), stream_(std::move(stream)), priming_(priming), connection_(HttpServer::current()) {}

  bool send(const json &message) override {
    return send_text(message.dump(-1, ' ', false, json::error_handler_t::replace), false);
  }

  void finish(const std::string &text, int status) {
    {
      std::lock_guard lock(mutex_);
      if (!started_) {
        WriteDeadline deadline(connection_);
        r_.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
        r_.setContentType("application/json");
        r_.sendBuffer(text.data(), text.size());
        return;
      }
    }
    send_text(text, true);
  }

  // Ends a stream that will carry no response (the request was cancelled).
  void abandon() {
    std::lock_guard lock(mutex_);
    if (!started_) {
      r_.setStatusAndReason(HTTPResponse::HTTP_ACCEPTED);
      r_.setContentLength(0);
      r_.send();
    }
    if (stream_) stream_->publish("", true);
  }

 private:
  bool send_text(const std::string &text, bool final) {
    std::lock_guard lock(mutex_);
    WriteDeadline deadline(connection_);
    if (!started_) {
      started_ = true;
      os_ = &open_event_stream(r_);
      if (stream_) {
        stream_->attach(os_, connection_, 0);
        // 2025-11-25: an id with empty data first, so a client that loses the
        // connection can resume with Last-Event-ID.
        if (priming_) stream_->publish("", false);
      }
    }
    if (stream_) {
      bool delivered = stream_->publish(text, final);
      if (final) stream_->detach(os_);
      return delivered || !final;
    }
    if (os_ == nullptr || !os_->good()) return false;
    *os_ << "data: " << text << "\n\n";
    os_->flush();
    return os_->good();
  }

  HTTPServerResponse &r_;
  std::shared_ptr<SseStream> stream_;
  bool priming_;
  std::shared_ptr<HttpConnection> connection_;
  std::mutex mutex_;
  bool started_ = false;
  std::ostream *os_ = nullptr;
};

void send_json(HTTPServerResponse &r, int status, const json &body) {
  // A message may echo what the client sent; invalid UTF-8 in it is replaced
  // rather than thrown (which would drop the connection without an answer).
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  WriteDeadline deadline(HttpServer::current());
  r.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  r.setContentType("application/json");
  r.sendBuffer(text.data(), text.size());
}

void send_error(HTTPServerResponse &r, int status, const json &id, int code,
                const std::string &message, const json &data = nullptr) {
  if (log::enabled(log::Level::debug)) log::debug("http", std::to_string(status) + " " + message);
  // The request body may be unread: close rather than let it poison the next
  // request on this keep-alive connection.
  r.setKeepAlive(false);
  send_json(r, status, error_response(id, code, message, data));
}

}  // namespace

// An open subscriptions/listen stream.
struct Listener {
  json id;
  json honoured;
  std::mutex mutex;
  std::ostream *out = nullptr;
  std::shared_ptr<HttpConnection> connection;  // of out, for its write deadline
  bool write(const std::string &text) {
    std::lock_guard lock(mutex);
    return write_locked("data: " + text + "\n\n");
  }
  bool write_locked(const std::string &frame) {
    if (out == nullptr) return false;
    WriteDeadline deadline(connection);
    *out << frame;
    out->flush();
    if (!out->good()) out = nullptr;
    return out != nullptr;
  }
};

struct HttpTransport::Impl {
  McpServer &server;
  HttpOptions opt;
  std::uint16_t bound_port = 0;
  std::unique_ptr<HttpServer> http;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<HttpSession>> sessions;
  std::vector<std::shared_ptr<Listener>> listeners;
  std::atomic<bool> stopping{false};
  int sink = 0;
  std::thread janitor;
  std::mutex janitor_mutex;
  std::condition_variable janitor_cv;

  Impl(McpServer &s, HttpOptions o) : server(s), opt(std::move(o)) {}

  std::shared_ptr<HttpSession> find_session(const std::string &id) {
    std::lock_guard lock(mutex);
    auto it = sessions.find(id);
    return it == sessions.end() ? nullptr : it->second;
  }

  void end_session(const std::string &id) {
    std::shared_ptr<HttpSession> s;
    {
      std::lock_guard lock(mutex);
      auto it = sessions.find(id);
      if (it == sessions.end()) return;
      s = it->second;
      sessions.erase(it);
    }
    s->close();
  }

  void expire_idle() {
    std::vector<std::string> idle;
    {
      std::lock_guard lock(mutex);
      for (auto &[id, s] : sessions)
        if (!s->standalone().attached() && s->idle_longer_than(opt.session_idle_timeout))
          idle.push_back(id);
    }
    for (auto &id : idle) {
      log::debug("http", "session expired after " +
                             std::to_string(opt.session_idle_timeout.count()) + " s idle");
      end_session(id);
    }
  }

  // DNS-rebinding defence: on loopback, the Host must be a loopback name; an
  // Origin, when sent, must be loopback or explicitly allowed.
  bool allowed(const HTTPServerRequest &req, HTTPServerResponse &resp) {
    if (req.has("Host")) {
      std::string host = req.get("Host");
      bool ok = !opt.listen.loopback() || loopback_name(host_part(host));
      for (const auto &h : opt.allowed_hosts)
        ok = ok || lower(h) == lower(host) || lower(h) == lower(host_part(host));
      if (!ok) {
        send_error(resp, 403, nullptr, code::invalid_request,
                   "Forbidden: Host '" + host + "' is not allowed (add it to http.allowed_hosts)");
        return false;
      }
    }
    if (req.has("Origin")) {
      std::string origin = req.get("Origin");
      auto scheme = origin.find("://");
      bool ok = scheme != std::string::npos && loopback_name(host_part(origin.substr(scheme + 3)));
      for (const auto &o : opt.allowed_origins) ok = ok || o == "*" || lower(o) == lower(origin);
      if (!ok) {
        send_error(
            resp, 403, nullptr, code::invalid_request,
            "Forbidden: Origin '" + origin + "' is not allowed (add it to http.allowed_origins)");
        return false;
      }
    }
    return true;
  }

  // Returns the subject, or nullopt after answering 401/403.
  std::optional<std::string> authenticate(const HTTPServerRequest &req, HTTPServerResponse &resp) {
    if (!opt.auth) return std::string();
    AuthOutcome a = opt.auth->check(req.get("Authorization", ""));
    if (a.ok) return a.subject;
    if (!a.www_authenticate.empty()) resp.set("WWW-Authenticate", a.www_authenticate);
    send_error(resp, a.status, nullptr, code::invalid_request, a.message);
    return std::nullopt;
  }

  void handle(HTTPServerRequest &req, HTTPServerResponse &resp) {
    resp.set("Server", "pg-mcp");
    const std::string &uri = req.getURI();
    std::string path = uri.substr(0, uri.find('?'));
    if (!allowed(req, resp)) return;
    if (path.rfind("/.well-known/oauth-protected-resource", 0) == 0) return metadata(req, resp);
    if (path != opt.path) {
      return send_error(resp, 404, nullptr, code::invalid_request,
                        "Not Found: the MCP endpoint is " + opt.path);
    }
    auto subject = authenticate(req, resp);
    if (!subject) return;
    const std::string &method = req.getMethod();
    if (method == "POST") return post(req, resp, *subject);
    if (method == "GET") return get(req, resp);
    if (method == "DELETE") return remove(req, resp);
    resp.set("Allow", "GET, POST, DELETE");
    send_error(resp, 405, nullptr, code::invalid_request,
               "Method Not Allowed: use POST, GET or DELETE");
  }

  void metadata(const HTTPServerRequest &req, HTTPServerResponse &resp) {
    std::optional<json> m = opt.auth ? opt.auth->resource_metadata() : std::nullopt;
    if (!m || req.getMethod() != "GET") {
      return send_error(resp, 404, nullptr, code::invalid_request,
                        "Not Found: no protected-resource metadata");
    }
    send_json(resp, 200, *m);
  }

  void post(HTTPServerRequest &req, HTTPServerResponse &resp, const std::string &subject) {
    std::string ctype = lower(req.getContentType());
    if (ctype.rfind("application/json", 0) != 0) {
      return send_error(resp, 415, nullptr, code::invalid_request,
                        "Unsupported Media Type: POST a JSON-RPC message as application/json");
    }
    std::string accept = lower(req.get("Accept", ""));
    if (!accept.empty() && accept.find("application/json") == std::string::npos &&
        accept.find("text/event-stream") == std::string::npos &&
        accept.find("*/*") == std::string::npos) {
      return send_error(resp, 406, nullptr, code::invalid_request,
                        "Not Acceptable: accept application/json and text/event-stream");
    }
    Poco::Int64 length = -1;
    if (req.hasContentLength()) {
      try {
        length = req.getContentLength64();
      } catch (const Poco::Exception &) {
        length = -2;
      }
      if (length < 0)
        return send_error(resp, 400, nullptr, code::parse_error,
                          "Bad Request: Content-Length is not a byte count");
    }
    if (length > static_cast<Poco::Int64>(opt.max_body_bytes)) {
      return send_error(resp, 413, nullptr, code::invalid_request,
                        "Payload Too Large: a message may be at most " +
                            std::to_string(opt.max_body_bytes) + " bytes");
    }
    std::string body;
    {
      std::istream &in = req.stream();
      char buf[16384];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        body.append(buf, static_cast<size_t>(in.gcount()));
        if (body.size() > opt.max_body_bytes) {
          return send_error(resp, 413, nullptr, code::invalid_request,
                            "Payload Too Large: a message may be at most " +
                                std::to_string(opt.max_body_bytes) + " bytes");
        }
      }
    }
    json doc;
    try {
      doc = json::parse(body);
    } catch (const json::exception &e) {
      return send_error(
          resp, 400, nullptr, code::parse_error,
          std::string("Parse error: ") + e.what() + "; send one JSON-RPC message as UTF-8 JSON");
    }
    Message m;
    try {
      m = classify(doc);
    } catch (const ProtocolError &e) {
      return send_error(resp, 400, reply_id(doc), e.code(), e.what());
    }

    const std::string session_id = req.get("Mcp-Session-Id", "");
    const std::string version_header = req.get("MCP-Protocol-Version", "");
    Exchange ex;
    ex.subject = subject;
    ex.transport = "http";

    if (!session_id.empty()) {
      auto s = find_session(session_id);
      if (!s) {
        return send_error(resp, 404, nullptr, code::invalid_request,
                          "Not Found: unknown or ended session; start a new one with initialize");
      }
      if (!version_header.empty() && !is_legacy_version(version_header)) {
        return send_error(resp, 400, m.kind == Message::Kind::request ? m.id : json(nullptr),
                          code::invalid_request,
                          "Bad Request: unsupported MCP-Protocol-Version '" + version_header + "'",
                          {{"supported", supported_versions()}});
      }
      s->touch();
      ex.session = s;
      ex.peer = s.get();
      if (m.kind == Message::Kind::response) {
        server.handle_response(m, *s);
        return accepted(resp);
      }
      if (m.kind == Message::Kind::notification) {
        server.handle_notification(m, ex);
        return accepted(resp);
      }
      if (m.method == "initialize") {
        return send_error(resp, 400, m.id, code::invalid_request,
                          "Bad Request: this session is already initialized");
      }
      return run(m, ex, resp, s->new_stream(), s->protocol_version == "2025-11-25");
    }

    // The body's declared revision, before judging whether it is supported:
    // a header that disagrees with it is a mismatch whatever either says.
    std::string body_version;
    if (m.params != nullptr && m.params->is_object()) {
      if (auto meta = m.params->find("_meta"); meta != m.params->end() && meta->is_object()) {
        if (auto v = meta->find(kMetaProtocolVersion); v != meta->end())
          body_version = v->is_string() ? v->get<std::string>() : v->dump();
      }
    }
    if (!body_version.empty() && !version_header.empty() && body_version != version_header) {
      return send_error(resp, 400, m.kind == Message::Kind::request ? m.id : json(nullptr),
                        code::header_mismatch,
                        "Header mismatch: MCP-Protocol-Version header '" + version_header +
                            "' does not match body value '" + body_version + "'");
    }
    const bool modern_markers = !body_version.empty() || is_modern_version(version_header);

    if (m.kind == Message::Kind::request && m.method == "initialize" && !modern_markers) {
      std::shared_ptr<HttpSession> s;
      {
        std::lock_guard lock(mutex);
        if (sessions.size() >= opt.max_sessions) {
          return send_error(resp, 503, m.id, code::internal_error,
                            "Service Unavailable: too many sessions; retry later");
        }
        s = std::make_shared<HttpSession>(random_id());
        sessions[s->id()] = s;
      }
      ex.session = s;
      ex.peer = s.get();
      resp.set("Mcp-Session-Id", s->id());
      auto reply = server.handle_request(m, ex);
      if (!reply || reply->message.contains("error")) end_session(s->id());
      if (!reply) return accepted(resp);
      return send_json(resp, reply->http_status, reply->message);
    }

    // Stateless (2026-07-28), or a legacy message without its session.
    std::optional<ModernMeta> meta;
    try {
      meta = modern_meta(m);
    } catch (const ProtocolError &e) {
      return send_error(resp, e.http_status() != 0 ? e.http_status() : 400,
                        m.kind == Message::Kind::request ? m.id : json(nullptr), e.code(), e.what(),
                        e.data());
    }
    if (!meta && !modern_markers) {
      return send_error(
          resp, 400, m.kind == Message::Kind::request ? m.id : json(nullptr), code::invalid_request,
          "Bad Request: Mcp-Session-Id header is required; start a session with initialize, "
          "or send per-request _meta (revision 2026-07-28)");
    }
    if (m.kind != Message::Kind::request) return accepted(resp);
    if (!meta &&
        (m.method == "initialize" || m.method == "ping" || m.method == "logging/setLevel")) {
      return send_error(resp, 404, m.id, code::method_not_found,
                        "Method not found: " + m.method + " is not part of revision 2026-07-28");
    }
    if (meta) {
      if (auto mismatch = header_mismatch(req, m, *meta)) {
        return send_error(resp, 400, m.id, code::header_mismatch, *mismatch);
      }
    }
    if (meta && m.method == "subscriptions/listen") return listen(m, *meta, resp);
    run(m, ex, resp, nullptr, false);
  }

  // 2026-07-28: one long-lived response stream carrying the change
  // notifications the client opted in to, each tagged with the subscription.
  void listen(const Message &m, const ModernMeta &, HTTPServerResponse &resp) {
    const json &params = *m.params;
    json wanted = params.value("notifications", json::object());
    if (!wanted.is_object()) {
      return send_error(resp, 400, m.id, code::invalid_params,
                        "Invalid params: \"notifications\" must be an object");
    }
    auto listener = std::make_shared<Listener>();
    listener->id = m.id;
    // Honour only what this server can send.
    if (wanted.value("toolsListChanged", false)) listener->honoured["toolsListChanged"] = true;
    if (wanted.value("resourcesListChanged", false))
      listener->honoured["resourcesListChanged"] = true;
    if (auto subs = wanted.find("resourceSubscriptions");
        subs != wanted.end() && subs->is_array()) {
      json uris = json::array();
      for (const auto &u : *subs)
        if (u.is_string()) uris.push_back(u);
      listener->honoured["resourceSubscriptions"] = uris;
    }
    if (listener->honoured.is_null()) listener->honoured = json::object();
    std::ostream &os = open_event_stream(resp);
    listener->out = &os;
    listener->connection = HttpServer::current();
    json ack = notification("notifications/subscriptions/acknowledged",
                            {{"notifications", listener->honoured},
                             {"_meta", {{"io.modelcontextprotocol/subscriptionId", m.id}}}});
    if (!listener->write(ack.dump())) return;
    {
      std::lock_guard lock(mutex);
      listeners.push_back(listener);
    }
    // The stream stays open without a worker until the client leaves or the
    // server stops.
    HttpServer::park({[this, listener] {
                        std::lock_guard lock(listener->mutex);
                        return listener->out != nullptr && !stopping.load();
                      },
                      [listener] {
                        std::lock_guard lock(listener->mutex);
                        return listener->write_locked(": keep-alive\n\n");
                      },
                      [this, listener, id = m.id] {
                        {
                          std::lock_guard lock(listener->mutex);
                          // A graceful end (server stopping): the response closes the stream.
                          json done = result_response(
                              id, {{"resultType", "complete"},
                                   {"_meta", {{"io.modelcontextprotocol/subscriptionId", id}}}});
                          if (stopping.load())
                            listener->write_locked("data: " + done.dump() + "\n\n");
                          listener->out = nullptr;
                          listener->connection.reset();
                        }
                        std::lock_guard lock(mutex);
                        listeners.erase(std::remove(listeners.begin(), listeners.end(), listener),
                                        listeners.end());
                      }});
  }

  void deliver(const json &message) {
    const std::string method = message.value("method", "");
    std::vector<std::shared_ptr<Listener>> all;
    {
      std::lock_guard lock(mutex);
      all = listeners;
    }
    for (auto &l : all) {
      bool wanted = (method == "notifications/tools/list_changed" &&
                     l->honoured.contains("toolsListChanged")) ||
                    (method == "notifications/resources/list_changed" &&
                     l->honoured.contains("resourcesListChanged"));
      if (method == "notifications/resources/updated" &&
          l->honoured.contains("resourceSubscriptions")) {
        std::string uri = message.contains("params") ? message["params"].value("uri", "") : "";
        for (const auto &u : l->honoured["resourceSubscriptions"]) wanted = wanted || u == uri;
      }
      if (!wanted) continue;
      json tagged = message;
      tagged["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] = l->id;
      l->write(tagged.dump());
    }
  }

  // 2026-07-28: the headers mirror the body and must agree with it.
  std::optional<std::string> header_mismatch(const HTTPServerRequest &req, const Message &m,
                                             const ModernMeta &meta) {
    std::string version = req.get("MCP-Protocol-Version", "");
    if (version.empty()) return "Header mismatch: MCP-Protocol-Version header is required";
    if (version != meta.protocol_version) {
      return "Header mismatch: MCP-Protocol-Version header '" + version +
             "' does not match body value '" + meta.protocol_version + "'";
    }
    if (!req.has("Mcp-Method")) return "Header mismatch: Mcp-Method header is required";
    std::string method = req.get("Mcp-Method");
    if (method != m.method) {
      return "Header mismatch: Mcp-Method header value '" + method +
             "' does not match body value '" + m.method + "'";
    }
    const char *field = m.method == "resources/read"                              ? "uri"
                        : (m.method == "tools/call" || m.method == "prompts/get") ? "name"
                                                                                  : nullptr;
    if (field != nullptr) {
      std::string body_value;
      if (m.params != nullptr && m.params->is_object()) {
        auto f = m.params->find(field);
        if (f != m.params->end() && f->is_string()) body_value = f->get<std::string>();
      }
      if (!req.has("Mcp-Name"))
        return "Header mismatch: Mcp-Name header is required for " + m.method;
      std::string name = decode_header_value(req.get("Mcp-Name"));
      if (name != body_value) {
        return "Header mismatch: Mcp-Name header value '" + name + "' does not match body value '" +
               body_value + "'";
      }
    }
    return std::nullopt;
  }

  void run(const Message &m, Exchange &ex, HTTPServerResponse &resp,
           std::shared_ptr<SseStream> stream, bool priming) {
    LazyResponse out(resp, std::move(stream), priming);
    ex.out = &out;
    auto reply = server.handle_request(m, ex);
    if (!reply) return out.abandon();
    out.finish(reply->take_text(), reply->http_status);
  }

  void accepted(HTTPServerResponse &resp) {
    WriteDeadline deadline(HttpServer::current());
    resp.setStatusAndReason(HTTPResponse::HTTP_ACCEPTED);
    resp.setContentLength(0);
    resp.send();
  }

  void get(HTTPServerRequest &req, HTTPServerResponse &resp) {
    std::string accept = lower(req.get("Accept", ""));
    const std::string session_id = req.get("Mcp-Session-Id", "");
    if (session_id.empty()) {
      resp.set("Allow", "POST");
      return send_error(
          resp, 405, nullptr, code::invalid_request,
          "Method Not Allowed: GET opens a session's event stream and needs Mcp-Session-Id");
    }
    if (accept.find("text/event-stream") == std::string::npos) {
      return send_error(resp, 406, nullptr, code::invalid_request,
                        "Not Acceptable: GET must accept text/event-stream");
    }
    auto s = find_session(session_id);
    if (!s)
      return send_error(resp, 404, nullptr, code::invalid_request,
                        "Not Found: unknown or ended session");
    s->touch();

    std::shared_ptr<SseStream> stream;
    std::uint64_t after = 0;
    if (std::string last = req.get("Last-Event-ID", ""); !last.empty()) {
      auto dot = last.rfind('.');
      if (dot != std::string::npos) {
        stream = s->find_stream(last.substr(0, dot));
        try {
          after = std::stoull(last.substr(dot + 1));
        } catch (const std::exception &) {
          stream = nullptr;
        }
      }
    }
    if (!stream) {
      if (s->standalone().attached()) {
        return send_error(resp, 409, nullptr, code::invalid_request,
                          "Conflict: this session already has an open event stream");
      }
      stream = std::shared_ptr<SseStream>(s, &s->standalone());
    }
    std::ostream &os = open_event_stream(resp);
    os.flush();
    if (!stream->attach(&os, HttpServer::current(), after)) return;
    // Held open without a worker until the stream ends, is taken over by a
    // newer connection, the session ends or the server stops.
    HttpServer::park({[this, stream, s, out = &os] {
                        return !stopping.load() && !s->closed.load() && stream->carried_by(out);
                      },
                      [stream, out = &os] { return stream->keepalive(out); },
                      [stream, s, out = &os] {
                        stream->detach(out);
                        s->touch();
                      }});
  }

  void remove(HTTPServerRequest &req, HTTPServerResponse &resp) {
    const std::string session_id = req.get("Mcp-Session-Id", "");
    if (session_id.empty()) {
      return send_error(resp, 400, nullptr, code::invalid_request,
                        "Bad Request: DELETE needs Mcp-Session-Id");
    }
    if (!find_session(session_id)) {
      return send_error(resp, 404, nullptr, code::invalid_request,
                        "Not Found: unknown or ended session");
    }
    end_session(session_id);
    resp.setStatusAndReason(HTTPResponse::HTTP_OK);
    resp.setContentLength(0);
    resp.send();
  }
};

HttpTransport::HttpTransport(McpServer &server, HttpOptions options)
    : impl_(std::make_unique<Impl>(server, std::move(options))) {}

HttpTransport::~HttpTransport() { stop(); }

void HttpTransport::start() {
  Impl &i = *impl_;
  Poco::Net::SocketAddress address(i.opt.listen.host, i.opt.listen.port);
  Poco::Net::ServerSocket socket;
  Poco::Net::Context::Ptr tls;
  try {
    if (!i.opt.tls_cert.empty()) {
      tls = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, i.opt.tls_key,
                                   i.opt.tls_cert, "", Poco::Net::Context::VERIFY_NONE);
      tls->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    }
    // Not SO_REUSEPORT (Poco's default): a second instance must fail, not share.
    socket.bind(address, true, false);
    socket.listen(256);
  } catch (const Poco::Exception &e) {
    throw std::runtime_error("cannot listen on " + i.opt.listen.text() + ": " + e.displayText());
  }
  i.bound_port = socket.address().port();
  HttpLimits limits = i.opt.limits;
  limits.max_body_bytes = i.opt.max_body_bytes;
  i.http = std::make_unique<HttpServer>(
      socket, tls, limits, [&i](HTTPServerRequest &req, HTTPServerResponse &resp) {
        try {
          i.handle(req, resp);
        } catch (const Poco::Exception &e) {
          log::debug("http", "request ended: " + e.displayText());
        } catch (const std::exception &e) {
          log::warning("http", std::string("request failed: ") + e.what());
        }
      });
  i.http->start();
  i.sink = i.server.add_sink([this](const json &m) { broadcast(m); });
  i.janitor = std::thread([&i] {
    // Look at least twice per timeout, at most every 10 s.
    auto every = std::clamp<std::chrono::milliseconds>(
        i.opt.session_idle_timeout / 2, std::chrono::milliseconds(200), std::chrono::seconds(10));
    std::unique_lock lock(i.janitor_mutex);
    while (!i.stopping.load()) {
      i.janitor_cv.wait_for(lock, every);
      if (!i.stopping.load()) i.expire_idle();
    }
  });
}

void HttpTransport::stop() {
  Impl &i = *impl_;
  if (!i.http || i.stopping.exchange(true)) return;
  i.server.remove_sink(i.sink);
  i.janitor_cv.notify_all();
  if (i.janitor.joinable()) i.janitor.join();
  std::vector<std::string> ids;
  {
    std::lock_guard lock(i.mutex);
    for (auto &[id, s] : i.sessions) ids.push_back(id);
  }
  for (auto &id : ids) i.end_session(id);
  i.http->stop();
}

std::uint16_t HttpTransport::port() const { return impl_->bound_port; }

std::string HttpTransport::url() const {
  config::Endpoint e = impl_->opt.listen;
  e.port = port();
  return std::string(impl_->opt.tls_cert.empty() ? "http" : "https") + "://" + e.text() +
         impl_->opt.path;
}

void HttpTransport::broadcast(const json &message) {
  std::string text = message.dump();
  std::string uri;
  bool updated = message.value("method", "") == "notifications/resources/updated";
  if (updated && message.contains("params")) uri = message["params"].value("uri", "");
  std::vector<std::shared_ptr<HttpSession>> all;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto &[id, s] : impl_->sessions) all.push_back(s);
  }
  for (auto &s : all) {
    if (!updated || s->subscribed(uri)) s->standalone().publish(text, false);
  }
  impl_->deliver(message);
}

}  // namespace pgmcp::mcp
