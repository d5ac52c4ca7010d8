/*
 * Capability "pgmcp.ratelimit/1": a rate limiter that grants or refuses cost
 * units per key (the host keys by database or LLM instance and client subject).
 */
#ifndef PGMCP_RATELIMIT_H
#define PGMCP_RATELIMIT_H

#include "pgmcp/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PGMCP_RATELIMIT_V1 "pgmcp.ratelimit/1"

typedef struct pgmcp_ratelimiter pgmcp_ratelimiter; /* a plugin's instance */

/* What an acquire call reports besides its status. The host zeroes it and sets
 * struct_size; the plugin writes only fields within struct_size. */
typedef struct pgmcp_ratelimit_result {
  uint32_t struct_size;
  /* Granted: how long the call waited for the grant. */
  uint64_t waited_us;
  /* Refused (PGMCP_ERR_RATE_LIMITED): the earliest time from now at which the
   * same request could be granted, as far as the limiter knows; 0 if unknown. */
  uint64_t retry_after_us;
  /* Since ABI 1.3 (written only when struct_size covers it): PGMCP_RATELIMIT_*
   * bits saying how the decision was made. */
  uint32_t flags;
} pgmcp_ratelimit_result;

/* Granted without the limit being checked: the limiter's shared store could
 * not be reached and its configuration lets calls through meanwhile. The host
 * counts these (pg_mcp_rate_limiter_decisions_total{outcome="unenforced"}). */
#define PGMCP_RATELIMIT_UNENFORCED 1u

typedef struct pgmcp_ratelimit_v1 {
  uint32_t struct_size;

  /* Creates an instance from its config section (config: valid until destroy).
   * Validates every key and rejects unknown ones with PGMCP_ERR_CONFIG and a
   * message naming the key. *out: owned by the caller, freed with destroy.
   * Thread rule: the host's main thread. */
  pgmcp_status(PGMCP_CALL *create)(const pgmcp_host *host, const pgmcp_config *config,
                                   pgmcp_ratelimiter **out, pgmcp_error *err);

  /* Destroys an instance. No call on it may be running or start later.
   * Thread rule: the host's main thread. */
  void(PGMCP_CALL *destroy)(pgmcp_ratelimiter *limiter);

  /* Grants `cost` units for `key` now, or refuses at once with
   * PGMCP_ERR_RATE_LIMITED and result->retry_after_us. Never blocks on the
   * limit itself. key: borrowed, UTF-8. A cost the limiter could never grant
   * (above its burst) is PGMCP_ERR_INVALID_ARGUMENT.
   * Thread rule: any thread, concurrently, on one instance. */
  pgmcp_status(PGMCP_CALL *try_acquire)(pgmcp_ratelimiter *limiter, const char *key, uint32_t cost,
                                        pgmcp_ratelimit_result *result, pgmcp_error *err);

  /* Like try_acquire, but waits up to max_wait_ms for the grant. If the grant
   * cannot come within max_wait_ms it returns PGMCP_ERR_RATE_LIMITED at once,
   * without waiting and without consuming, and sets retry_after_us. On a grant
   * result->waited_us says how long it waited.
   * Thread rule: any thread, concurrently, on one instance. */
  pgmcp_status(PGMCP_CALL *acquire)(pgmcp_ratelimiter *limiter, const char *key, uint32_t cost,
                                    uint32_t max_wait_ms, pgmcp_ratelimit_result *result,
                                    pgmcp_error *err);
} pgmcp_ratelimit_v1;

/* The ABI 1.0 layout of the table: every function in it is required (not
 * NULL). A host refuses a smaller table; fields appended by later minors are
 * optional and read only when struct_size covers them (see plugin.h). */
#define PGMCP_RATELIMIT_V1_MIN_SIZE (offsetof(pgmcp_ratelimit_v1, acquire) + sizeof(void *))

#ifdef __cplusplus
}
#endif

#endif /* PGMCP_RATELIMIT_H */
