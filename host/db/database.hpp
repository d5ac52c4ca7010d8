// One configured database: its driver instance, a pool of connections, and
// the rules every statement runs under (read-only transaction, timeouts,
// row and byte limits, rate limit).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/settings.hpp"
#include "core/context.hpp"
#include "observability/metrics.hpp"
#include "plugins/instances.hpp"

namespace pgmcp::sql {
class Gate;
}

namespace pgmcp::db {

// A failure to report to the model, with the server's details when it has them.
class DbError : public std::runtime_error {
 public:
  DbError(pgmcp_status code, const std::string &message)
      : std::runtime_error(message), status(code) {}
  pgmcp_status status;
  std::string sqlstate, detail, hint, position;
  bool while_analysing = false;  // refused by the server before anything ran
  // "ERROR 42703: column "x" does not exist (at character 8). HINT: ..."
  std::string describe() const;
};

struct QueryLimits {
  long long max_rows = 1000;
  // The whole answer that carries the rows: both renderings of them, and
  // room for what surrounds them (QueryResult::kEnvelope).
  long long max_bytes = 4 * 1024 * 1024;
};

struct QueryResult {
  json columns = json::array();  // [{name, type}]
  std::string rows_json = "[]";  // [[...], ...] as JSON text, written as rows arrive
  // The same rows as a tab-separated table, one line per row, escaped as the
  // inside of a JSON string (db/values.hpp append_cell); no header.
  std::string rows_text;
  // What a tool's answer may add around the rows and columns, counted
  // against max_bytes: the JSON-RPC envelope, the other members, the
  // table's first and last lines, the SQL of the query tool.
  static constexpr long long kEnvelope = 16 * 1024;
  long long row_count = 0;
  bool truncated = false;
  std::string truncated_by;  // "max_rows" or "max_result_bytes"
  double duration_ms = 0;
  std::string command_tag;
};

// One row as the driver hands it: each value's text, or nullopt for NULL.
// Borrowed for the call.
using RowText = std::vector<std::optional<std::string_view>>;
using RowVisitor = std::function<void(const RowText &row)>;

// How a statement the SQL policy passed must run.
struct RunMode {
  bool write = false;    // BEGIN READ WRITE ... COMMIT instead of READ ONLY ... ROLLBACK
  bool discard = false;  // close the connection afterwards: it may hold session state
  bool admin = false;    // as the login role: no SET LOCAL ROLE or search_path (with write)
  // When set, rows go to it as text instead of into the result as JSON (the
  // host's own catalog reads, which would only parse that JSON again).
  const RowVisitor *visit = nullptr;
  // The host's own catalog reads: no JIT (compiling a large catalog query
  // took 0.7 s, running it 0.1 s).
  bool internal = false;
};

// What the SQL policy makes of the server's analysis of a statement.
enum class Judgement { run, run_and_discard, refuse };

// A client's or a model's statement that the SQL policy's text stage passed,
// with the judge of the server's analysis that must pass it too. Only the
// policy's gate makes one, so a statement that was not checked cannot reach
// Database::query.
// What PostgreSQL's error says when the row guard stopped a row larger than
// the byte budget (see sql::bounded_sql).
inline constexpr const char *kRowGuardMarker = "pgmcp-row-over-limit:";

class AdmittedStatement {
 public:
  const std::string &sql() const { return sql_; }
  const RunMode &mode() const { return mode_; }
  // The text the server analyses (for EXPLAIN: the statement explained).
  const std::string &analysis_sql() const { return analysis_sql_; }
  bool analyze_only() const { return analyze_only_; }
  Judgement judge(std::string_view analysis) const { return judge_(analysis); }
  // The statement as the client sent it (sql() may wrap it in the row guard).
  const std::string &client_sql() const { return client_sql_.empty() ? sql_ : client_sql_; }
  // Where the client's statement begins in sql(): error positions are shifted
  // back by it. 0 when sql() is not a row guard.
  std::size_t guard_offset() const { return guard_offset_; }
  // sql() stops by itself one row past max_rows (a LIMIT around the
  // client's query): a result cut there needs no cancel.
  bool bounded() const { return bounded_; }

 private:
  friend class sql::Gate;
  AdmittedStatement(std::string sql, std::string analysis_sql, RunMode mode,
                    std::function<Judgement(std::string_view)> judge, bool analyze_only)
      : sql_(std::move(sql)),
        analysis_sql_(std::move(analysis_sql)),
        mode_(mode),
        judge_(std::move(judge)),
        analyze_only_(analyze_only) {}
  std::string sql_, analysis_sql_, client_sql_;
  std::size_t guard_offset_ = 0;
  bool bounded_ = false;
  RunMode mode_;
  std::function<Judgement(std::string_view)> judge_;
  bool analyze_only_;  // judge the analysis, run nothing
};

// Thrown by Database::query when the judge refused the server's analysis:
// nothing ran, nothing was counted.
class Refused : public std::runtime_error {
 public:
  Refused() : std::runtime_error("refused by the SQL policy") {}
};

struct PoolStats {
  int idle = 0;
  int busy = 0;
  int max = 0;
};

// What the health check last found of one read replica.
struct ReplicaHealth {
  std::string label;     // "replica 1": its place in `replicas`
  bool healthy = false;  // reads may go to it
  bool checked = false;  // false until the first check has answered
  double lag_ms = -1;    // replay lag; -1 while unknown
  std::string problem;   // why it gets no reads, when it does not
};

class Database {
 public:
  // metrics (may be null) counts statements and refusals.
  // replicas (may be empty): driver instances of [database.NAME] replicas,
  // in order; reads go to the healthy ones, everything else to driver.
  Database(const config::InstanceSpec &spec, std::shared_ptr<plugins::DatabaseInstance> driver,
           std::shared_ptr<plugins::RateLimiter> limiter, observability::Metrics *metrics = nullptr,
           std::vector<std::shared_ptr<plugins::DatabaseInstance>> replicas = {});
  ~Database();
  Database(const Database &) = delete;
  Database &operator=(const Database &) = delete;

