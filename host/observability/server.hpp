// The [observability] listener: /metrics (Prometheus text), /health (the
// process answers) and /ready (every database reachable, JSON per database).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/settings.hpp"
#include "mcp/protocol.hpp"

namespace pgmcp::observability {

struct Probes {
  // Refreshes gauges that are read at scrape time.
  std::function<void()> before_scrape;
  // {"ready": bool, "databases": {...}}
  std::function<mcp::json()> readiness;
};

class ObservabilityServer {
 public:
  ObservabilityServer(config::Endpoint listen, Probes probes);
  ~ObservabilityServer();
  void start();  // throws std::runtime_error naming the address
  void stop();
  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgmcp::observability
