// Long file: the pool, the run loop with its retries, and the collector that
// writes rows as they arrive share the state of one call.
#include "db/database.hpp"

#include <algorithm>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "db/values.hpp"
#include "log/log.hpp"
#include "observability/metrics.hpp"

namespace pgmcp::db {

std::string DbError::describe() const {
  std::string s = sqlstate.empty() ? what() : "ERROR " + sqlstate + ": " + what();
  if (!position.empty()) s += " (at character " + position + ")";
  // DETAIL and HINT are sentences already: no doubled full stop before the next
  auto add = [&s](const char *label, const std::string &text) {
    if (text.empty()) return;
    if (s.empty() || s.back() != '.') s += '.';
    s += std::string(" ") + label + ": " + text;
  };
  add("DETAIL", detail);
  add("HINT", hint);
  if (while_analysing) s += " (PostgreSQL refused it while analysing it; nothing was run)";
  return s;
}

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {

DbError from_driver(pgmcp_status status, const pgmcp_error &err, const std::string &fallback) {
  DbError e(status, err.message.empty() ? fallback : err.message);
  e.sqlstate = err.field("sqlstate");
  e.detail = err.field("detail");
  e.hint = err.field("hint");
  e.position = err.field("position");
  e.while_analysing = err.field("stage") == "analysis";
  return e;
}

// Collects rows into JSON, stopping at the row or byte limit.
struct Collector {
  QueryLimits limits;
  QueryResult *out;
  std::vector<ColumnType> types;
  const AdmittedStatement *admitted;  // its judge decides on the server's analysis
  Judgement judgement;
  bool judged;
  const RowVisitor *visit = nullptr;  // rows as text, not JSON
  long long columns_bytes = 0;
  // The statement itself stops at max_rows + 1 rows (a LIMIT in SQL): the
  // extra row is read and dropped rather than cancelled, which would cost
  // the connection.
  bool bounded = false;
  long long visited_bytes = 0;
  RowText row;

  static int32_t PGMCP_CALL on_analysis(void *ctx, const char *analysis, size_t len) noexcept {
    auto *self = static_cast<Collector *>(ctx);
    if (self->admitted == nullptr) return 1;  // nobody asked: refuse
    self->judged = true;
    try {
      self->judgement = self->admitted->judge(std::string_view(analysis, len));
    } catch (...) {
      self->judgement = Judgement::refuse;  // nothing escapes into the driver
    }
    if (self->judgement == Judgement::refuse) return 1;
    return self->admitted->analyze_only() ? 1 : 0;
  }

  // Called by the driver's C code: an exception must not cross back into it.
  // A failure stops the rows and is reported once the driver returns.
  std::string failure;
  template <class F>
  static int32_t guarded(void *ctx, F &&f) noexcept {
    auto *self = static_cast<Collector *>(ctx);
    try {
      return f(self);
    } catch (const std::exception &e) {
      if (self->failure.empty()) self->failure = e.what();
    } catch (...) {
      if (self->failure.empty()) self->failure = "unknown error";
    }
    return 1;
  }

  static int32_t PGMCP_CALL on_columns(void *ctx, const pgmcp_column *cols, size_t count,
                                       size_t size) noexcept {
    return guarded(ctx, [&](Collector *self) { return self->columns(cols, count, size); });
  }
  static int32_t PGMCP_CALL on_rows(void *ctx, const pgmcp_value *values,
                                    size_t row_count) noexcept {
    return guarded(ctx, [&](Collector *self) { return self->rows(values, row_count); });
  }
  static void PGMCP_CALL on_complete(void *ctx, const char *tag) noexcept {
    guarded(ctx, [&](Collector *self) {
      self->out->command_tag = tag != nullptr ? tag : "";
      return 0;
    });
  }

  int32_t columns(const pgmcp_column *cols, size_t count, size_t size) {
    const char *base = reinterpret_cast<const char *>(cols);
    for (size_t i = 0; i < count; ++i) {
      const auto *c = reinterpret_cast<const pgmcp_column *>(base + i * size);
      std::string type = c->type_name != nullptr ? c->type_name : "";
      types.push_back(classify_type(c->type_oid, type));
      out->columns.push_back({{"name", c->name != nullptr ? c->name : "?column?"},
                              {"type", type.empty() ? std::string("unknown") : type}});
    }
    columns_bytes = 2 * static_cast<long long>(out->columns.dump().size());
    return 0;
  }
  // Marks the result cut when it holds max_rows rows already.
  bool at_row_limit() {
    if (out->row_count < limits.max_rows) return false;
    if (!out->truncated) {
      out->truncated = true;
      out->truncated_by = "max_rows";
    }
    return true;
  }

  // Writes both renderings of each row (JSON and a table line); the whole
  // message must fit max_bytes, with room for what surrounds the rows.
  int32_t rows(const pgmcp_value *values, size_t row_count) {
    if (visit != nullptr) return visit_rows(values, row_count);
    std::string &json = out->rows_json;
    std::string &text = out->rows_text;
    size_t ncols = types.size();
    for (size_t r = 0; r < row_count; ++r) {
      if (at_row_limit()) {
        if (bounded) continue;
        return 1;
      }
      size_t mark = json.size(), text_mark = text.size();
      json += out->row_count == 0 ? "[" : ",[";
      bool fits = true;
      for (size_t c = 0; c < ncols && fits; ++c) {
        if (c > 0) {
          json += ',';
          text += "\\t";
        }
        const pgmcp_value &v = values[r * ncols + c];
        // A value's JSON and its cell are each at least as long as its text:
        // one that cannot fit is not copied at all.
        fits = used(2 * v.len) <= limits.max_bytes;
        if (!fits) break;
        if (v.is_null) {
          json += "null";
          text += "\\\\N";
        } else {
          std::string_view value(v.data, v.len);
          append_json(json, value, types[c]);
          append_cell(text, value, types[c]);
        }
      }
      json += ']';
      text += "\\n";
      if (!fits || used(0) > limits.max_bytes) {
        json.resize(mark);  // this row does not fit
        text.resize(text_mark);
        out->truncated = true;
        out->truncated_by = "max_result_bytes";
        return 1;
      }
      ++out->row_count;
    }
    return 0;
  }

  // The message's size with `more` bytes added to the rows: both renderings,
  // the columns (described twice: structured, and the table's header) and a
  // fixed allowance for the envelope and the other members.
  long long used(size_t more) const {
    return static_cast<long long>(out->rows_json.size() + out->rows_text.size() + more + 1) +
           columns_bytes + std::min(QueryResult::kEnvelope, limits.max_bytes / 4);
  }

  int32_t visit_rows(const pgmcp_value *values, size_t row_count) {
    size_t ncols = types.size();
    for (size_t r = 0; r < row_count; ++r) {
      if (at_row_limit()) return 1;
      row.assign(ncols, std::nullopt);
      for (size_t c = 0; c < ncols; ++c) {
        const pgmcp_value &v = values[r * ncols + c];
        visited_bytes += static_cast<long long>(v.len);
        if (!v.is_null) row[c] = std::string_view(v.data, v.len);
      }
      if (visited_bytes > limits.max_bytes) {
        out->truncated = true;
        out->truncated_by = "max_result_bytes";
        return 1;
      }
      (*visit)(row);
      ++out->row_count;
    }
    return 0;
  }
};

}  // namespace

// A pooled connection, returned on destruction.
class Database::Lease {
 public:
  Lease(Database &db, Target &target, pgmcp_connection *conn, bool fresh)
      : db_(db), target_(&target), conn_(conn), fresh_(fresh) {}
  Lease(Lease &&o) noexcept
      : db_(o.db_), target_(o.target_), conn_(o.conn_), fresh_(o.fresh_), reusable_(o.reusable_) {
    o.conn_ = nullptr;
  }
  ~Lease() {
    if (conn_ != nullptr) db_.release(*target_, conn_, reusable_);
  }
  pgmcp_connection *get() const { return conn_; }
  bool fresh() const { return fresh_; }
  void discard() { reusable_ = false; }

