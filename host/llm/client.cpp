#include "llm/client.hpp"

#include <algorithm>
#include <random>
#include <thread>

#include "log/log.hpp"

#include "pgmcp/llm.h"
#include "plugins/call.hpp"
#include "plugins/host_services.hpp"

namespace pgmcp::llm {

namespace {

bool sleep_unless_cancelled(std::chrono::milliseconds d, core::RequestContext *ctx) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (ctx != nullptr && ctx->cancelled()) return false;
    auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(20)));
  }
  return ctx == nullptr || !ctx->cancelled();
}

const char *status_label(pgmcp_status s) {
  switch (s) {
    case PGMCP_OK:
      return "ok";
    case PGMCP_ERR_TIMEOUT:
      return "timeout";
    case PGMCP_ERR_UNAVAILABLE:
      return "unavailable";
    case PGMCP_ERR_RATE_LIMITED:
      return "rate_limited";
    case PGMCP_ERR_CANCELLED:
      return "cancelled";
    default:
      return "error";
  }
}

bool retryable(pgmcp_status s) {
  return s == PGMCP_ERR_TIMEOUT || s == PGMCP_ERR_UNAVAILABLE || s == PGMCP_ERR_RATE_LIMITED;
}

struct Sink {
  Completion *out;
  static void PGMCP_CALL text(void *c, const char *data, size_t len) {
    static_cast<Sink *>(c)->out->text.append(data, len);
  }
  static void PGMCP_CALL usage(void *c, uint64_t p, uint64_t k) {
    static_cast<Sink *>(c)->out->prompt_tokens = p;
    static_cast<Sink *>(c)->out->completion_tokens = k;
  }
  static void PGMCP_CALL model(void *c, const char *m) {
    static_cast<Sink *>(c)->out->model = m != nullptr ? m : "";
  }
  static void PGMCP_CALL stop(void *c, const char *r) {
    static_cast<Sink *>(c)->out->stop_reason = r != nullptr ? r : "";
  }
};

thread_local std::mt19937_64 rng{std::random_device{}()};

}  // namespace

Client::Client(std::string name, std::shared_ptr<plugins::LlmInstance> instance,
               std::shared_ptr<plugins::RateLimiter> limiter, config::LlmOptions options,
               observability::Metrics *metrics)
    : name_(std::move(name)),
      instance_(std::move(instance)),
      limiter_(std::move(limiter)),
      options_(options),
      metrics_(metrics) {}

Completion Client::attempt(const Request &request, core::RequestContext *ctx, pgmcp_status &status,
                           std::string &error, long long &retry_after_ms) {
  std::vector<pgmcp_llm_message> messages;
  for (const auto &m : request.messages)
    messages.push_back({sizeof(pgmcp_llm_message),
                        m.assistant ? PGMCP_LLM_ASSISTANT : PGMCP_LLM_USER, m.text.c_str()});
  pgmcp_call call{ctx, nullptr};
  pgmcp_llm_request req{};
  req.struct_size = sizeof req;
  req.system_prompt = request.system.empty() ? nullptr : request.system.c_str();
  req.messages = messages.data();
  req.message_count = messages.size();
  req.message_struct_size = sizeof(pgmcp_llm_message);
  req.temperature = request.temperature;
  req.max_tokens = request.max_tokens;
  req.timeout_ms = request.timeout_ms;
  req.want_json = request.want_json ? 1 : 0;
  req.call = ctx != nullptr ? &call : nullptr;
  Completion c;
  Sink s{&c};
  pgmcp_llm_sink sink{sizeof(pgmcp_llm_sink), &s,           &Sink::text,
                      &Sink::usage,           &Sink::model, &Sink::stop};
  pgmcp_error err;
  status = instance_->table().complete(instance_->handle(), &req, &sink, &err);
  if (call.deferred) std::rethrow_exception(call.deferred);  // the plugin was told; not its failure
  error = err.message;
  std::string after = err.field("retry_after_ms");
  retry_after_ms = after.empty() ? -1 : std::atoll(after.c_str());
  return c;
}

