/*
 * Capability "pgmcp.llm/1": a large language model that completes a
 * conversation. Providers: OpenAI-compatible endpoints, Anthropic, or the
 * connected MCP client's own model through pgmcp_host.client_sample.
 */
#ifndef PGMCP_LLM_H
#define PGMCP_LLM_H

#include "pgmcp/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PGMCP_LLM_V1 "pgmcp.llm/1"

typedef struct pgmcp_llm pgmcp_llm; /* a plugin's instance */

typedef int32_t pgmcp_llm_role;
enum { PGMCP_LLM_USER = 0, PGMCP_LLM_ASSISTANT = 1 };

typedef struct pgmcp_llm_message {
  uint32_t struct_size;
  pgmcp_llm_role role;
  const char *text; /* borrowed, UTF-8 */
} pgmcp_llm_message;

/* One completion request. Everything is borrowed for the duration of the call. */
struct pgmcp_llm_request {
  uint32_t struct_size;
  const char *system_prompt;         /* may be NULL */
  const pgmcp_llm_message *messages; /* the conversation, oldest first */
  size_t message_count;              /* at least 1 */
  size_t message_struct_size;        /* sizeof(pgmcp_llm_message) as the host built it */
  double temperature;                /* negative: the instance's configured default */
  uint32_t max_tokens;               /* 0: the instance's configured default */
  uint32_t timeout_ms;               /* 0: the instance's configured default */
  int32_t want_json;                 /* non-zero: the host asks for a JSON object back */
  /* The MCP request this completion serves: pass it to host->client_sample and
   * host->call_cancelled. May be NULL (no client, e.g. at start-up). */
  const pgmcp_call *call;
};

/* Where the plugin writes the answer. Owned by the host; borrowed for the call.
 * Thread rule: only from the thread running complete(), before it returns. */
struct pgmcp_llm_sink {
  uint32_t struct_size;
  void *ctx; /* pass to every function below */
  /* Appends UTF-8 text to the answer (may be called several times). data: borrowed. */
  void(PGMCP_CALL *append_text)(void *ctx, const char *data, size_t len);
  /* Token usage as the provider reported it. */
  void(PGMCP_CALL *set_usage)(void *ctx, uint64_t prompt_tokens, uint64_t completion_tokens);
  /* The model that actually answered. model: borrowed. */
  void(PGMCP_CALL *set_model)(void *ctx, const char *model);
  /* Why generation stopped ("stop", "length", ...). reason: borrowed. */
  void(PGMCP_CALL *set_stop_reason)(void *ctx, const char *reason);
};

typedef struct pgmcp_llm_v1 {
  uint32_t struct_size;

  /* Creates an instance from its config section (config: valid until destroy).
   * Must not contact the provider; validates keys, rejects unknown ones.
   * Thread rule: the host's main thread. */
  pgmcp_status(PGMCP_CALL *create)(const pgmcp_host *host, const pgmcp_config *config,
                                   pgmcp_llm **out, pgmcp_error *err);

  /* Destroys an instance; no complete() is running. Thread rule: main thread. */
  void(PGMCP_CALL *destroy)(pgmcp_llm *llm);

  /* Completes the conversation in req, writing the answer into out. Honours
   * req->timeout_ms and stops early when host->call_cancelled(req->call).
   * Failures: PGMCP_ERR_TIMEOUT, PGMCP_ERR_UNAVAILABLE (connection, 5xx),
   * PGMCP_ERR_RATE_LIMITED (429, with field "retry_after_ms"), PGMCP_ERR_REMOTE
   * (other 4xx, with field "http_status"), PGMCP_ERR_CANCELLED. A plugin does
   * not retry: the host owns retries and the circuit breaker.
   * Thread rule: any thread, concurrently, on one instance. */
  pgmcp_status(PGMCP_CALL *complete)(pgmcp_llm *llm, const pgmcp_llm_request *req,
                                     const pgmcp_llm_sink *out, pgmcp_error *err);
} pgmcp_llm_v1;

/* The ABI 1.0 layout of the table: every function in it is required (not
 * NULL). A host refuses a smaller table; fields appended by later minors are
 * optional and read only when struct_size covers them (see plugin.h). */
#define PGMCP_LLM_V1_MIN_SIZE (offsetof(pgmcp_llm_v1, complete) + sizeof(void *))

#ifdef __cplusplus
}
#endif

#endif /* PGMCP_LLM_H */