 private:
  Database &db_;
  Target *target_;
  pgmcp_connection *conn_;
  bool fresh_;
  bool reusable_ = true;
};

Database::Database(const config::InstanceSpec &spec,
                   std::shared_ptr<plugins::DatabaseInstance> driver,
                   std::shared_ptr<plugins::RateLimiter> limiter, observability::Metrics *metrics,
                   std::vector<std::shared_ptr<plugins::DatabaseInstance>> replicas)
    : name_(spec.name),
      description_(spec.description),
      options_(spec.database),
      limiter_(std::move(limiter)),
      metrics_(metrics) {
  before_ = {"BEGIN READ ONLY",
             "SET LOCAL statement_timeout = " + std::to_string(options_.statement_timeout_ms)};
  if (!options_.role.empty()) before_.push_back("SET LOCAL ROLE " + quote_ident(options_.role));
  if (!options_.search_path.empty())
    before_.push_back("SET LOCAL search_path = " + options_.search_path);
  before_write_ = before_;
  before_write_[0] = "BEGIN READ WRITE";
  before_admin_ = {before_write_[0], before_write_[1]};
  before_internal_ = before_;
  before_internal_.push_back("SET LOCAL jit = off");
  primary_.driver = std::move(driver);
  for (std::size_t i = 0; i < replicas.size(); ++i) {
    auto t = std::make_unique<Target>();
    t->driver = std::move(replicas[i]);
    t->index = static_cast<int>(i + 1);
    t->health.label = "replica " + std::to_string(i + 1);
    t->health.problem = "not checked yet";
    if (metrics_ != nullptr) metrics_->replica(name_, t->health.label, false, -1);
    replicas_.push_back(std::move(t));
  }
  if (!replicas_.empty()) watcher_ = std::thread([this] { watch_replicas(); });
}

Database::~Database() {
  {
    std::lock_guard lock(watch_mutex_);
    stop_watching_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  if (probe_thread_.joinable()) probe_thread_.join();
  std::lock_guard lock(mutex_);
  for (Target *t : [&] {
         std::vector<Target *> all{&primary_};
         for (auto &r : replicas_) all.push_back(r.get());
         return all;
       }()) {
    for (auto *c : t->idle) t->driver->table().disconnect(c);
    t->idle.clear();
  }
}

Database::Lease Database::acquire(Target *target) {
  Target &to = target != nullptr ? *target : primary_;
  const auto &t = to.driver->table();
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.acquire_timeout_ms);
  std::unique_lock lock(mutex_);
  for (;;) {
    while (!to.idle.empty()) {
      pgmcp_connection *c = to.idle.back();
      to.idle.pop_back();
      if (t.healthy(c) != 0) return Lease(*this, to, c, false);
      t.disconnect(c);
      --to.total;
    }
    if (to.total < options_.pool_max) break;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && to.idle.empty() &&
        to.total >= options_.pool_max) {
      throw DbError(PGMCP_ERR_UNAVAILABLE,
                    "all " + std::to_string(options_.pool_max) + " connections of database '" +
                        name_ + "'" + (to.index > 0 ? " (" + to.health.label + ")" : "") +
                        " are busy (waited " + std::to_string(options_.acquire_timeout_ms) +
                        " ms); retry, or raise pool_max");
    }
  }
  ++to.total;
  lock.unlock();
  pgmcp_error err;
  pgmcp_connection *c = nullptr;
  pgmcp_status st = t.connect(to.driver->handle(), &c, &err);
  if (st != PGMCP_OK || c == nullptr) {
    lock.lock();
    --to.total;
    cv_.notify_all();
    throw DbError(PGMCP_ERR_UNAVAILABLE,
                  "database '" + name_ + "'" + (to.index > 0 ? " (" + to.health.label + ")" : "") +
                      " is unavailable: " + (err.message.empty() ? "cannot connect" : err.message));
  }
  if (metrics_ != nullptr) metrics_->connection_opened(name_);
  return Lease(*this, to, c, true);
}