  const std::string &name() const { return name_; }
  const std::string &description() const { return description_; }
  const config::DatabaseOptions &options() const { return options_; }
  observability::Metrics *metrics() const { return metrics_; }

  // Runs one admitted statement: the server analyses it first, the judge
  // decides, then it runs as its mode says (read-only unless a write was
  // admitted). Throws DbError, or Refused. ctx (may be null) brings
  // cancellation and the client's subject for the rate limit.
  QueryResult query(const AdmittedStatement &statement,
                    const std::vector<std::optional<std::string>> &params, QueryLimits limits,
                    core::RequestContext *ctx);

  // Runs the host's own read-only statement (catalog look-ups): no rate
  // limit, no audit line. Throws DbError.
  QueryResult internal(const std::string &sql, QueryLimits limits);
  // The same, handing each row's text to visit (max_bytes counts their
  // text). Returns the result without rows_json.
  QueryResult internal(const std::string &sql, QueryLimits limits, const RowVisitor &visit);

  // Runs an administrative statement in a read-write transaction as the
  // login role itself (no role, no search path): for `pg-mcp --grants
  // --apply`. Throws DbError.
  void administer(const std::string &sql);

  // Streams the catalog through fn. Throws DbError.
  void describe(const std::function<void(const pgmcp_schema_object &)> &fn);

  // Whether the database answers (SELECT 1, no rate limit); the error otherwise.
  std::optional<std::string> check();
  // The same, for probes: waits at most `within` (a server that does not
  // answer must not hang /ready). One check runs at a time; a probe that
  // finds one running waits for it. `within` 0 only starts one.
  std::optional<std::string> check(std::chrono::milliseconds within);

  // Opens the pool's minimum; returns the error instead of throwing.
  std::optional<std::string> warm_up();
  // The primary's pool.
  PoolStats stats();
  // Each replica's health, in config order (empty without replicas).
  std::vector<ReplicaHealth> replicas();

  // Shutting down: new statements are refused, and cancel_running() asks the
  // server to stop every statement running now (their callers get an error
  // saying so). running() counts them. Thread-safe.
  void begin_drain();
  void cancel_running();
  int running();
  // Waits until nothing runs, at most until deadline; true when nothing does.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);

 private:
  // One server's pool: the primary's, or a replica's. Guarded by mutex_.
  struct Target {
    std::shared_ptr<plugins::DatabaseInstance> driver;
    std::vector<pgmcp_connection *> idle;
    int total = 0;  // idle, lent out, or being opened
    int index = 0;  // 0: the primary; n: replica n
    int busy() const { return total - static_cast<int>(idle.size()); }
    ReplicaHealth health;
  };
  class Lease;
  std::mutex probe_mutex_;
  std::condition_variable probe_cv_;
  std::thread probe_thread_;
  bool probing_ = false;
  std::optional<std::string> probe_result_;
  // A connection to target, or to the server a read should go to when
  // target is null.
  Lease acquire(Target *target);
  Target *route(const RunMode &mode);
  void release(Target &target, pgmcp_connection *conn, bool reusable);
  // Closes the target's idle connections (one was found dead).
  void drop_idle(Target &target);
  void replica_failed(Target &target, const std::string &why);
  void watch_replicas();
  void check_replica(Target &target);
  void admit(core::RequestContext *ctx);
  QueryResult run(const std::string &sql, const std::vector<std::optional<std::string>> &params,
                  QueryLimits limits, core::RequestContext *ctx, RunMode mode = {},
                  const AdmittedStatement *admitted = nullptr, Target *pin = nullptr);

  std::string name_;
  std::string description_;
  config::DatabaseOptions options_;
  std::shared_ptr<plugins::RateLimiter> limiter_;
  observability::Metrics *metrics_;
  std::vector<std::string> before_, before_write_, before_admin_, before_internal_;
  std::mutex mutex_;
  std::condition_variable cv_;
  Target primary_;
  std::vector<std::unique_ptr<Target>> replicas_;
  unsigned next_replica_ = 0;  // round robin
  // executing now, for cancel_running()
  std::vector<std::pair<Target *, pgmcp_connection *>> running_;
  std::condition_variable idle_cv_;  // running_ became empty
  std::atomic<bool> draining_{false};
  // The replicas' health checks.
  std::thread watcher_;
  std::mutex watch_mutex_;
  std::condition_variable watch_cv_;
  bool stop_watching_ = false;
};

// Quotes an identifier for SQL ("Mixed Case" -> "\"Mixed Case\"").
std::string quote_ident(std::string_view name);

}  // namespace pgmcp::db
