#include "ops/server.hpp"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include "http/server.hpp"
#include "observability/metrics.hpp"

namespace pgmcp::ops {

struct ObservabilityServer::Impl {
  config::Endpoint listen;
  Probes probes;
  std::uint16_t port = 0;
  // The same connection layer as MCP: slow or idle clients on this port hold
  // no worker, so a stuck scraper cannot keep /ready from answering.
  std::unique_ptr<http::HttpServer> http;
};

namespace {

void handle(const Probes &probes, Poco::Net::HTTPServerRequest &req,
            Poco::Net::HTTPServerResponse &resp) {
  std::string path = req.getURI().substr(0, req.getURI().find('?'));
  std::string body;
  resp.set("Server", "pg-mcp");
  if (path == "/metrics") {
    if (probes.before_scrape) probes.before_scrape();
    if (probes.metrics) body = probes.metrics->text();
    resp.setContentType("text/plain; version=0.0.4");
  } else if (path == "/health") {
    body = R"({"status":"ok"})";
    resp.setContentType("application/json");
  } else if (path == "/ready") {
    json r = probes.readiness ? probes.readiness() : json{{"ready", true}};
    if (!r.value("ready", false))
      resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
    body = r.dump();
    resp.setContentType("application/json");
  } else {
    resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
    body = R"({"error":"not found: use /metrics, /health or /ready"})";
    resp.setContentType("application/json");
  }
  http::WriteDeadline deadline(http::HttpServer::current());
  resp.sendBuffer(body.data(), body.size());
}

}  // namespace

ObservabilityServer::ObservabilityServer(config::Endpoint listen, Probes probes)
    : impl_(std::make_unique<Impl>()) {
  impl_->listen = std::move(listen);
  impl_->probes = std::move(probes);
}

ObservabilityServer::~ObservabilityServer() { stop(); }

void ObservabilityServer::start() {
  Poco::Net::ServerSocket socket;
  try {
    // Not SO_REUSEPORT (Poco's default): a second instance must fail, not share.
    socket.bind(Poco::Net::SocketAddress(impl_->listen.host, impl_->listen.port), true, false);
    socket.listen(64);
  } catch (const Poco::Exception &e) {
    throw std::runtime_error("cannot listen on " + impl_->listen.text() +
                             " (observability.listen): " + e.displayText());
  }
  impl_->port = socket.address().port();
  http::HttpLimits limits;
  limits.max_threads = 4;
  limits.max_connections = 256;
  limits.max_connections_per_client = 128;
  limits.max_queued = 64;
  limits.header_timeout = std::chrono::seconds(5);
  limits.write_timeout = std::chrono::seconds(10);
  limits.max_body_bytes = 64 * 1024;
  const Probes *probes = &impl_->probes;
  impl_->http = std::make_unique<http::HttpServer>(
      socket, nullptr, limits,
      [probes](Poco::Net::HTTPServerRequest &req, Poco::Net::HTTPServerResponse &resp) {
        try {
          handle(*probes, req, resp);
        } catch (const std::exception &) {
          // the client went away mid-answer
        }
      });
  impl_->http->start();
}

void ObservabilityServer::stop() {
  if (!impl_->http) return;
  impl_->http->stop();
  impl_->http.reset();
}

std::string ObservabilityServer::url() const {
  config::Endpoint e = impl_->listen;
  if (impl_->port != 0) e.port = impl_->port;
  return "http://" + e.text();
}

}  // namespace pgmcp::ops