void Database::drop_idle(Target &target) {
  std::vector<pgmcp_connection *> idle;
  {
    std::lock_guard lock(mutex_);
    idle.swap(target.idle);
    target.total -= static_cast<int>(idle.size());
    cv_.notify_all();
  }
  for (auto *c : idle) target.driver->table().disconnect(c);
}

void Database::release(Target &target, pgmcp_connection *conn, bool reusable) {
  const auto &t = target.driver->table();
  bool keep = reusable && t.healthy(conn) != 0;
  if (!keep) t.disconnect(conn);
  std::lock_guard lock(mutex_);
  if (keep)
    target.idle.push_back(conn);
  else
    --target.total;
  cv_.notify_all();
}

void Database::admit(core::RequestContext *ctx) {
  if (!limiter_) return;
  std::string key = "database:" + name_;
  if (ctx != nullptr && !ctx->subject().empty()) key += "|" + ctx->subject();
  plugins::Admission a =
      limiter_->acquire(key, 1, std::chrono::milliseconds(options_.rate_limit_wait_ms));
  if (metrics_ != nullptr) metrics_->rate_limit(limiter_->name(), a.outcome());
  if (!a.error.empty())
    throw DbError(PGMCP_ERR_INTERNAL, "rate limiter '" + limiter_->name() + "' failed: " + a.error);
  if (!a.granted) {
    long long s = std::max<long long>(1, (a.retry_after.count() + 999999) / 1000000);
    throw DbError(PGMCP_ERR_RATE_LIMITED, "rate limited on database '" + name_ + "', retry after " +
                                              std::to_string(s) + " s; nothing was run");
  }
}

