/*
 * pg-mcp plugin ABI, version 1: the entry point, the plugin descriptor and the
 * host services table.
 *
 * The contract in brief (docs/plugins.md has the whole of it):
 *  - C only crosses this boundary. No C++ type, exception or allocator does.
 *  - A plugin exports exactly one symbol, pgmcp_plugin_entry (PGMCP_ENTRY_SYMBOL).
 *  - Every struct starts with struct_size and only ever grows at its end; a
 *    reader trusts a field only if it lies within struct_size. The host
 *    copies min(struct_size, its own sizeof) bytes of a plugin's descriptor
 *    and tables into zeroed ones: what an older plugin lacks reads as zero.
 *    Everything in a table's ABI 1.0 layout (PGMCP_*_V1_MIN_SIZE) is
 *    required; a field appended later is optional, and a function pointer
 *    among them is checked for NULL before it is called. A smaller table,
 *    or a required function left NULL, is refused when loading.
 *  - Capabilities are looked up by string id with a revision ("pgmcp.llm/1").
 *    A changed table gets a new id; the old one keeps being served.
 *  - Ownership is written on every pointer: "borrowed" means valid for the
 *    duration of the call only, unless stated otherwise.
 *  - Every function states its thread rule.
 */
#ifndef PGMCP_PLUGIN_H
#define PGMCP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version. A minor change only appends fields or capabilities; a major
 * change may break anything and the host refuses plugins of another major. */
#define PGMCP_ABI_MAJOR 1
#define PGMCP_ABI_MINOR 3

#if defined(_WIN32)
#define PGMCP_EXPORT __declspec(dllexport)
#define PGMCP_CALL __cdecl
#else
#define PGMCP_EXPORT __attribute__((visibility("default")))
#define PGMCP_CALL
#endif

/* Status codes returned by fallible functions. 0 is success; anything else is
 * a failure whose message was set through pgmcp_host.error_set. */
typedef int32_t pgmcp_status;
enum {
  PGMCP_OK = 0,
  PGMCP_ERR_INVALID_ARGUMENT = 1, /* a bad argument or request */
  PGMCP_ERR_CONFIG = 2,           /* the instance's configuration is wrong */
  PGMCP_ERR_UNAVAILABLE = 3,      /* a remote service cannot be reached */
  PGMCP_ERR_TIMEOUT = 4,          /* a deadline passed */
  PGMCP_ERR_CANCELLED = 5,        /* the caller asked to stop */
  PGMCP_ERR_RATE_LIMITED = 6,     /* not granted now; see retry-after */
  PGMCP_ERR_NOT_FOUND = 7,        /* a named thing does not exist */
  PGMCP_ERR_UNSUPPORTED = 8,      /* the operation is not offered */
  PGMCP_ERR_REMOTE = 9,           /* the remote service refused (SQL error, HTTP 4xx) */
  PGMCP_ERR_INTERNAL = 10         /* a bug or an unexpected failure */
};

/* Log levels for pgmcp_host.log. */
typedef int32_t pgmcp_log_level;
enum {
  PGMCP_LOG_TRACE = 0,
  PGMCP_LOG_DEBUG = 1,
  PGMCP_LOG_INFO = 2,
  PGMCP_LOG_WARNING = 3,
  PGMCP_LOG_ERROR = 4
};

/* Opaque host objects. */
typedef struct pgmcp_error pgmcp_error;   /* an error sink for one call */
typedef struct pgmcp_config pgmcp_config; /* one plugin instance's config section */
typedef struct pgmcp_call pgmcp_call;     /* the MCP request a call serves */

/* Defined in llm.h; declared here for pgmcp_host.client_sample. */
typedef struct pgmcp_llm_request pgmcp_llm_request;
typedef struct pgmcp_llm_sink pgmcp_llm_sink;

/*
 * Services the host offers a plugin. The host passes a pointer to this table to
 * init(); it stays valid until deinit() returns. Each plugin gets its own table
 * (the host uses it to know who is logging), so pass it back unchanged.
 * New services are appended at the end; check struct_size (or use
 * PGMCP_HAS_FIELD) before calling a service newer than PGMCP_ABI_MINOR 0.
 */
