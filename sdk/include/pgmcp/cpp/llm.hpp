// C++ base class for "pgmcp.llm/1" plugins.
#ifndef PGMCP_CPP_LLM_HPP
#define PGMCP_CPP_LLM_HPP

#include "pgmcp/cpp/plugin.hpp"
#include "pgmcp/llm.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace pgmcp::sdk {

// A read-only view of the host's request, safe against an older host's
// smaller structs.
class LlmRequest {
 public:
  explicit LlmRequest(const pgmcp_llm_request *r) : r_(r) {}
  const pgmcp_llm_request &raw() const { return *r_; }
  std::string_view system_prompt() const {
    return r_->system_prompt != nullptr ? r_->system_prompt : "";
  }
  std::size_t size() const { return r_->message_count; }
  pgmcp_llm_role role(std::size_t i) const { return message(i)->role; }
  std::string_view text(std::size_t i) const {
    const char *t = message(i)->text;
    return t != nullptr ? t : "";
  }
  double temperature() const { return r_->temperature; }
  std::uint32_t max_tokens() const { return r_->max_tokens; }
  std::uint32_t timeout_ms() const { return r_->timeout_ms; }
  bool want_json() const { return r_->want_json != 0; }
  const pgmcp_call *call() const { return r_->call; }
  bool cancelled() const {
    const pgmcp_host *h = Host::table();
    return h != nullptr && r_->call != nullptr && h->call_cancelled(r_->call) != 0;
  }

 private:
  const pgmcp_llm_message *message(std::size_t i) const {
    const char *base = reinterpret_cast<const char *>(r_->messages);
    return reinterpret_cast<const pgmcp_llm_message *>(base + i * r_->message_struct_size);
  }
  const pgmcp_llm_request *r_;
};

// What a completion produced.
struct Completion {
  std::string text;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::string model;
  std::string stop_reason;
};

// Implement this; the constructor takes a `const Config &`. complete() may be
// called concurrently; throw Error with the right status on failure.
class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  virtual Completion complete(const LlmRequest &request) = 0;
};

template <class T>
struct LanguageModelCapability {
  static constexpr const char *id = PGMCP_LLM_V1;

  static const void *table() {
    static const pgmcp_llm_v1 t = {sizeof(pgmcp_llm_v1), &create, &destroy, &complete};
    return &t;
  }

 private:
  static LanguageModel *self(pgmcp_llm *p) { return reinterpret_cast<LanguageModel *>(p); }

  static pgmcp_status PGMCP_CALL create(const pgmcp_host *host, const pgmcp_config *config,
                                        pgmcp_llm **out, pgmcp_error *err) noexcept {
    return guard(err, [&] {
      LanguageModel *instance = new T(Config(host, config));
      *out = reinterpret_cast<pgmcp_llm *>(instance);
    });
  }

  static void PGMCP_CALL destroy(pgmcp_llm *p) noexcept { delete self(p); }

  static pgmcp_status PGMCP_CALL complete(pgmcp_llm *p, const pgmcp_llm_request *req,
                                          const pgmcp_llm_sink *out, pgmcp_error *err) noexcept {
    return guard(err, [&] {
      Completion c = self(p)->complete(LlmRequest(req));
      out->append_text(out->ctx, c.text.data(), c.text.size());
      out->set_usage(out->ctx, c.prompt_tokens, c.completion_tokens);
      if (!c.model.empty()) out->set_model(out->ctx, c.model.c_str());
      if (!c.stop_reason.empty()) out->set_stop_reason(out->ctx, c.stop_reason.c_str());
    });
  }
};

}  // namespace pgmcp::sdk

#endif  // PGMCP_CPP_LLM_HPP