QueryResult Database::query(const AdmittedStatement &statement,
                            const std::vector<std::optional<std::string>> &params,
                            QueryLimits limits, core::RequestContext *ctx) {
  const std::string &sql = statement.client_sql();  // what the audit shows
  using observability::QueryStatus;
  auto start = std::chrono::steady_clock::now();
  std::string subject = ctx != nullptr ? ctx->subject() : "";
  auto record = [&](QueryStatus status, long long rows, const std::string &outcome) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (metrics_ != nullptr) metrics_->query(name_, status, seconds);
    log::audit({{"subject", subject},
                {"database", name_},
                {"statement", sql},
                {"duration_ms", std::round(seconds * 1e6) / 1e3},
                {"rows", rows},
                {"outcome", outcome}});
  };
  if (draining_)
    throw DbError(PGMCP_ERR_UNAVAILABLE,
                  "pg-mcp is shutting down: nothing was run; retry on another instance");
  try {
    admit(ctx);
  } catch (const DbError &e) {
    record(QueryStatus::rate_limited, 0, e.what());
    throw;
  }
  try {
    QueryResult r = run(statement.sql(), params, limits, ctx, statement.mode(), &statement);
    if (!statement.analyze_only())
      record(QueryStatus::ok, r.row_count,
             r.truncated ? "ok, truncated by " + r.truncated_by : "ok");
    return r;
  } catch (DbError &e) {
    // A position inside the row guard's text is one in the client's statement.
    if (statement.guard_offset() > 0 && !e.position.empty()) {
      long long p = std::atoll(e.position.c_str());
      if (p > static_cast<long long>(statement.guard_offset()))
        e.position = std::to_string(p - static_cast<long long>(statement.guard_offset()));
    }
    // A constraint violation quotes the row or the key it is about, with
    // columns the statement never read (PostgreSQL leaves out only those
    // the role may not read): where the policy blocks anything, it stays out.
    if (statement.mode().write && e.sqlstate.rfind("23", 0) == 0 && !e.detail.empty() &&
        (!options_.blocked_columns.empty() || !options_.blocked_tables.empty()))
      e.detail =
          "the values of the row or key are left out, since they may hold columns the "
          "policy blocks";
    QueryStatus st = e.status == PGMCP_ERR_TIMEOUT       ? QueryStatus::timeout
                     : e.status == PGMCP_ERR_CANCELLED   ? QueryStatus::cancelled
                     : e.status == PGMCP_ERR_UNAVAILABLE ? QueryStatus::unavailable
                                                         : QueryStatus::error;
    record(st, 0, e.describe());
    throw;
  }
}

// The host's own reads (catalog, privileges) go to the primary: the schema
// it describes is the one writes and every replica follow.
QueryResult Database::internal(const std::string &sql, QueryLimits limits) {
  RunMode mode;
  mode.internal = true;
  return run(sql, {}, limits, nullptr, mode, nullptr, &primary_);
}

QueryResult Database::internal(const std::string &sql, QueryLimits limits,
                               const RowVisitor &visit) {
  RunMode mode;
  mode.visit = &visit;
  mode.internal = true;
  return run(sql, {}, limits, nullptr, mode, nullptr, &primary_);
}

std::optional<std::string> Database::check() {
  try {
    run("SELECT 1", {}, {1, 1024}, nullptr, {}, nullptr, &primary_);
    return std::nullopt;
  } catch (const DbError &e) {
    return e.what();
  }
}