Completion Client::complete(const Request &request, core::RequestContext *ctx) {
  auto count = [&](const char *status, double seconds) {
    if (metrics_ != nullptr) metrics_->llm_call(name_, status, seconds);
  };
  for (int n = 0;; ++n) {
    {
      std::lock_guard lock(mutex_);
      auto now = std::chrono::steady_clock::now();
      if (failures_ >= options_.breaker_failures && now < open_until_) {
        long long s =
            std::chrono::duration_cast<std::chrono::seconds>(open_until_ - now).count() + 1;
        count("circuit_open", 0);
        throw LlmError(PGMCP_ERR_UNAVAILABLE,
                       "LLM '" + name_ + "' failed " + std::to_string(failures_) +
                           " times in a row, so its circuit is open: failing fast for another " +
                           std::to_string(s) + " s (nothing was sent)");
      }
    }
    if (limiter_) {
      std::string key = "llm:" + name_;
      if (ctx != nullptr && !ctx->subject().empty()) key += "|" + ctx->subject();
      plugins::Admission a =
          limiter_->acquire(key, 1, std::chrono::milliseconds(options_.rate_limit_wait_ms));
      if (metrics_ != nullptr) metrics_->rate_limit(limiter_->name(), a.outcome());
      if (!a.error.empty())
        throw LlmError(PGMCP_ERR_INTERNAL,
                       "rate limiter '" + limiter_->name() + "' failed: " + a.error);
      if (!a.granted) {
        long long s = std::max<long long>(1, (a.retry_after.count() + 999999) / 1000000);
        count("rate_limited", 0);
        throw LlmError(PGMCP_ERR_RATE_LIMITED, "rate limited on LLM '" + name_ + "', retry after " +
                                                   std::to_string(s) + " s; nothing was sent");
      }
    }
    auto start = std::chrono::steady_clock::now();
    pgmcp_status st = PGMCP_OK;
    std::string error;
    long long retry_after_ms = -1;
    Completion c = attempt(request, ctx, st, error, retry_after_ms);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    count(status_label(st), seconds);
    if (st == PGMCP_OK) {
      if (metrics_ != nullptr) metrics_->llm_tokens(name_, c.prompt_tokens, c.completion_tokens);
      std::lock_guard lock(mutex_);
      failures_ = 0;
      return c;
    }
    if (retryable(st)) {
      std::lock_guard lock(mutex_);
      if (++failures_ >= options_.breaker_failures) {
        open_until_ =
            std::chrono::steady_clock::now() + std::chrono::seconds(options_.breaker_reset_s);
        if (failures_ == options_.breaker_failures)
          log::warning("llm", "LLM '" + name_ + "': circuit opened after " +
                                  std::to_string(failures_) + " failures in a row");
      }
    }
    std::string what = "LLM '" + name_ + "' failed: " + (error.empty() ? status_label(st) : error);
    bool cancelled = ctx != nullptr && ctx->cancelled();
    if (!retryable(st) || n >= options_.max_retries || cancelled) {
      if (retryable(st) && n > 0) what += " (after " + std::to_string(n + 1) + " tries)";
      throw LlmError(cancelled ? PGMCP_ERR_CANCELLED : st, what);
    }
    long long cap = std::min<long long>(
        options_.retry_max_ms, static_cast<long long>(options_.retry_base_ms) << std::min(n, 20));
    long long wait = std::uniform_int_distribution<long long>(0, std::max(0LL, cap))(rng);
    if (retry_after_ms >= 0) {
      if (retry_after_ms > options_.retry_max_ms)
        throw LlmError(st, what + "; the provider asks to retry after " +
                               std::to_string((retry_after_ms + 999) / 1000) +
                               " s, longer than retry_max_ms");
      wait = std::max(wait, retry_after_ms);
    }
    log::info("llm", what + "; retrying in " + std::to_string(wait) + " ms");
    if (!sleep_unless_cancelled(std::chrono::milliseconds(wait), ctx))
      throw LlmError(PGMCP_ERR_CANCELLED, "the request was cancelled while waiting to retry");
  }
}

}  // namespace pgmcp::llm
