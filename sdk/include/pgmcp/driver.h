/*
 * Capability "pgmcp.driver/1": a database driver. The host pools connections,
 * decides what may run and wraps statements (read-only transaction, timeouts);
 * the driver talks to the server.
 */
#ifndef PGMCP_DRIVER_H
#define PGMCP_DRIVER_H

#include "pgmcp/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PGMCP_DRIVER_V1 "pgmcp.driver/1"

typedef struct pgmcp_database pgmcp_database; /* an instance: one configured database */
typedef struct pgmcp_connection pgmcp_connection;

/* One value in the server's text format. data: borrowed; not NUL-terminated
 * necessarily; ignore when is_null. Frozen at this layout: arrays of it carry
 * no element size, so it never grows; a value that needs more would come with
 * a new capability id. */
typedef struct pgmcp_value {
  const char *data;
  size_t len;
  int32_t is_null;
} pgmcp_value;

typedef struct pgmcp_column {
  uint32_t struct_size;
  const char *name;  /* borrowed */
  uint32_t type_oid; /* the server's type id (PostgreSQL OID), 0 if none */
  /* The type as people write it, borrowed: the PostgreSQL driver gives
   * format_type's name with the column's modifier ("integer", "text[]",
   * "character varying(20)", "crm.tier"). Hosts also read internal names
   * ("int4", "_text"), which earlier drivers gave. */
  const char *type_name;
} pgmcp_column;

/* One statement to run, with what goes around it. Everything borrowed. */
typedef struct pgmcp_statement {
  uint32_t struct_size;
  const char *sql;           /* exactly one statement; sent through the extended protocol */
  const pgmcp_value *params; /* $1..$n in text format; the server infers types */
  size_t param_count;
  /* Parameterless statements run first, in order (e.g. "BEGIN READ ONLY",
   * "SET LOCAL statement_timeout = 30000"); if one fails, sql does not run. */
  const char *const *before;
  size_t before_count;
  /* Parameterless statements run last, in order, whether or not sql succeeded
   * (e.g. "ROLLBACK"). A driver sends before, sql and after in as few round
   * trips as the server allows (PostgreSQL: one, in pipeline mode). */
  const char *const *after;
  size_t after_count;
  uint32_t chunk_rows; /* rows per sink->rows call; 0: the driver's default */

  /* Since ABI 1.1 (read only when struct_size covers it). When not NULL, the
   * driver has the server parse and analyse this text after `before`, without
   * running it, and hands the server's own analysis to sink->analyzed; sql
   * runs only when analyzed() returns 0, otherwise the driver runs `after` and
   * returns PGMCP_ERR_CANCELLED. Usually the same text as sql (then it is
   * parsed once); for EXPLAIN, the statement being explained. A syntax or
   * name error found while analysing is returned like an error of sql. */
  const char *analyze_sql;
} pgmcp_statement;

/* Where rows go. Owned by the host, borrowed for execute(). Thread rule: only
 * from the thread running execute(). */
typedef struct pgmcp_row_sink {
  uint32_t struct_size;
  void *ctx;
  /* Once, before any row. cols: borrowed for the call. Return 0 to go on,
   * non-zero to stop (the driver then stops fetching and discards the rest). */
  int32_t(PGMCP_CALL *columns)(void *ctx, const pgmcp_column *cols, size_t count,
                               size_t column_struct_size);
  /* For each chunk: row_count rows of `count` values each, row-major. values:
   * borrowed for the call. Return 0 to go on, non-zero to stop fetching. */
  int32_t(PGMCP_CALL *rows)(void *ctx, const pgmcp_value *values, size_t row_count);
  /* Once, when sql completed: the command tag ("SELECT 3"); borrowed. */
  void(PGMCP_CALL *complete)(void *ctx, const char *command_tag);

  /* Since ABI 1.1 (call only when struct_size covers it and it is not NULL).
   * Once, when pgmcp_statement.analyze_sql was given: the server's analysis
   * of it (PostgreSQL: the rewritten query tree in the server's node text, as
   * debug_print_rewritten prints it). analysis: borrowed for the call, len
   * bytes, NUL-terminated. Return 0 to run sql, non-zero to refuse it. */
  int32_t(PGMCP_CALL *analyzed)(void *ctx, const char *analysis, size_t len);
} pgmcp_row_sink;

typedef int32_t pgmcp_object_kind;
enum {
  PGMCP_OBJECT_SCHEMA = 0,
  PGMCP_OBJECT_TABLE = 1,
  PGMCP_OBJECT_VIEW = 2,
  PGMCP_OBJECT_MATERIALIZED_VIEW = 3,
  PGMCP_OBJECT_FOREIGN_TABLE = 4,
  PGMCP_OBJECT_COLUMN = 5,
  PGMCP_OBJECT_INDEX = 6,
  PGMCP_OBJECT_SEQUENCE = 7,
  PGMCP_OBJECT_FUNCTION = 8,
  PGMCP_OBJECT_ENUM = 9,
  PGMCP_OBJECT_CONSTRAINT = 10
};