std::optional<std::string> Database::check(std::chrono::milliseconds within) {
  std::unique_lock lock(probe_mutex_);
  if (!probing_) {
    if (probe_thread_.joinable()) probe_thread_.join();  // the last one, finished
    probing_ = true;
    probe_thread_ = std::thread([this] {
      auto result = check();
      std::lock_guard done(probe_mutex_);
      probe_result_ = std::move(result);
      probing_ = false;
      probe_cv_.notify_all();
    });
  }
  if (!probe_cv_.wait_for(lock, within, [&] { return !probing_; }))
    return "database '" + name_ + "' did not answer within " + std::to_string(within.count()) +
           " ms";
  return probe_result_;
}

QueryResult Database::run(const std::string &sql,
                          const std::vector<std::optional<std::string>> &params, QueryLimits limits,
                          core::RequestContext *ctx, RunMode mode,
                          const AdmittedStatement *admitted, Target *pin) {
  std::vector<pgmcp_value> values;
  for (const auto &p : params)
    values.push_back({p ? p->data() : nullptr, p ? p->size() : 0, p ? 0 : 1});
  std::vector<const char *> before;
  for (const auto &s : mode.admin      ? before_admin_
                       : mode.write    ? before_write_
                       : mode.internal ? before_internal_
                                       : before_)
    before.push_back(s.c_str());
  static const char *const rollback[] = {"ROLLBACK"};
  static const char *const commit[] = {"COMMIT"};
  const char *const *after = mode.write ? commit : rollback;
  pgmcp_statement stmt{};
  stmt.struct_size = sizeof stmt;
  stmt.sql = sql.c_str();
  stmt.params = values.data();
  stmt.param_count = values.size();
  stmt.before = before.data();
  stmt.before_count = before.size();
  stmt.after = after;
  stmt.after_count = 1;
  stmt.chunk_rows = 256;
  stmt.analyze_sql = admitted != nullptr ? admitted->analysis_sql().c_str() : nullptr;

  for (int attempt = 0;; ++attempt) {
    Target *target = pin != nullptr ? pin : route(mode);
    Lease lease = [&] {
      try {
        return acquire(target);
      } catch (const DbError &e) {
        // a replica that cannot be reached: the read goes elsewhere
        if (pin != nullptr || target->index == 0 || e.status != PGMCP_ERR_UNAVAILABLE) throw;
        replica_failed(*target, e.what());
        target = route(mode);
        return acquire(target);
      }
    }();
    const auto &t = target->driver->table();
    if (target->index > 0 && pin == nullptr && metrics_ != nullptr)
      metrics_->replica_statement(name_, target->health.label);
    QueryResult result;
    result.rows_json = "[";
    Collector collector{limits, &result, {}, admitted, Judgement::run, false, mode.visit};
    collector.bounded = admitted != nullptr && admitted->bounded();
    pgmcp_row_sink sink{sizeof(pgmcp_row_sink),  &collector,
                        &Collector::on_columns,  &Collector::on_rows,
                        &Collector::on_complete, &Collector::on_analysis};
    // Cancellation reaches the running statement through the driver.
    struct Running {
      std::mutex m;
      pgmcp_connection *conn;
    };
    auto running = std::make_shared<Running>();
    running->conn = lease.get();
    auto driver = target->driver;
    if (ctx != nullptr) {
      ctx->on_cancel([running, driver] {
        std::lock_guard lock(running->m);
        pgmcp_error ignored;
        if (running->conn != nullptr) driver->table().cancel(running->conn, &ignored);
      });
    }
    auto start = std::chrono::steady_clock::now();
    pgmcp_error err;
    {
      std::lock_guard lock(mutex_);
      running_.emplace_back(target, lease.get());
    }
    pgmcp_status st = t.execute(lease.get(), &stmt, &sink, &err);
    {
      std::lock_guard lock(mutex_);
      running_.erase(std::find(running_.begin(), running_.end(),
                               std::pair<Target *, pgmcp_connection *>{target, lease.get()}));
      if (running_.empty()) idle_cv_.notify_all();
    }
    if (mode.discard || collector.judgement == Judgement::run_and_discard) lease.discard();
    {
      std::lock_guard lock(running->m);
      running->conn = nullptr;
    }
    result.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!collector.failure.empty()) {
      lease.discard();  // the driver stopped mid-result
      throw DbError(PGMCP_ERR_INTERNAL,
                    "database '" + name_ + "': reading the result failed: " + collector.failure);
    }
    if (st == PGMCP_OK) {
      result.rows_json += ']';
      return result;
    }
    // The row guard stopped a row larger than the byte budget in PostgreSQL:
    // the rows before it are the result, cut where the limit cut it.
    if (admitted != nullptr && admitted->guard_offset() > 0 && st == PGMCP_ERR_REMOTE &&
        err.field("sqlstate") == "22P02" &&
        err.message.find(kRowGuardMarker) != std::string::npos) {
      result.rows_json += ']';
      result.truncated = true;
      result.truncated_by = "max_result_bytes";
      return result;
    }
    if (collector.judged && collector.judgement == Judgement::refuse) throw Refused();
    if (collector.judged && admitted->analyze_only() && st == PGMCP_ERR_CANCELLED) {
      result.rows_json = "[]";
      return result;  // judged and passed; nothing was meant to run
    }
    if (st == PGMCP_ERR_UNAVAILABLE) {
      lease.discard();
      // A replica that went away: reads are rolled back, so the statement
      // runs again where route() sends it now (another replica, or the primary).
      if (target->index > 0 && pin == nullptr && attempt <= static_cast<int>(replicas_.size())) {
        replica_failed(*target, err.message);
        continue;
      }
      // A pooled connection may have died with a server restart: a read-only
      // statement was rolled back, so trying once more on a new connection is
      // safe. A write may have committed: it is never retried.
      // The other idle connections most likely died with it (they are
      // closed, so the retry opens a new one rather than trying each).
      if (attempt == 0 && !lease.fresh() && !mode.write) {
        log::info("db", "database '" + name_ +
                            "': a pooled connection was lost; closed the idle ones and retrying "
                            "on a new one");
        drop_idle(*target);
        continue;
      }
      throw DbError(PGMCP_ERR_UNAVAILABLE,
                    "database '" + name_ + "' is unavailable: " + err.message);
    }
    if (st == PGMCP_ERR_CANCELLED && draining_)
      throw DbError(st,
                    "pg-mcp is shutting down: the statement was cancelled in PostgreSQL and "
                    "nothing of it was kept; retry on another instance");
    if (st == PGMCP_ERR_TIMEOUT) {
      throw DbError(st, "the statement ran longer than statement_timeout_ms = " +
                            std::to_string(options_.statement_timeout_ms) + " and was stopped");
    }
    throw from_driver(st, err, "the statement failed");
  }
}

