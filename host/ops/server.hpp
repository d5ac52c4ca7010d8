// The operations endpoint ([observability] listen): /metrics (Prometheus text), /health (the
// process answers) and /ready (every database reachable, JSON per database).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/settings.hpp"
#include "core/json.hpp"
#include "observability/metrics.hpp"

namespace pgmcp::ops {

struct Probes {
  // What /metrics shows; null: an empty exposition.
  std::shared_ptr<observability::Metrics> metrics;
  // Refreshes gauges that are read at scrape time.
  std::function<void()> before_scrape;
  // {"ready": bool, "databases": {...}}
  std::function<json()> readiness;
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

}  // namespace pgmcp::ops
