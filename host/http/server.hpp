// The HTTP/1.1 connection layer under the MCP transport.
//
// Connections wait in one event loop, not in worker threads: a request reaches
// a worker only once its head (and a small body) has arrived, so a slow or
// idle client costs a file descriptor, not a thread. Event streams that stay
// open (a session's GET stream, subscriptions/listen) are parked the same way
// once their headers are sent. Every read and write has a deadline; when the
// server is full it answers 503 with Retry-After instead of letting requests
// wait unseen.
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "observability/metrics.hpp"

namespace pgmcp::http {

struct HttpLimits {
  int max_threads = 128;                                // workers running requests
  std::size_t max_connections = 2048;                   // open connections in all
  std::size_t max_connections_per_client = 1024;        // per peer address
  std::size_t max_queued = 256;                         // complete requests waiting for a worker
  std::chrono::milliseconds header_timeout{10000};      // a request's head must arrive within this
  std::chrono::milliseconds body_timeout{30000};        // and its body within this after the head
  std::chrono::milliseconds idle_timeout{60000};        // a kept-alive connection with no request
  std::chrono::milliseconds write_timeout{30000};       // one response (or one event) to be taken
  std::chrono::milliseconds keepalive_interval{15000};  // comments on parked event streams
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  observability::Metrics *metrics = nullptr;  // counts refusals and cuts; may be null
};

// One client connection; opaque outside the server.
class HttpConnection;

// A response that outlives its handler: after the handler returns, the
// connection stays open without a worker until `alive` turns false or the
// peer goes away. `keepalive` is called every keepalive_interval and returns
// false when the peer is gone; `end` is called once, last, before the
// response is finished and the connection closed.
struct ParkedStream {
  std::function<bool()> alive;
  std::function<bool()> keepalive;
  std::function<void()> end;
};

// While alive, a write to the connection must finish by write_timeout, or
// the connection is shut down (the write then fails) and counted.
class WriteDeadline {
 public:
  explicit WriteDeadline(const std::shared_ptr<HttpConnection> &connection);
  ~WriteDeadline();
  WriteDeadline(const WriteDeadline &) = delete;
  WriteDeadline &operator=(const WriteDeadline &) = delete;

 private:
  HttpConnection *connection_;
};

class HttpServer {
 public:
  using Handler =
      std::function<void(Poco::Net::HTTPServerRequest &, Poco::Net::HTTPServerResponse &)>;

  // `listener` is bound and listening; `tls` null serves plain HTTP.
  HttpServer(Poco::Net::ServerSocket listener, Poco::Net::Context::Ptr tls, HttpLimits limits,
             Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer &) = delete;
  HttpServer &operator=(const HttpServer &) = delete;

  void start();
  // Stops accepting, ends parked streams, shuts down connections still
  // running a request and joins every thread.
  void stop();

  // From a handler, on its worker thread: the connection it is answering.
  static std::shared_ptr<HttpConnection> current();
  // From a handler, on its worker thread, after sending a stream's headers.
  static void park(ParkedStream stream);

  struct Counts {
    std::size_t open = 0;     // connections
    std::size_t waiting = 0;  // for a request, in the event loop
    std::size_t working = 0;  // with a worker
    std::size_t parked = 0;   // event streams held without a worker
    std::size_t queued = 0;   // complete requests waiting for a worker
    int threads = 0;          // workers started
  };
  Counts counts() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgmcp::http