/* One catalog object. Fields a kind does not use are NULL, 0 or -1. All
 * strings borrowed for the sink call. */
typedef struct pgmcp_schema_object {
  uint32_t struct_size;
  pgmcp_object_kind kind;
  const char *schema;
  const char *name;
  const char *table;      /* COLUMN, INDEX, CONSTRAINT: the relation it belongs to (same schema) */
  const char *type;       /* COLUMN: formatted type; FUNCTION: result type;
                             CONSTRAINT: "primary_key", "foreign_key", "unique", "check", "exclusion" */
  const char *definition; /* COLUMN: default; INDEX, CONSTRAINT: definition; VIEW: query;
                             FUNCTION: argument list; ENUM: labels, comma-separated */
  const char *comment;
  int32_t position;           /* COLUMN: 1-based ordinal */
  int32_t not_null;           /* COLUMN: non-zero when NOT NULL; INDEX: the same as `unique`,
                                 which hosts before ABI 1.2 read here: set both */
  double estimated_rows;      /* TABLE-like: the planner's estimate, -1 when unknown */
  const char *const *columns; /* INDEX, CONSTRAINT: the columns, in order */
  size_t column_count;
  const char *ref_schema; /* foreign key: the referenced relation and columns */
  const char *ref_table;
  const char *const *ref_columns;
  size_t ref_column_count;
  /* Since ABI 1.2 (a host reads it only when struct_size covers it). INDEX:
   * non-zero when unique. */
  int32_t unique;
} pgmcp_schema_object;

typedef struct pgmcp_schema_sink {
  uint32_t struct_size;
  void *ctx;
  /* For each object, relations before their columns, indexes and constraints.
   * Return 0 to go on, non-zero to stop. Thread rule: the describing thread. */
  int32_t(PGMCP_CALL *object)(void *ctx, const pgmcp_schema_object *object);
} pgmcp_schema_sink;

typedef struct pgmcp_driver_v1 {
  uint32_t struct_size;

  /* Creates a database instance from its config section (config: valid until
   * destroy). Validates keys and rejects unknown ones; does not connect.
   * Thread rule: the host's main thread. */
  pgmcp_status(PGMCP_CALL *create)(const pgmcp_host *host, const pgmcp_config *config,
                                   pgmcp_database **out, pgmcp_error *err);

  /* Destroys an instance; every connection was closed first. Main thread. */
  void(PGMCP_CALL *destroy)(pgmcp_database *db);

  /* Opens a connection, read-only at the session level where the server can
   * (PostgreSQL: default_transaction_read_only=on in the startup packet) unless
   * the config makes it writable. Error messages never contain passwords.
   * Thread rule: any thread, concurrently, on one instance. */
  pgmcp_status(PGMCP_CALL *connect)(pgmcp_database *db, pgmcp_connection **out, pgmcp_error *err);

  /* Closes a connection. Thread rule: the thread that owns the connection. */
  void(PGMCP_CALL *disconnect)(pgmcp_connection *conn);

  /* Non-zero when the connection looks usable without a round trip.
   * Thread rule: the thread that owns the connection. */
  int32_t(PGMCP_CALL *healthy)(pgmcp_connection *conn);

  /* Runs one statement and streams its rows into sink. Before handing the
   * connection back, the driver checks that nothing of the call survives on
   * it (locks, settings, cursors, prepared statements, listeners, temporary
   * objects); a connection that is not clean reports unhealthy(). On a server error
   * returns PGMCP_ERR_REMOTE with fields "sqlstate", "detail", "hint",
   * "position"; on a cancel PGMCP_ERR_CANCELLED; on a lost connection
   * PGMCP_ERR_UNAVAILABLE (the host then discards the connection).
   * Thread rule: one execute at a time per connection; different connections
   * concurrently. */
  pgmcp_status(PGMCP_CALL *execute)(pgmcp_connection *conn, const pgmcp_statement *stmt,
                                    const pgmcp_row_sink *sink, pgmcp_error *err);

  /* Asks the server to stop the statement running on conn. Returns at once;
   * the running execute() then fails with PGMCP_ERR_CANCELLED.
   * Thread rule: any thread, while execute() runs on conn. */
  pgmcp_status(PGMCP_CALL *cancel)(pgmcp_connection *conn, pgmcp_error *err);

  /* Streams the user-visible catalog (not system schemas) into sink.
   * Thread rule: as execute. */
  pgmcp_status(PGMCP_CALL *describe_schema)(pgmcp_connection *conn, const pgmcp_schema_sink *sink,
                                            pgmcp_error *err);
} pgmcp_driver_v1;

/* The ABI 1.0 layout of the table: every function in it is required (not
 * NULL). A host refuses a smaller table; fields appended by later minors are
 * optional and read only when struct_size covers them (see plugin.h). */
#define PGMCP_DRIVER_V1_MIN_SIZE (offsetof(pgmcp_driver_v1, describe_schema) + sizeof(void *))

#ifdef __cplusplus
}
#endif

#endif /* PGMCP_DRIVER_H */