typedef struct pgmcp_host {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  const char *host_version; /* e.g. "0.1.0"; owned by the host, static */
  void *host_data;          /* the host's own; never touch */

  /* Writes one log line. message: borrowed, UTF-8, no trailing newline needed.
   * Thread rule: any thread, concurrently. Never write secrets. */
  void(PGMCP_CALL *log)(const struct pgmcp_host *host, pgmcp_log_level level, const char *message);

  /* Whether a message at this level would be written (skip costly formatting).
   * Thread rule: any thread, concurrently. */
  int32_t(PGMCP_CALL *log_enabled)(const struct pgmcp_host *host, pgmcp_log_level level);

  /* The value of `key` in this instance's config section, with ${VAR}
   * already expanded, or NULL when the key is absent. The returned string is
   * owned by the host and stays valid as long as the instance created with
   * this config exists. Keys are the part after the section name ("rate", not
   * "rate_limiter.default.rate"). Thread rule: any thread, concurrently. */
  const char *(PGMCP_CALL *config_get)(const pgmcp_config *config, const char *key);

  /* Calls visit(user, key, value) for every key of the section, in order, so
   * a plugin can reject keys it does not know. key and value: borrowed for
   * the visit. Thread rule: any thread, concurrently. */
  void(PGMCP_CALL *config_each)(const pgmcp_config *config,
                                void(PGMCP_CALL *visit)(void *user, const char *key,
                                                        const char *value),
                                void *user);

  /* The instance's name as the config spells it ("rate_limiter.default").
   * Owned by the host; valid as long as config_get's strings. */
  const char *(PGMCP_CALL *config_name)(const pgmcp_config *config);

  /* Records the message of the failure about to be returned. The host copies
   * message (borrowed); a later call replaces it. Say what failed, on which
   * input, and what to do. Never include secrets.
   * Thread rule: the thread running the call that received err. */
  void(PGMCP_CALL *error_set)(pgmcp_error *err, const char *message);

  /* Attaches a named detail to the failure, copied by the host. Known fields:
   * "sqlstate", "detail", "hint", "position" (1-based character in the SQL),
   * "retry_after_ms", "http_status". Unknown fields are kept and ignored.
   * Thread rule: as error_set. */
  void(PGMCP_CALL *error_set_field)(pgmcp_error *err, const char *field, const char *value);

  /* Asks the MCP client that sent `call` for a completion from its own model
   * (MCP sampling). Blocks until the client answers, the request is cancelled
   * or req->timeout_ms passes. Returns PGMCP_ERR_UNSUPPORTED when the client
   * did not declare the sampling capability. call: borrowed from the current
   * llm request (pgmcp_llm_request.call); req, out: borrowed for the call.
   * Thread rule: any thread, concurrently. */
  pgmcp_status(PGMCP_CALL *client_sample)(const pgmcp_call *call, const pgmcp_llm_request *req,
                                          const pgmcp_llm_sink *out, pgmcp_error *err);

  /* Non-zero once the MCP request behind `call` was cancelled by the client
   * or timed out. NULL call: always 0. Thread rule: any thread, concurrently. */
  int32_t(PGMCP_CALL *call_cancelled)(const pgmcp_call *call);

  /* Appended services go here. */
} pgmcp_host;

/*
 * What a plugin library describes itself as. Returned by the entry function
 * as a pointer to static, immutable data that lives as long as the library.
 */
typedef struct pgmcp_plugin {
  uint32_t struct_size;    /* sizeof(pgmcp_plugin) as the plugin was compiled */
  uint32_t abi_major;      /* PGMCP_ABI_MAJOR the plugin was compiled with */
  uint32_t abi_minor;      /* PGMCP_ABI_MINOR the plugin was compiled with */
  const char *id;          /* unique: [a-z0-9][a-z0-9_.-]*, at most 64 chars, e.g. "token-bucket" */
  const char *version;     /* the plugin's own version, e.g. "1.2.0" */
  const char *description; /* one line for humans */

  /* Called once, before anything else but get_capability. host: valid until
   * deinit() returns. On failure, set a message through host->error_set(err,
   * ...) and return non-zero: the host then refuses the library, calls no
   * deinit and unloads it. Thread rule: the host's main thread, once. */
  pgmcp_status(PGMCP_CALL *init)(const pgmcp_host *host, pgmcp_error *err);

  /* Called once, after every object the plugin created was destroyed.
   * Thread rule: the host's main thread, once. */
  void(PGMCP_CALL *deinit)(void);

  /* The function table for capability `id` ("pgmcp.ratelimit/1", ...) or NULL
   * if not offered. The table is static and immutable; it lives as long as the
   * library. Thread rule: any thread, concurrently; may be called before init. */
  const void *(PGMCP_CALL *get_capability)(const char *id);
} pgmcp_plugin;

/* The minimum descriptor a v1 host accepts: everything up to get_capability. */
#define PGMCP_PLUGIN_V1_SIZE (offsetof(pgmcp_plugin, get_capability) + sizeof(void *))

/*
 * The one symbol a plugin exports. host_abi_major: the ABI major the host
 * speaks. Return NULL if this library cannot serve that major. A function, not
 * data, because only function lookup is portable across loaders.
 * Thread rule: called once, on the host's main thread.
 */
#define PGMCP_ENTRY_SYMBOL "pgmcp_plugin_entry"
typedef const pgmcp_plugin *(PGMCP_CALL *pgmcp_plugin_entry_fn)(uint32_t host_abi_major);

/* Whether a struct read with size `size` contains `field`. */
#define PGMCP_HAS_FIELD(type, size, field) \
  ((size_t)(size) >= offsetof(type, field) + sizeof(((type *)0)->field))

#ifdef __cplusplus
}
#endif

#endif /* PGMCP_PLUGIN_H */
