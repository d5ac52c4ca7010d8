#include "mcp/http_transport.hpp"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>

#include <algorithm>

#include "log/log.hpp"
#include "mcp/http_rules.hpp"
#include "mcp/http_sessions.hpp"
#include "mcp/http_streams.hpp"
#include "mcp/subscriptions.hpp"

namespace pgmcp::mcp {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The HTTP status of an error response, by its kind.
int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::in_body:
      return 200;
    case ErrorKind::bad_request:
      return 400;
    case ErrorKind::not_found:
      return 404;
    case ErrorKind::internal:
      return 500;
  }
  return 500;
}

void send_text(HTTPServerResponse &r, int status, const std::string &text) {
  http::WriteDeadline deadline(http::HttpServer::current());
  r.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  r.setContentType("application/json");
  r.sendBuffer(text.data(), text.size());
}

void send_json(HTTPServerResponse &r, int status, const json &body) {
  // A message may echo what the client sent; invalid UTF-8 in it is replaced
  // rather than thrown (which would drop the connection without an answer).
  send_text(r, status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

void send_error(HTTPServerResponse &r, int status, const json &id, int code,
                const std::string &message, const json &data = nullptr) {
  if (log::enabled(log::Level::debug)) log::debug("http", std::to_string(status) + " " + message);
  // The request body may be unread: close rather than let it poison the next
  // request on this keep-alive connection.
  r.setKeepAlive(false);
  send_json(r, status, error_response(id, code, message, data));
}

// A protocol error that answers the whole POST; at least 400.
void send_error(HTTPServerResponse &r, const json &id, const ProtocolError &e) {
  send_error(r, std::max(400, http_status(e.kind())), id, e.code(), e.what(), e.data());
}

// An open subscriptions/listen stream: what it selects, and where it goes.
struct ListenStream {
  explicit ListenStream(Listener l) : listener(std::move(l)) {}
  const Listener listener;
  std::mutex mutex;
  std::ostream *out = nullptr;
  std::shared_ptr<http::HttpConnection> connection;  // of out, for its write deadline
  bool write(const json &message) {
    std::lock_guard lock(mutex);
    return write_locked("data: " + message.dump(-1, ' ', false, json::error_handler_t::replace) +
                        "\n\n");
  }
  bool write_locked(const std::string &frame) {
    if (out == nullptr) return false;
    http::WriteDeadline deadline(connection);
    *out << frame;
    out->flush();
    if (!out->good()) out = nullptr;
    return out != nullptr;
  }
};

}  // namespace

struct HttpTransport::Impl {
  McpServer &server;
  HttpOptions opt;
  core::Scheduler &scheduler;
  std::uint16_t bound_port = 0;
  std::unique_ptr<http::HttpServer> http;
  SessionStore sessions{opt.max_sessions, opt.session_idle_timeout};
  std::mutex mutex;
  std::vector<std::shared_ptr<ListenStream>> listeners;
  std::atomic<bool> stopping{false};
  int sink = 0;

  Impl(McpServer &s, HttpOptions o, core::Scheduler &sch)
      : server(s), opt(std::move(o)), scheduler(sch) {}

  // DNS-rebinding defence (see access_refusal); answers 403 when refused.
  bool allowed(const HTTPServerRequest &req, HTTPServerResponse &resp) {
    auto refusal = access_refusal(req.has("Host") ? &req.get("Host") : nullptr,
                                  req.has("Origin") ? &req.get("Origin") : nullptr, opt.listen,
                                  opt.allowed_hosts, opt.allowed_origins);
    if (refusal) send_error(resp, 403, nullptr, code::invalid_request, *refusal);
    return !refusal;
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
    if (doc.is_array()) return batch(req, resp, std::move(doc), subject);
    std::unique_ptr<Incoming> parsed;
    json id = reply_id(doc);
    try {
      parsed = std::make_unique<Incoming>(std::move(doc));
    } catch (const ProtocolError &e) {
      return send_error(resp, 400, id, e.code(), e.what());
    }
    const Incoming &in = *parsed;

    const std::string session_id = req.get("Mcp-Session-Id", "");
    const std::string version_header = req.get("MCP-Protocol-Version", "");
    Exchange ex;
    ex.subject = subject;
    ex.transport = "http";

    if (!session_id.empty()) {
      auto s = sessions.find(session_id);
      if (!s) {
        return send_error(resp, 404, nullptr, code::invalid_request,
                          "Not Found: unknown or ended session; start a new one with initialize");
      }
      if (!version_header.empty() && !is_legacy_version(version_header)) {
        return send_error(resp, 400, in.reply_id(), code::invalid_request,
                          "Bad Request: unsupported MCP-Protocol-Version '" + version_header + "'",
                          {{"supported", supported_versions()}});
      }
      s->touch();
      ex.session = s;
      ex.peer = s.get();
      if (in.kind() == Message::Kind::response) {
        server.handle_response(in, *s);
        return accepted(resp);
      }
      if (in.kind() == Message::Kind::notification) {
        server.handle_notification(in, ex);
        return accepted(resp);
      }
      if (in.method() == "initialize") {
        return send_error(resp, 400, in.id(), code::invalid_request,
                          "Bad Request: this session is already initialized");
      }
      return run(in, ex, resp, s->new_stream(), s->protocol_version == "2025-11-25");
    }

    // The body's declared revision, before judging whether it is supported:
    // a header that disagrees with it is a mismatch whatever either says.
    const std::string &body_version = in.declared_version();
    if (!body_version.empty() && !version_header.empty() && body_version != version_header) {
      return send_error(resp, 400, in.reply_id(), code::header_mismatch,
                        "Header mismatch: MCP-Protocol-Version header '" + version_header +
                            "' does not match body value '" + body_version + "'");
    }
    const bool modern_markers = !body_version.empty() || is_modern_version(version_header);

    if (in.kind() == Message::Kind::request && in.method() == "initialize" && !modern_markers) {
      auto s = sessions.create();
      if (!s) {
        return send_error(resp, 503, in.id(), code::internal_error,
                          "Service Unavailable: too many sessions; retry later");
      }
      ex.session = s;
      ex.peer = s.get();
      resp.set("Mcp-Session-Id", s->id());
      auto reply = server.handle_request(in, ex);
      if (!reply || reply->error) sessions.end(s->id());
      if (!reply) return accepted(resp);
      return send_text(resp, reply->error ? http_status(*reply->error) : 200, reply->text);
    }

    // Stateless (2026-07-28), or a legacy message without its session.
    const ModernMeta *meta = nullptr;
    try {
      if (in.meta()) meta = &*in.meta();
    } catch (const ProtocolError &e) {
      return send_error(resp, in.reply_id(), e);
    }
    if (!meta && !modern_markers) {
      return send_error(
          resp, 400, in.reply_id(), code::invalid_request,
          "Bad Request: Mcp-Session-Id header is required; start a session with initialize, "
          "or send per-request _meta (revision 2026-07-28)");
    }
    if (in.kind() != Message::Kind::request) return accepted(resp);
    if (!meta && legacy_only_method(in.method())) {
      return send_error(resp, 404, in.id(), code::method_not_found,
                        "Method not found: " + in.method() + " is not part of revision " +
                            std::string(kModernVersion));
    }
    if (meta) {
      if (auto mismatch = header_mismatch(
              [&req](const char *name) -> std::optional<std::string> {
                if (!req.has(name)) return std::nullopt;
                return req.get(name);
              },
              in, *meta)) {
        return send_error(resp, 400, in.id(), code::header_mismatch, *mismatch);
      }
    }
    if (meta && in.method() == "subscriptions/listen") return listen(in, resp);
    run(in, ex, resp, nullptr, false);
  }

  // A JSON-RPC batch in a session of revision 2024-11-05 or 2025-03-26: its
  // messages are handled in order and the responses to its requests come
  // back as one JSON array (202 when it held no request). Requests in a
  // batch cannot ask the client anything or stream progress.
  void batch(HTTPServerRequest &req, HTTPServerResponse &resp, json doc,
             const std::string &subject) {
    const std::string session_id = req.get("Mcp-Session-Id", "");
    auto s = session_id.empty() ? nullptr : sessions.find(session_id);
    if (!s || !s->negotiated.load() || !revision(s->protocol_version).batches) {
      std::string why =
          !s ? "a batch belongs to an initialized session (Mcp-Session-Id)"
             : "this session speaks " + s->protocol_version + ", which has no JSON-RPC batches";
      return send_error(resp, 400, nullptr, code::invalid_request,
                        "Bad Request: batches are part of revisions 2024-11-05 and 2025-03-26 "
                        "only; " +
                            why + ": send one message per request");
    }
    if (doc.empty())
      return send_error(resp, 400, nullptr, code::invalid_request, "Bad Request: an empty batch");
    s->touch();
    std::string replies = server.handle_batch(std::move(doc), [&] {
      Exchange ex;
      ex.subject = subject;
      ex.transport = "http";
      ex.session = s;
      ex.peer = s.get();
      return ex;
    });
    if (replies.empty()) return accepted(resp);
    send_text(resp, 200, replies);
  }

  // 2026-07-28: one long-lived response stream carrying the change
  // notifications the client opted in to (see Listener).
  void listen(const Incoming &in, HTTPServerResponse &resp) {
    std::shared_ptr<ListenStream> stream;
    try {
      stream = std::make_shared<ListenStream>(Listener(in.params(), in.id()));
    } catch (const ProtocolError &e) {
      return send_error(resp, in.id(), e);
    }
    std::ostream &os = open_event_stream(resp);
    stream->out = &os;
    stream->connection = http::HttpServer::current();
    if (!stream->write(stream->listener.acknowledgement())) return;
    {
      std::lock_guard lock(mutex);
      listeners.push_back(stream);
    }
    // The stream stays open without a worker until the client leaves or the
    // server stops.
    http::HttpServer::park(
        {[this, stream] {
           std::lock_guard lock(stream->mutex);
           return stream->out != nullptr && !stopping.load();
         },
         [stream] {
           std::lock_guard lock(stream->mutex);
           return stream->write_locked(": keep-alive\n\n");
         },
         [this, stream] {
           {
             std::lock_guard lock(stream->mutex);
             // A graceful end (server stopping): the response closes the stream.
             if (stopping.load())
               stream->write_locked("data: " + stream->listener.closing().dump() + "\n\n");
             stream->out = nullptr;
             stream->connection.reset();
           }
           std::lock_guard lock(mutex);
           listeners.erase(std::remove(listeners.begin(), listeners.end(), stream),
                           listeners.end());
         }});
  }

  void deliver(const json &message) {
    std::vector<std::shared_ptr<ListenStream>> all;
    {
      std::lock_guard lock(mutex);
      all = listeners;
    }
    for (auto &l : all)
      if (auto tagged = l->listener.select(message)) l->write(*tagged);
  }

  void run(const Incoming &in, Exchange &ex, HTTPServerResponse &resp,
           std::shared_ptr<SseStream> stream, bool priming) {
    LazyResponse out(resp, std::move(stream), priming);
    ex.out = &out;
    auto reply = server.handle_request(in, ex);
    if (!reply) return out.abandon();
    out.finish(reply->text, reply->error ? http_status(*reply->error) : 200);
  }

  void accepted(HTTPServerResponse &resp) {
    http::WriteDeadline deadline(http::HttpServer::current());
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
    auto s = sessions.find(session_id);
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
    if (!stream->attach(&os, http::HttpServer::current(), after)) return;
    // Held open without a worker until the stream ends, is taken over by a
    // newer connection, the session ends or the server stops.
    http::HttpServer::park({[this, stream, s, out = &os] {
                              return !stopping.load() && !s->closed.load() &&
                                     stream->carried_by(out);
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
    if (!sessions.find(session_id)) {
      return send_error(resp, 404, nullptr, code::invalid_request,
                        "Not Found: unknown or ended session");
    }
    sessions.end(session_id);
    resp.setStatusAndReason(HTTPResponse::HTTP_OK);
    resp.setContentLength(0);
    resp.send();
  }
};

HttpTransport::HttpTransport(McpServer &server, HttpOptions options, core::Scheduler &scheduler)
    : impl_(std::make_unique<Impl>(server, std::move(options), scheduler)) {}

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
  http::HttpLimits limits = i.opt.limits;
  limits.max_body_bytes = i.opt.max_body_bytes;
  i.http = std::make_unique<http::HttpServer>(
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
  i.sessions.expire_on(i.scheduler);
}

void HttpTransport::stop() {
  Impl &i = *impl_;
  if (!i.http || i.stopping.exchange(true)) return;
  i.server.remove_sink(i.sink);
  i.sessions.end_all();
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
  std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace);
  for (auto &s : impl_->sessions.all())
    if (s->subscriptions.wants(message)) s->standalone().publish(text, false);
  impl_->deliver(message);
}

}  // namespace pgmcp::mcp
