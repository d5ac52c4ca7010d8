#include "observability/server.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include "observability/metrics.hpp"

namespace pgmcp::observability {

struct ObservabilityServer::Impl {
  config::Endpoint listen;
  Probes probes;
  std::unique_ptr<Poco::Net::ServerSocket> socket;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> http;
};

namespace {

class Handler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(const Probes &p) : probes_(p) {}
  void handleRequest(Poco::Net::HTTPServerRequest &req,
                     Poco::Net::HTTPServerResponse &resp) override {
    std::string path = req.getURI().substr(0, req.getURI().find('?'));
    std::string body;
    if (path == "/metrics") {
      if (probes_.before_scrape) probes_.before_scrape();
      body = Metrics::instance().text();
      resp.setContentType("text/plain; version=0.0.4");
    } else if (path == "/health") {
      body = R"({"status":"ok"})";
      resp.setContentType("application/json");
    } else if (path == "/ready") {
      mcp::json r = probes_.readiness ? probes_.readiness() : mcp::json{{"ready", true}};
      if (!r.value("ready", false))
        resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
      body = r.dump();
      resp.setContentType("application/json");
    } else {
      resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
      body = R"({"error":"not found: use /metrics, /health or /ready"})";
      resp.setContentType("application/json");
    }
    resp.sendBuffer(body.data(), body.size());
  }

 private:
  const Probes &probes_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(const Probes &p) : probes_(p) {}
  Poco::Net::HTTPRequestHandler *createRequestHandler(
      const Poco::Net::HTTPServerRequest &) override {
    return new Handler(probes_);
  }

 private:
  const Probes &probes_;
};

}  // namespace

ObservabilityServer::ObservabilityServer(config::Endpoint listen, Probes probes)
    : impl_(std::make_unique<Impl>()) {
  impl_->listen = std::move(listen);
  impl_->probes = std::move(probes);
}

ObservabilityServer::~ObservabilityServer() { stop(); }

void ObservabilityServer::start() {
  try {
    // Not SO_REUSEPORT (Poco's default): a second instance must fail, not share.
    impl_->socket = std::make_unique<Poco::Net::ServerSocket>();
    impl_->socket->bind(Poco::Net::SocketAddress(impl_->listen.host, impl_->listen.port), true,
                        false);
    impl_->socket->listen(64);
  } catch (const Poco::Exception &e) {
    throw std::runtime_error("cannot listen on " + impl_->listen.text() +
                             " (observability.listen): " + e.displayText());
  }
  auto *params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(4);
  params->setKeepAlive(true);
  impl_->pool = std::make_unique<Poco::ThreadPool>(1, 4, 60);
  impl_->http = std::make_unique<Poco::Net::HTTPServer>(new Factory(impl_->probes), *impl_->pool,
                                                        *impl_->socket, params);
  impl_->http->start();
}

void ObservabilityServer::stop() {
  if (!impl_->http) return;
  impl_->http->stopAll(true);
  impl_->pool->joinAll();
  impl_->http.reset();
}

std::string ObservabilityServer::url() const {
  config::Endpoint e = impl_->listen;
  if (impl_->socket) e.port = impl_->socket->address().port();
  return "http://" + e.text();
}

}  // namespace pgmcp::observability
