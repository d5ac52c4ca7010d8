// The "sampling" LLM plugin: no key, no endpoint. It asks the connected MCP
// client's own model (sampling/createMessage) through the host, which knows
// the request being served. The host uses it when no other LLM is configured.
//   [llm.NAME]
//   plugin = sampling
//   max_tokens = 1024
//   timeout_ms = 120000     ; how long the client (and its user) may take
//
// It passes the host's answer sink and error straight through, so it uses the
// C table rather than the C++ LanguageModel class.
#include "pgmcp/cpp/llm.hpp"

namespace {

struct Sampling {
  uint32_t max_tokens = 1024;
  uint32_t timeout_ms = 120000;
};

struct SamplingCapability {
  static constexpr const char *id = PGMCP_LLM_V1;

  static const void *table() {
    static const pgmcp_llm_v1 t = {sizeof(pgmcp_llm_v1), &create, &destroy, &complete};
    return &t;
  }

  static pgmcp_status PGMCP_CALL create(const pgmcp_host *host, const pgmcp_config *config,
                                        pgmcp_llm **out, pgmcp_error *err) noexcept {
    return pgmcp::sdk::guard(err, [&] {
      pgmcp::sdk::Config c(host, config);
      c.allow_only({"max_tokens", "timeout_ms"});
      auto *s = new Sampling;
      s->max_tokens = static_cast<uint32_t>(c.get_int("max_tokens", 1024, 1, 1000000));
      s->timeout_ms = static_cast<uint32_t>(c.get_int("timeout_ms", 120000, 100, 3600000));
      *out = reinterpret_cast<pgmcp_llm *>(s);
    });
  }

  static void PGMCP_CALL destroy(pgmcp_llm *p) noexcept { delete reinterpret_cast<Sampling *>(p); }

  static pgmcp_status PGMCP_CALL complete(pgmcp_llm *p, const pgmcp_llm_request *req,
                                          const pgmcp_llm_sink *out, pgmcp_error *err) noexcept {
    const auto *s = reinterpret_cast<const Sampling *>(p);
    const pgmcp_host *host = pgmcp::sdk::Host::table();
    pgmcp_llm_request copy = *req;
    if (copy.max_tokens == 0) copy.max_tokens = s->max_tokens;
    if (copy.timeout_ms == 0) copy.timeout_ms = s->timeout_ms;
    return host->client_sample(req->call, &copy, out, err);
  }
};

}  // namespace

PGMCP_PLUGIN("sampling", "0.1.0", "The connected MCP client's own model (sampling/createMessage)",
             SamplingCapability)
