// One configured LLM ([llm.NAME]) as the host uses it: the provider plugin
// behind retries with exponential backoff and full jitter, a circuit breaker,
// the instance's rate limiter, and metrics. Plugins never retry; this does.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "core/context.hpp"
#include "observability/metrics.hpp"
#include "plugins/instances.hpp"

namespace pgmcp::llm {

struct Message {
  bool assistant = false;
  std::string text;
};

struct Request {
  std::string system;
  std::vector<Message> messages;
  double temperature = -1;  // negative: the instance's default
  std::uint32_t max_tokens = 0;
  std::uint32_t timeout_ms = 0;
  bool want_json = false;
};

struct Completion {
  std::string text, model, stop_reason;
  std::uint64_t prompt_tokens = 0, completion_tokens = 0;
};

class LlmError : public std::runtime_error {
 public:
  LlmError(pgmcp_status s, const std::string &message) : std::runtime_error(message), status(s) {}
  pgmcp_status status;
};

class Client {
 public:
  // metrics (may be null) counts calls, latency and tokens.
  Client(std::string name, std::shared_ptr<plugins::LlmInstance> instance,
         std::shared_ptr<plugins::RateLimiter> limiter, config::LlmOptions options,
         observability::Metrics *metrics = nullptr);
  const std::string &name() const { return name_; }
  // Throws LlmError with a message that says what to do.
  Completion complete(const Request &request, core::RequestContext *ctx);

 private:
  Completion attempt(const Request &request, core::RequestContext *ctx, pgmcp_status &status,
                     std::string &error, long long &retry_after_ms);
  std::string name_;
  std::shared_ptr<plugins::LlmInstance> instance_;
  std::shared_ptr<plugins::RateLimiter> limiter_;
  config::LlmOptions options_;
  observability::Metrics *metrics_;
  std::mutex mutex_;  // the breaker
  int failures_ = 0;
  std::chrono::steady_clock::time_point open_until_{};
};

}  // namespace pgmcp::llm