void Database::administer(const std::string &sql) {
  run(sql, {}, {1, 1 << 20}, nullptr, RunMode{true, true, true});
}

void Database::describe(const std::function<void(const pgmcp_schema_object &)> &fn) {
  Lease lease = acquire(&primary_);
  struct Ctx {
    const std::function<void(const pgmcp_schema_object &)> *fn;
  } c{&fn};
  pgmcp_schema_sink sink{sizeof(pgmcp_schema_sink), &c,
                         [](void *ctx, const pgmcp_schema_object *o) -> int32_t {
                           (*static_cast<Ctx *>(ctx)->fn)(*o);
                           return 0;
                         }};
  pgmcp_error err;
  pgmcp_status st = primary_.driver->table().describe_schema(lease.get(), &sink, &err);
  if (st == PGMCP_ERR_UNAVAILABLE) lease.discard();
  if (st != PGMCP_OK) throw from_driver(st, err, "describing the schema failed");
}

std::optional<std::string> Database::warm_up() {
  try {
    std::vector<Lease> leases;
    for (int i = 0; i < options_.pool_min; ++i) leases.push_back(acquire(&primary_));
    if (leases.empty()) leases.push_back(acquire(&primary_));  // at least check that it answers
    return std::nullopt;
  } catch (const DbError &e) {
    return e.what();
  }
}

void Database::begin_drain() { draining_ = true; }

void Database::cancel_running() {
  std::lock_guard lock(mutex_);  // a connection leaves running_ only under it
  for (auto [target, c] : running_) {
    pgmcp_error ignored;
    target->driver->table().cancel(c, &ignored);
  }
}

int Database::running() {
  std::lock_guard lock(mutex_);
  return static_cast<int>(running_.size());
}

bool Database::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return idle_cv_.wait_until(lock, deadline, [&] { return running_.empty(); });
}

PoolStats Database::stats() {
  std::lock_guard lock(mutex_);
  return {static_cast<int>(primary_.idle.size()), primary_.busy(), options_.pool_max};
}

}  // namespace pgmcp::db
