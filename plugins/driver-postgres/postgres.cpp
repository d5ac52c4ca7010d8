// Long file: one connection's whole exchange with the server (the pipeline, the
// analysis, kept statements, the cleanliness check, the catalog) in one place.
// The "postgres" driver plugin, on libpq.
//   [database.NAME]
//   plugin = postgres
//   dsn = ${SALES_DSN}        ; URI or key=value; sslmode and friends pass through
//   connect_timeout_s = 5
//   application_name = pg-mcp
//   pooler = none             ; transaction: behind PgBouncer (see below)
//   statement_cache = 16      ; analysed statements kept per connection (see Kept)
// The host adds statement_timeout_ms, which the connection carries as a
// backstop beside the per-statement SET LOCAL.
//
// Every connection opens read-only (default_transaction_read_only=on in the
// startup packet) and stays in pipeline mode: a statement and what surrounds
// it (BEGIN READ ONLY, SET LOCAL, ROLLBACK) go out in one round trip, each
// through the extended protocol, which refuses more than one statement; what
// surrounds it is prepared once per session (see prepare_wrappers).
//
// Settings that change how the server reads SQL text are forced in the
// startup packet and verified after connecting, so the host's parser and the
// server read the same statement. When the host asks for the server's
// analysis, the statement is parsed first (debug_print_rewritten shows the
// rewritten query tree as a LOG notice) and runs only if the host agrees.
// A statement the connection analysed before stays prepared: it is only
// described again, which shows a new tree whenever the server analyses it
// again.
// After every call a prepared check proves nothing of it stayed behind.
//
// Behind a pooler in transaction mode (`pooler = transaction`, PgBouncer's
// pool_mode = transaction), a session is not this connection's own: the
// startup packet carries no options, nothing is prepared beyond one call's
// transaction, every transaction first pins what the host's parser relies on
// (standard_conforming_strings, the role and search path the session started
// with, the timeouts), and the call runs under a savepoint: rolling back to
// it inside the same transaction, hence on the same server connection,
// deallocates the statement, and the cleanliness check compares the session
// after the call with the same session before it.
#include <libpq-fe.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalog.hpp"
#include "pgmcp/cpp/driver.hpp"
#include "types.hpp"

namespace {

using pgmcp::postgres::TypeKey;
using pgmcp::postgres::TypeNames;
using pgmcp::sdk::Config;
using pgmcp::sdk::Error;

constexpr uint32_t kDefaultChunkRows = 256;

// libpq messages end with a newline and may name the password-free DSN only.
std::string clean(const char *msg) {
  std::string s = msg != nullptr ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The message with every occurrence of secret (3 characters or more) redacted.
std::string hide(std::string message, const std::string &secret) {
  for (size_t f; secret.size() >= 3 && (f = message.find(secret)) != std::string::npos;)
    message.replace(f, secret.size(), "(redacted)");
  return message;
}

// libpq's connection-string errors quote the fragment they could not read,
// which may be a password ("invalid percent-encoded token: "s3cr%zz""). Quoted
// fragments other than connection keywords, and any password the string
// spells out, are redacted.
std::string redact(std::string message, const std::string &dsn) {
  static const std::vector<std::string> keywords = [] {
    std::vector<std::string> k;
    if (PQconninfoOption *d = PQconndefaults()) {
      for (PQconninfoOption *o = d; o->keyword != nullptr; ++o) k.emplace_back(o->keyword);
      PQconninfoFree(d);
    }
    return k;
  }();
  std::string out;
  for (size_t i = 0; i < message.size();) {
    size_t open = message.find('"', i);
    size_t close = open == std::string::npos ? open : message.find('"', open + 1);
    if (close == std::string::npos) {
      out += message.substr(i);
      break;
    }
    std::string inside = message.substr(open + 1, close - open - 1);
    bool keyword = std::find(keywords.begin(), keywords.end(), inside) != keywords.end() ||
                   inside == "=" || inside == "&";
    out += message.substr(i, open - i) + "\"" + (keyword ? inside : "(redacted)") + "\"";
    i = close + 1;
  }
  // password=... and scheme://user:password@ spelled out anywhere else
  for (const std::string &mark : {std::string("password="), std::string(":")}) {
    size_t at = mark == ":" ? dsn.find("://") : dsn.find(mark);
    if (at == std::string::npos) continue;
    size_t start, end;
    if (mark == ":") {
      size_t user = at + 3, colon = dsn.find(':', user), amp = dsn.find('@', user);
      if (colon == std::string::npos || amp == std::string::npos || colon > amp) continue;
      start = colon + 1;
      end = amp;
    } else {
      start = at + mark.size();
      end = dsn.find_first_of(" &", start);
      if (end == std::string::npos) end = dsn.size();
    }
    out = hide(std::move(out), dsn.substr(start, end - start));
  }
  return out;
}

struct Settings {
  std::vector<std::string> keys, values;  // for PQconnectdbParams
  bool pooled = false;                    // behind a transaction-mode pooler
  std::string where;                      // host:port/db for messages, no secrets
  long long statement_timeout_ms = 30000;
  std::size_t statement_cache = 16;  // analysed statements kept per connection
  std::string password;              // only to keep it out of messages
};

// How long past statement_timeout a server that does not answer at all is
// waited for: the server enforces statement_timeout itself, unless it is
// frozen or the network path is dead.
long long answer_deadline_ms(long long statement_timeout_ms) {
  return statement_timeout_ms + std::max<long long>(1000, statement_timeout_ms / 10);
}

long long idle_timeout_ms(long long statement_timeout_ms) {
  return std::max<long long>(statement_timeout_ms, 60000);
}

Settings read_settings(const Config &config) {
  config.allow_only({"dsn", "connect_timeout_s", "application_name", "statement_timeout_ms",
                     "pooler", "statement_cache"});
  std::string dsn = config.require("dsn");
  std::string pooler = config.get_or("pooler", "none");
  if (pooler != "none" && pooler != "transaction")
    throw config.fail("pooler", "is '" + pooler +
                                    "'; use none (a PostgreSQL server) or transaction (PgBouncer "
                                    "or another pooler in transaction or session mode)");
  long long timeout = config.get_int("connect_timeout_s", 5, 1, 300);
  std::string app = config.get_or("application_name", "pg-mcp");
  long long statement_timeout = config.get_int("statement_timeout_ms", 30000, 1, 86400000);
  long long statement_cache = config.get_int("statement_cache", 16, 0, 256);

  char *err = nullptr;
  PQconninfoOption *opts = PQconninfoParse(dsn.c_str(), &err);
  if (opts == nullptr) {
    std::string why = redact(clean(err), dsn);
    PQfreemem(err);
    throw config.fail("dsn", "is not a valid PostgreSQL connection string: " + why);
  }
  Settings s;
  std::string options, host, port, db;
  for (PQconninfoOption *o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string k = o->keyword;
    if (k == "options") {
      options = o->val;
      continue;
    }
    if (k == "host" || k == "hostaddr") host = host.empty() ? o->val : host;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
    if (k == "password") s.password = o->val;
    s.keys.push_back(k);
    s.values.push_back(o->val);
  }
  PQconninfoFree(opts);
  s.pooled = pooler == "transaction";
  // Read-only and bounded even before any statement says so. A pooler
  // refuses startup options (and would not keep them per client): there
  // every transaction sets them itself (PgConnection::guard_).
  if (!s.pooled)
    options += " -c default_transaction_read_only=on -c standard_conforming_strings=on" +
               std::string(" -c statement_timeout=") + std::to_string(statement_timeout) +
               " -c idle_in_transaction_session_timeout=" +
               std::to_string(idle_timeout_ms(statement_timeout));
  auto set = [&](const std::string &k, const std::string &v) {
    auto it = std::find(s.keys.begin(), s.keys.end(), k);
    if (it == s.keys.end()) {
      s.keys.push_back(k);
      s.values.push_back(v);
    } else {
      s.values[static_cast<size_t>(it - s.keys.begin())] = v;
    }
  };
  if (!options.empty()) set("options", options);
  set("connect_timeout", std::to_string(timeout));
  set("application_name", app);
  set("client_encoding", "UTF8");  // results are written into JSON as they arrive
  s.where = (host.empty() ? "localhost" : host) + ":" + (port.empty() ? "5432" : port) + "/" + db;
  s.statement_timeout_ms = statement_timeout;
  // Behind a pooler a prepared statement does not outlive the transaction.
  s.statement_cache = s.pooled ? 0 : static_cast<std::size_t>(statement_cache);
  return s;
}

// Attaches SQLSTATE, detail, hint and position of a server error.
Error server_error(const PGresult *r, const std::string &fallback) {
  const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  Error e(PGMCP_ERR_REMOTE, msg != nullptr ? msg : fallback);
  auto field = [&](int code, const char *name) {
    if (const char *v = PQresultErrorField(r, code)) e.with(name, v);
  };
  field(PG_DIAG_SQLSTATE, "sqlstate");
  field(PG_DIAG_MESSAGE_DETAIL, "detail");
  field(PG_DIAG_MESSAGE_HINT, "hint");
  field(PG_DIAG_STATEMENT_POSITION, "position");
  const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  // No SQLSTATE: libpq's own error, the connection lost mid-answer ("server
  // closed the connection unexpectedly") rather than the statement refused.
  if (state == nullptr && msg == nullptr) {
    std::string why = clean(PQresultErrorMessage(r));
    why = why.substr(0, why.find('\n'));  // libpq goes on about what it probably means
    return Error(PGMCP_ERR_UNAVAILABLE, fallback + ": " + (why.empty() ? "connection lost" : why));
  }
  // Connection exceptions (08xxx) and the server going away (57P01 admin
  // shutdown, 57P02 crash shutdown, 57P03 cannot connect now): the
  // connection is gone, not the statement wrong.
  // 08P01 (protocol violation) is what Bind says of a wrong number of
  // parameters: the caller's error, on a connection that goes on working.
  if (state != nullptr && std::strcmp(state, "08P01") == 0) {
    e.with("hint", "send as many params as the statement has $1, $2, ... placeholders");
    return e;
  }
  if (state != nullptr &&
      (std::strncmp(state, "08", 2) == 0 || std::strncmp(state, "57P0", 4) == 0)) {
    Error lost(PGMCP_ERR_UNAVAILABLE, msg != nullptr ? msg : fallback);
    lost.with("sqlstate", state);
    return lost;
  }
  if (state != nullptr && std::strcmp(state, "57014") == 0) {
    // query_canceled: by us, or by statement_timeout
    Error c(std::strstr(msg != nullptr ? msg : "", "timeout") != nullptr ? PGMCP_ERR_TIMEOUT
                                                                         : PGMCP_ERR_CANCELLED,
            msg != nullptr ? msg : "canceled");
    c.with("sqlstate", state);
    return c;
  }
  return e;
}

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

class PgConnection final : public pgmcp::sdk::Connection {
 public:
  // guard: for a pooled connection, the statement that pins each
  // transaction's settings (empty otherwise).
  PgConnection(PGconn *conn, std::string where, long long answer_ms,
               std::shared_ptr<TypeNames> types, std::string guard, std::size_t cache_max)
      : conn_(conn),
        where_(std::move(where)),
        answer_ms_(answer_ms),
        types_(std::move(types)),
        guard_(std::move(guard)) {
    cache_max_ = cache_max;
    cancel_ = PQgetCancel(conn_);
    PQsetNoticeReceiver(conn_, &PgConnection::on_notice, this);
  }

  // Verifies the settings the host's parser relies on and prepares the
  // cleanliness check with its baseline. Throws Error.
  void prepare_session() {
    for (auto [name, want] :
         {std::pair<const char *, const char *>{"standard_conforming_strings", "on"},
          {"client_encoding", "UTF8"}}) {
      const char *got = PQparameterStatus(conn_, name);
      if (got == nullptr || std::strcmp(got, want) != 0)
        throw Error(PGMCP_ERR_CONFIG, "the server at " + where_ + " reports " + name + " = " +
                                          (got != nullptr ? got : "(nothing)") + " although " +
                                          want + " was asked for at connection; refusing it so " +
                                          "that pg-mcp and the server read SQL alike");
    }
    if (pooled()) return;  // nothing outlives a transaction there
    // Prepared once: executing them parses nothing, so the server prints no
    // tree of its own statements while debug_print_rewritten is on.
    single_value(std::string("PREPARE pgmcp_analysis_on AS ") + kAnalysisOn);
    single_value(std::string("PREPARE pgmcp_analysis_off AS ") + kAnalysisOff);
    single_value(std::string("PREPARE pgmcp_clean AS ") + kCleanCheck);
    clean_baseline_ = single_value("EXECUTE pgmcp_clean");
  }
  ~PgConnection() override {
    if (cancel_ != nullptr) PQfreeCancel(cancel_);
    PQfinish(conn_);
  }

  bool healthy() override {
    // The cleanliness check of the last call, if its answer has arrived.
    if (check_pending_ && !broken_ && PQconsumeInput(conn_) == 1 && PQisBusy(conn_) == 0) {
      deadline_ = Clock::now() + std::chrono::milliseconds(answer_ms_);
      try {
        settle();
      } catch (const Error &) {
        broken_ = true;
      }
    }
    return !broken_ && PQstatus(conn_) == CONNECTION_OK &&
           (check_pending_ || PQtransactionStatus(conn_) == PQTRANS_IDLE);
  }

  void execute(const pgmcp_statement &stmt, const pgmcp::sdk::RowSink &sink) override {
    const uint32_t chunk = stmt.chunk_rows == 0 ? kDefaultChunkRows : stmt.chunk_rows;
    deadline_ = Clock::now() + std::chrono::milliseconds(answer_ms_);
    settle();
    const char *analyze = pgmcp::sdk::analyze_sql(stmt);
    if (analyze != nullptr && !sink.takes_analysis())
      throw Error(PGMCP_ERR_INVALID_ARGUMENT, "analyze_sql given without an analyzed callback");
    std::unique_ptr<Error> failure;
    auto fail = [&](Error e) {
      if (!failure) failure = std::make_unique<Error>(std::move(e));
    };
    prepare_wrappers(stmt);
    send_before(stmt);
    const char *name = nullptr;  // the prepared statement that runs, if any
    bool before_read = false;    // what send_before asked for has been read
    size_t leading = 0;          // answers to read before the statement's, after those
    std::vector<TypeKey> described;
    if (analyze != nullptr) {
      // First round trip: the server parses and analyses, and shows its tree.
      send_setting(pooled() ? kAnalysisOn : "pgmcp_analysis_on");
      bool same = std::strcmp(analyze, stmt.sql) == 0;
      std::string key = same && cache_max_ > 0 ? cache_key(stmt) : std::string();
      auto hit = key.empty() ? cache_.end() : cache_.find(key);
      tree_.clear();
      capturing_ = true;
      if (hit != cache_.end()) {
        // Analysed before on this session: Describe revalidates it, and
        // shows the tree again if anything it depends on changed since.
        name = hit->second.name.c_str();
      } else {
        // Named, so that the statement restoring the settings does not replace it.
        name = key.empty() ? kStatementName : new_name();
        if (PQsendPrepare(conn_, name, analyze, same ? static_cast<int>(stmt.param_count) : 0,
                          nullptr) != 1)
          throw lost("could not send the statement");
      }
      // What the result's columns will be: their types are named before a row comes.
      if (same && PQsendDescribePrepared(conn_, name) != 1)
        throw lost("could not send the statement");
      sync();
      read_before(stmt, fail);
      before_read = true;
      drain_command(fail);  // the analysis settings
      // A new statement exists until send_finish deallocates it, or the cache keeps it.
      bool parsed = hit == cache_.end() && drain_command(fail);
      if (parsed) deallocate_.emplace_back(name);
      if (same) described = read_description(fail);
      expect_sync(fail);
      capturing_ = false;
      // A kept statement the server did not analyse again: as last judged.
      const std::string &shown = hit != cache_.end() && tree_.empty() ? hit->second.tree : tree_;
      if (!failure && shown.empty())
        fail(Error(PGMCP_ERR_INTERNAL,
                   "the server did not show its analysis of the statement (is "
                   "debug_print_rewritten available?); nothing was run"));
      if (!failure && !sink.analyzed(shown.c_str(), shown.size()))
        fail(Error(PGMCP_ERR_CANCELLED, "the host refused the statement; nothing was run"));
      if (hit != cache_.end()) {
        if (failure) {
          forget(hit);  // the statement as it stands now was refused, or failed
        } else {
          if (!tree_.empty()) hit->second.tree = tree_;  // analysed again, and judged again
          hit->second.used = ++uses_;
        }
      } else if (parsed && !key.empty() && !failure && tree_.size() <= kCachedTreeMax) {
        deallocate_.pop_back();  // kept
        remember(key, name);
      }
      tree_.clear();
      tree_.shrink_to_fit();
      if (failure) {
        // Refused by the server while analysing: the statement never ran.
        if (failure->status() == PGMCP_ERR_REMOTE) failure->with("stage", "analysis");
        send_finish(stmt, true);
        read_finish(stmt, fail);
        throw *failure;
      }
      // The server log and this session's messages as they were, before it runs.
      send_setting(pooled() ? kAnalysisOff : "pgmcp_analysis_off");
      leading = 1;
      if (!same) name = nullptr;
      // Types this database has not named yet: one more round trip, once.
      std::vector<TypeKey> unknown = types_->unknown(described);
      if (!unknown.empty()) {
        name_types(unknown, fail);
        leading = 0;
      }
    }
    bool finish_sent = !pooled() || rolls_back(stmt);
    {
      // libpq sends at every sync: the statement and what follows it leave
      // in one segment, so that neither side handles three.
      Cork cork(PQsocket(conn_), finish_sent);
      if (name != nullptr) {
        send_prepared(name, stmt.params, stmt.param_count);
      } else {
        send(stmt.sql, stmt.params, stmt.param_count);
      }
      sync();
      // Pipelined behind the statement, unless its outcome decides how the
      // call ends (a pooled write: released when it succeeded).
      if (finish_sent) send_finish(stmt, true);
    }
    if (!before_read) read_before(stmt, fail);
    // results discarded; the first failure aborts the rest until the sync.
    for (size_t i = 0; i < leading; ++i) drain_command(fail);
    // the statement itself, row by row, handed on in chunks
    if (PQsetSingleRowMode(conn_) != 1 && !failure) fail(lost("could not enter single-row mode"));
    read_rows(sink, chunk, fail);
    expect_sync(fail);
    if (!finish_sent) send_finish(stmt, failure != nullptr);
    read_finish(stmt, fail);
    if (failure) {
      if (failure->status() == PGMCP_ERR_UNAVAILABLE) broken_ = true;
      throw *failure;
    }
  }

  // Holds back a TCP socket's sends until it goes out of scope (nothing on
  // a Unix socket, where each send is cheap).
  class Cork {
   public:
    Cork(int fd, bool on) : fd_(on ? fd : -1) {
      int one = 1;
      if (fd_ >= 0 && setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &one, sizeof one) != 0) fd_ = -1;
    }
    ~Cork() {
      int zero = 0;
      if (fd_ >= 0) setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
    }
    Cork(const Cork &) = delete;
    Cork &operator=(const Cork &) = delete;

   private:
    int fd_;
  };

  // The column types of a Describe's answer.
  template <class Fail>
  std::vector<TypeKey> read_description(Fail &fail) {
    std::vector<TypeKey> keys;
    Result r(next_result(), PQclear);
    if (!r) {
      fail(lost("missing result"));
      return keys;
    }
    ExecStatusType st = PQresultStatus(r.get());
    if (st == PGRES_COMMAND_OK)
      for (int c = 0; c < PQnfields(r.get()); ++c)
        keys.emplace_back(PQftype(r.get(), c), PQfmod(r.get(), c));
    else if (st == PGRES_FATAL_ERROR)  // a cached statement that no longer stands
      fail(server_error(r.get(), "describing the statement failed"));
    else if (st == PGRES_PIPELINE_ABORTED)
      fail(Error(PGMCP_ERR_REMOTE, "statement skipped after an earlier error"));
    while (Result more{next_result(), PQclear}) {
    }
    return keys;
  }

  // Asks the server for the names of keys, behind what was sent already
  // (one command, whose answer is read first), and remembers them.
  template <class Fail>
  void name_types(const std::vector<TypeKey> &keys, Fail &fail) {
    auto [oids, mods] = TypeNames::lookup_params(keys);
    pgmcp_value params[2] = {{oids.c_str(), oids.size(), 0}, {mods.c_str(), mods.size(), 0}};
    send(TypeNames::lookup_sql(), params, 2);
    sync();
    drain_command(fail);
    Result r(next_result(), PQclear);
    if (r && PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r.get()); ++i)
        types_->add({static_cast<Oid>(std::strtoul(PQgetvalue(r.get(), i, 0), nullptr, 10)),
                     std::atoi(PQgetvalue(r.get(), i, 1))},
                    PQgetvalue(r.get(), i, 2));
    } else if (r) {
      fail(server_error(r.get(), "naming the result's types failed"));
    } else {
      fail(lost("missing result"));
    }
    while (r && (r = Result(next_result(), PQclear))) {
    }
    expect_sync(fail);
  }

  void cancel() override {
    std::lock_guard lock(cancel_mutex_);
    char err[256] = {};
    if (cancel_ != nullptr && PQcancel(cancel_, err, sizeof err) != 1) {
      throw Error(PGMCP_ERR_UNAVAILABLE, "could not cancel the statement: " + clean(err));
    }
  }

  void describe_schema(const pgmcp::sdk::SchemaSink &sink) override {
    deadline_ = Clock::now() + std::chrono::milliseconds(answer_ms_);
    settle();
    // In a transaction of its own (pooled: under the guard), without JIT
    // (compiling a large catalog's query costs more than running it) and
    // with hash joins: the planner expects a few columns per relation and
    // looks each up, 0.2 s against 0.17 s for 2,000 tables of 20 columns.
    std::vector<const char *> before = {"BEGIN READ ONLY", "SET LOCAL jit = off",
                                        "SET LOCAL enable_nestloop = off"};
    if (pooled()) before.insert(before.begin() + 1, guard_.c_str());
    for (const char *b : before) send(b, nullptr, 0);
    // In parts, so that the host takes in one while the server runs the next.
    const auto &queries = pgmcp::postgres::catalog_queries();
    for (const auto &q : queries) send(q.c_str(), nullptr, 0);
    send("ROLLBACK", nullptr, 0);
    sync();
    std::unique_ptr<Error> failure;
    auto fail = [&](Error e) {
      if (!failure) failure = std::make_unique<Error>(std::move(e));
    };
    for (std::size_t i = 0; i < before.size(); ++i) drain_command(fail);
    std::vector<Result> parts;  // kept: the column names point into them
    ColumnNames names;
    bool go = true;
    for (std::size_t i = 0; i < queries.size(); ++i) {
      Result r(next_result(), PQclear);
      if (!r) throw lost("no catalog result");
      if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
        fail(server_error(r.get(), "catalog query failed"));
      else if (go && !failure)
        go = emit_catalog(r.get(), sink, names);
      while (Result more{next_result(), PQclear}) {
      }
      parts.push_back(std::move(r));
    }
    drain_command(fail);
    expect_sync(fail);
    if (failure) throw *failure;
  }

 private:
  // Around the analysis, for this transaction only: the tree comes as one
  // compact LOG notice, and stays out of the server log where the role may
  // say so (superusers, or PostgreSQL 15's GRANT SET ON PARAMETER). What was
  // in force is kept in pgmcp.* settings and put back before the statement
  // runs, so the server logs its execution as it logs any other.
  static constexpr const char *kAnalysisOn =
      "SELECT pg_catalog.set_config('pgmcp.client_min_messages', "
      "pg_catalog.current_setting('client_min_messages'), true), "
      "CASE WHEN pg_catalog.has_parameter_privilege('log_min_messages', 'SET') THEN "
      "pg_catalog.set_config('pgmcp.log_min_messages', "
      "pg_catalog.current_setting('log_min_messages'), true) || "
      "pg_catalog.set_config('log_min_messages', 'fatal', true) END, "
      "pg_catalog.set_config('debug_print_rewritten', 'on', true), "
      "pg_catalog.set_config('debug_pretty_print', 'off', true), "
      "pg_catalog.set_config('client_min_messages', 'log', true)";
  static constexpr const char *kAnalysisOff =
      "SELECT pg_catalog.set_config('debug_print_rewritten', 'off', true), "
      "pg_catalog.set_config('client_min_messages', "
      "pg_catalog.current_setting('pgmcp.client_min_messages'), true), "
      "CASE WHEN pg_catalog.current_setting('pgmcp.log_min_messages', true) <> '' THEN "
      "pg_catalog.set_config('log_min_messages', "
      "pg_catalog.current_setting('pgmcp.log_min_messages'), true) END";
  static constexpr const char *kStatementName = "pgmcp_statement";
  // What a call could leave on a session: advisory locks, prepared statements
  // and cursors, LISTEN channels, temporary objects, the role and the settings
  // the host relies on. Compared with its value on a fresh connection. The
  // four lists are read side by side in one scan (ROWS FROM pads the shorter
  // with nulls; each count is of a column its function never leaves null):
  // one plan node to start instead of four subqueries, a fifth less work.
  static constexpr const char *kCleanCheck =
      "SELECT count(*) FILTER (WHERE s.locktype = 'advisory' AND "
      "s.pid = pg_catalog.pg_backend_pid()) || '/' || count(s.from_sql) || '/' || "
      "count(s.is_holdable) || '/' || count(s.pg_listening_channels) || '/' || "
      "pg_catalog.pg_my_temp_schema() || '/' || "
      "current_user || '/' || pg_catalog.current_setting('search_path') || '/' || "
      "pg_catalog.current_setting('standard_conforming_strings') || '/' || "
      "pg_catalog.current_setting('default_transaction_read_only') || '/' || "
      "pg_catalog.current_setting('statement_timeout') || '/' || "
      "pg_catalog.current_setting('client_encoding') FROM ROWS FROM ("
      "pg_catalog.pg_lock_status(), pg_catalog.pg_prepared_statement(), pg_catalog.pg_cursor(), "
      "pg_catalog.pg_listening_channels()) AS s";

  static void on_notice(void *arg, const PGresult *r) {
    auto *self = static_cast<PgConnection *>(arg);
    if (!self->capturing_) return;  // notices of statements are not the host's output
    const char *severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    if (severity != nullptr && std::strcmp(severity, "LOG") == 0 && msg != nullptr &&
        std::strcmp(msg, "rewritten parse tree:") == 0 && detail != nullptr) {
      // A second tree for one Parse would be a surprise: refuse by garbling.
      self->tree_ = self->tree_.empty() ? detail : std::string("(duplicate analysis)");
    }
  }

  bool pooled() const { return !guard_.empty(); }

  // Whether the host ends the call by rolling back (a read): then the
  // statement's outcome changes nothing of how it ends.
  static bool rolls_back(const pgmcp_statement &stmt) {
    return stmt.after_count == 1 && std::strcmp(stmt.after[0], "ROLLBACK") == 0;
  }

  // The host's statements before the call. Pooled: the guard right after the
  // first (BEGIN), then the rest, a savepoint, and the cleanliness check of
  // the session as the call finds it.
  void send_before(const pgmcp_statement &stmt) {
    size_t i = 0;
    if (pooled() && stmt.before_count > 0) send(stmt.before[i++], nullptr, 0);
    if (pooled()) send(guard_.c_str(), nullptr, 0);
    for (; i < stmt.before_count; ++i) send_wrapper(stmt.before[i]);
    if (pooled()) {
      send("SAVEPOINT pgmcp_call", nullptr, 0);
      send(kCleanCheck, nullptr, 0);
    }
  }

  template <class Fail>
  void read_before(const pgmcp_statement &stmt, Fail &fail) {
    size_t n = stmt.before_count + (pooled() ? 2 : 0);
    for (size_t i = 0; i < n; ++i) drain_command(fail);
    if (pooled()) call_baseline_ = read_value(fail);
  }

  // One of the analysis settings: prepared on a session of our own, sent as
  // text behind a pooler.
  void send_setting(const char *named_or_sql) {
    if (pooled())
      send(named_or_sql, nullptr, 0);
    else
      send_named(named_or_sql);
  }

  // The call's end, after the statement. Not pooled: `after`, then the
  // cleanliness check in a sync of its own (the server sends what it has at
  // each sync); read_finish reads what `after` answered, settle() the check.
  // Pooled: back to the savepoint (or past it, when a write succeeded), the
  // statement deallocated and the check, all inside the transaction; `after`
  // follows once read_finish has compared the check with the call's start.
  void send_finish(const pgmcp_statement &stmt, bool failed) {
    if (pooled()) {
      send(failed || rolls_back(stmt) ? "ROLLBACK TO SAVEPOINT pgmcp_call"
                                      : "RELEASE SAVEPOINT pgmcp_call",
           nullptr, 0);
      send_deallocations();
      send(kCleanCheck, nullptr, 0);
      sync();
      return;
    }
    for (size_t i = 0; i < stmt.after_count; ++i) send_wrapper(stmt.after[i]);
    send_deallocations();
    sync();
    if (!clean_baseline_.empty()) {
      send_named("pgmcp_clean");
      sync();
    }
  }

  // Reads what send_finish asked for. Not pooled, the cleanliness check's
  // answer is not needed before the caller gets its rows, only before the
  // connection is used again: healthy() or the next call settles it. Pooled,
  // the check is read now, before the transaction ends: the server
  // connection goes on to other clients.
  template <class Fail>
  void read_finish(const pgmcp_statement &stmt, Fail &fail) {
    if (pooled()) {
      drain_command(fail);
      read_deallocations(fail);
      std::string after_call = read_value(fail);
      expect_sync(fail);
      if (after_call.empty() || after_call != call_baseline_) {
        // The transaction is left open and the connection closed: the
        // pooler then closes its server connection instead of lending it on.
        broken_ = true;
        fail(Error(PGMCP_ERR_INTERNAL,
                   "the statement left the session unlike it found it (" + call_baseline_ +
                       " before, " + after_call +
                       " after: advisory locks/prepared statements/"
                       "cursors/channels/temporary schema/...); nothing of it was committed "
                       "and the connection was closed"));
        return;
      }
      for (size_t i = 0; i < stmt.after_count; ++i) send(stmt.after[i], nullptr, 0);
      sync();
      for (size_t i = 0; i < stmt.after_count; ++i) drain_command(fail);
      expect_sync(fail);
      if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
      return;
    }
    for (size_t i = 0; i < stmt.after_count; ++i) drain_command(fail);
    read_deallocations(fail);
    expect_sync(fail);
    check_pending_ = !clean_baseline_.empty();
    if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
  }

  // The first value of one command's one-row result, or "" (a failure is reported).
  template <class Fail>
  std::string read_value(Fail &fail) {
    Result r(next_result(), PQclear);
    std::string value;
    if (!r) {
      fail(lost("missing result"));
      return value;
    }
    ExecStatusType st = PQresultStatus(r.get());
    if (st == PGRES_TUPLES_OK && PQntuples(r.get()) == 1 && PQnfields(r.get()) == 1)
      value = PQgetvalue(r.get(), 0, 0);
    else if (st == PGRES_FATAL_ERROR)
      fail(server_error(r.get(), "statement failed"));
    else if (st == PGRES_PIPELINE_ABORTED)
      fail(Error(PGMCP_ERR_REMOTE, "statement skipped after an earlier error"));
    while (Result more{next_result(), PQclear}) {
    }
    return value;
  }

  // The last call's cleanliness check: a session that is not as clean as a
  // fresh one is never used again. Throws Error (unavailable) when it is not.
  void settle() {
    if (!check_pending_) return;
    check_pending_ = false;
    bool clean = false;
    {
      Result r(next_result(), PQclear);
      clean = r && PQresultStatus(r.get()) == PGRES_TUPLES_OK && PQntuples(r.get()) == 1 &&
              expected_clean() == PQgetvalue(r.get(), 0, 0);
      while (Result more{next_result(), PQclear}) {
      }
    }
    std::unique_ptr<Error> failure;
    auto fail = [&](Error e) {
      if (!failure) failure = std::make_unique<Error>(std::move(e));
    };
    expect_sync(fail);
    if (!clean || failure) {
      broken_ = true;  // not what a fresh connection shows: never pool it again
      throw Error(PGMCP_ERR_UNAVAILABLE, "the connection to " + where_ +
                                             " was left unlike a fresh one by the call before; "
                                             "closed it");
    }
  }

  // The next result, waiting at most until deadline_: a server that does not
  // answer (frozen, or behind a dead network path) never enforces its own
  // statement_timeout. On expiry the statement is cancelled where the server
  // can still be reached, and the connection is given up.
  PGresult *next_result() {
    while (PQisBusy(conn_) != 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
      if (left.count() <= 0) {
        broken_ = true;
        cancel_in_background();
        throw Error(PGMCP_ERR_TIMEOUT,
                    "the server at " + where_ + " did not answer within " +
                        std::to_string(answer_ms_) +
                        " ms (statement_timeout_ms and a grace); the statement was cancelled and "
                        "the connection closed");
      }
      pollfd p{PQsocket(conn_), POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
      if (ready < 0 && errno != EINTR) break;  // PQgetResult reports the failure
      if (ready > 0 && PQconsumeInput(conn_) == 0) break;
    }
    return PQgetResult(conn_);
  }

  // PQcancel opens a connection of its own, which a dead network would hold
  // up for a long time: it runs apart, on its own copy of the cancel key.
  void cancel_in_background() {
    PGcancel *c = PQgetCancel(conn_);
    if (c == nullptr) return;
    std::thread([c] {
      char err[256];
      PQcancel(c, err, sizeof err);
      PQfreeCancel(c);
    }).detach();
  }

  // One statement on its own round trip, during set-up; its first value.
  std::string single_value(const std::string &sql) {
    deadline_ = Clock::now() + std::chrono::milliseconds(answer_ms_);
    send(sql.c_str(), nullptr, 0);
    sync();
    std::string value;
    std::unique_ptr<Error> failure;
    Result r(next_result(), PQclear);
    if (!r) throw lost("no result");
    ExecStatusType st = PQresultStatus(r.get());
    if (st == PGRES_TUPLES_OK && PQntuples(r.get()) > 0 && PQnfields(r.get()) > 0)
      value = PQgetvalue(r.get(), 0, 0);
    else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
      failure = std::make_unique<Error>(server_error(r.get(), "set-up statement failed"));
    while (Result more{next_result(), PQclear}) {
    }
    auto fail = [&](Error e) {
      if (!failure) failure = std::make_unique<Error>(std::move(e));
    };
    expect_sync(fail);
    if (failure) throw *failure;
    return value;
  }

  // Runs one of this session's own prepared statements.
  void send_named(const char *name) {
    if (PQsendQueryPrepared(conn_, name, 0, nullptr, nullptr, nullptr, 0) != 1)
      throw lost("could not send the statement");
  }

  void send_prepared(const char *name, const pgmcp_value *params, size_t count) {
    Params p(params, count);
    if (PQsendQueryPrepared(conn_, name, static_cast<int>(count), p.values(), p.lengths(),
                            p.formats(), 0) != 1)
      throw lost("could not send the statement");
  }

  // The host's statements around a call (BEGIN READ ONLY, SET LOCAL ...,
  // ROLLBACK) are the same every time: prepared once on a session of our
  // own, in a round trip of their own the first time each is seen, they are
  // not parsed again. One the server will not prepare is sent as text.
  void prepare_wrappers(const pgmcp_statement &stmt) {
    if (pooled() || clean_baseline_.empty()) return;
    std::vector<const char *> fresh;
    auto want = [&](const char *sql) {
      if (wrappers_.size() + fresh.size() < kMaxWrappers && wrappers_.count(sql) == 0 &&
          std::find_if(fresh.begin(), fresh.end(),
                       [&](const char *f) { return std::strcmp(f, sql) == 0; }) == fresh.end())
        fresh.push_back(sql);
    };
    for (size_t i = 0; i < stmt.before_count; ++i) want(stmt.before[i]);
    for (size_t i = 0; i < stmt.after_count; ++i) want(stmt.after[i]);
    if (fresh.empty()) return;
    std::vector<std::string> names;
    for (const char *sql : fresh) {
      names.push_back("pgmcp_wrapper_" + std::to_string(wrappers_.size() + names.size() + 1));
      if (PQsendPrepare(conn_, names.back().c_str(), sql, 0, nullptr) != 1)
        throw lost("could not send the statement");
    }
    sync();
    std::unique_ptr<Error> failure;
    auto fail = [&](Error e) {
      if (!failure) failure = std::make_unique<Error>(std::move(e));
    };
    std::unique_ptr<Error> ignored;  // refused: sent as text, and refused there as before
    auto note = [&](Error e) {
      if (!ignored) ignored = std::make_unique<Error>(std::move(e));
    };
    for (std::size_t i = 0; i < fresh.size(); ++i)
      wrappers_[fresh[i]] = drain_command(note) ? names[i] : std::string();
    expect_sync(fail);
    if (failure) throw *failure;
  }
  void send_wrapper(const char *sql) {
    auto it = wrappers_.find(sql);
    if (it != wrappers_.end() && !it->second.empty())
      send_named(it->second.c_str());
    else
      send(sql, nullptr, 0);
  }
  std::size_t prepared_wrappers() const {
    return static_cast<std::size_t>(std::count_if(wrappers_.begin(), wrappers_.end(),
                                                  [](const auto &w) { return !w.second.empty(); }));
  }

  // The statements of this session that go at the end of the call: the
  // call's own, and those the cache let go of.
  void send_deallocations() {
    for (const std::string &n : deallocate_) send(("DEALLOCATE " + n).c_str(), nullptr, 0);
  }
  template <class Fail>
  void read_deallocations(Fail &fail) {
    for (std::size_t i = 0; i < deallocate_.size(); ++i) drain_command(fail);
    deallocate_.clear();
  }

  // Analysed statements kept on this session, by what decides their
  // analysis: the statements before them (role, search path) and the text
  // with its number of parameters. The server re-analyses a kept statement
  // whenever anything it depends on changed (tables, views, functions,
  // types, the search path, the role under row security), and shows that
  // tree as it shows a new one; the host judges the tree it is shown, or
  // the kept one, before every run, so a kept statement runs only as the
  // host last saw it analysed.
  struct Kept {
    std::string name, tree;
    std::uint64_t used = 0;
  };
  static std::string cache_key(const pgmcp_statement &stmt) {
    std::string key = std::to_string(stmt.param_count);
    for (size_t i = 0; i < stmt.before_count; ++i) (key += '\n') += stmt.before[i];
    return (key += '\0') += stmt.sql;
  }
  const char *new_name() {
    fresh_name_ = "pgmcp_kept_" + std::to_string(++names_);
    return fresh_name_.c_str();
  }
  void forget(std::unordered_map<std::string, Kept>::iterator it) {
    deallocate_.push_back(it->second.name);
    cache_.erase(it);
  }
  // Keeps the new statement just judged, whose tree is tree_, in place of
  // the least recently used one when the cache is full.
  void remember(const std::string &key, const std::string &name) {
    if (cache_.size() >= cache_max_) {
      forget(std::min_element(cache_.begin(), cache_.end(),
                              [](auto &a, auto &b) { return a.second.used < b.second.used; }));
    }
    cache_.emplace(key, Kept{name, tree_, ++uses_});
  }

  // The cleanliness check's baseline, with this session's kept statements
  // and wrappers among the prepared ones (its second field).
  std::string expected_clean() const {
    std::size_t ours = cache_.size() + prepared_wrappers();
    if (ours == 0) return clean_baseline_;
    std::size_t a = clean_baseline_.find('/');
    std::size_t b = a == std::string::npos ? a : clean_baseline_.find('/', a + 1);
    if (b == std::string::npos) return clean_baseline_;
    long long fresh = std::atoll(clean_baseline_.substr(a + 1, b - a - 1).c_str());
    return clean_baseline_.substr(0, a + 1) + std::to_string(fresh + static_cast<long long>(ours)) +
           clean_baseline_.substr(b);
  }

  Error lost(const std::string &what) {
    broken_ = true;
    return Error(PGMCP_ERR_UNAVAILABLE, "connection to " + where_ + " lost: " + what + " (" +
                                            clean(PQerrorMessage(conn_)) + ")");
  }

  // Text-format parameters as libpq wants them (NUL-terminated copies).
  class Params {
   public:
    Params(const pgmcp_value *params, size_t count)
        : values_(count), lengths_(count), formats_(count, 0), terminated_(count) {
      for (size_t i = 0; i < count; ++i) {
        if (params[i].is_null) continue;
        terminated_[i].assign(params[i].data, params[i].len);
        values_[i] = terminated_[i].c_str();
        lengths_[i] = static_cast<int>(params[i].len);
      }
    }
    const char *const *values() const { return values_.empty() ? nullptr : values_.data(); }
    const int *lengths() const { return lengths_.empty() ? nullptr : lengths_.data(); }
    const int *formats() const { return formats_.empty() ? nullptr : formats_.data(); }

   private:
    std::vector<const char *> values_;
    std::vector<int> lengths_, formats_;
    std::vector<std::string> terminated_;
  };

  void send(const char *sql, const pgmcp_value *params, size_t count) {
    Params p(params, count);
    if (PQsendQueryParams(conn_, sql, static_cast<int>(count), nullptr, p.values(), p.lengths(),
                          p.formats(), 0) != 1) {
      throw lost("could not send the statement");
    }
  }

  void sync() {
    if (PQpipelineSync(conn_) != 1) throw lost("could not send the pipeline sync");
  }

  // Reads one command's result; true when it succeeded.
  template <class Fail>
  bool drain_command(Fail &fail) {
    Result r(next_result(), PQclear);
    if (!r) {
      fail(lost("missing result"));
      return false;
    }
    ExecStatusType st = PQresultStatus(r.get());
    if (st == PGRES_FATAL_ERROR)
      fail(server_error(r.get(), "statement failed"));
    else if (st == PGRES_PIPELINE_ABORTED)
      fail(Error(PGMCP_ERR_REMOTE, "statement skipped after an earlier error"));
    while (Result more{next_result(), PQclear}) {
    }
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  }

  template <class Fail>
  void expect_sync(Fail &fail) {
    Result r(next_result(), PQclear);
    if (!r || PQresultStatus(r.get()) != PGRES_PIPELINE_SYNC) fail(lost("pipeline out of step"));
  }

  template <class Fail>
  void read_rows(const pgmcp::sdk::RowSink &sink, uint32_t chunk, Fail &fail) {
    bool described = false, stopped = false;
    std::vector<pgmcp_value> buffer;
    std::vector<Result> held;  // rows of the current chunk; values point into them
    int ncols = 0;
    auto flush = [&] {
      if (!stopped && !held.empty() && !sink.rows(buffer.data(), held.size())) stop(stopped);
      buffer.clear();
      held.clear();
    };
    for (;;) {
      Result r(next_result(), PQclear);
      if (!r) break;
      ExecStatusType st = PQresultStatus(r.get());
      if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) {
        if (!described) {
          described = true;
          ncols = PQnfields(r.get());
          std::vector<pgmcp_column> cols(static_cast<size_t>(ncols));
          std::vector<std::string> type_names(static_cast<size_t>(ncols));
          for (int c = 0; c < ncols; ++c) {
            cols[c].struct_size = sizeof(pgmcp_column);
            cols[c].name = PQfname(r.get(), c);
            cols[c].type_oid = PQftype(r.get(), c);
            auto known = types_->find({cols[c].type_oid, PQfmod(r.get(), c)});
            type_names[c] = known ? *known : TypeNames::builtin(cols[c].type_oid);
            cols[c].type_name = type_names[c].c_str();
          }
          if (!sink.columns(cols.data(), cols.size())) stop(stopped);
        }
        if (st == PGRES_SINGLE_TUPLE && !stopped) {
          for (int c = 0; c < ncols; ++c) {
            bool null = PQgetisnull(r.get(), 0, c);
            buffer.push_back({null ? nullptr : PQgetvalue(r.get(), 0, c),
                              null ? 0 : static_cast<size_t>(PQgetlength(r.get(), 0, c)),
                              null ? 1 : 0});
          }
          // libpq never shrinks its input buffer: a connection that held a
          // large row is not pooled, so the memory goes back with it.
          if (static_cast<std::size_t>(PQgetlength(r.get(), 0, 0)) > kLargeRow || ncols > 1)
            note_row_size(r.get(), ncols);
          held.push_back(std::move(r));
          if (held.size() >= chunk) flush();
        } else if (st == PGRES_TUPLES_OK) {
          flush();
          if (!stopped) sink.complete(PQcmdStatus(r.get()));
        }
      } else if (st == PGRES_COMMAND_OK) {
        flush();
        if (!stopped) sink.complete(PQcmdStatus(r.get()));
      } else if (st == PGRES_FATAL_ERROR) {
        flush();  // the rows before the error: the host decides what they are worth
        if (!(stopped && cancelled_by_us_)) fail(server_error(r.get(), "statement failed"));
      } else if (st == PGRES_PIPELINE_ABORTED) {
        fail(Error(PGMCP_ERR_REMOTE, "statement skipped after an earlier error"));
      } else if (st == PGRES_EMPTY_QUERY) {
        fail(Error(PGMCP_ERR_INVALID_ARGUMENT, "the statement is empty"));
      } else if (st == PGRES_COPY_OUT || st == PGRES_COPY_IN || st == PGRES_COPY_BOTH) {
        broken_ = true;  // a COPY cannot be continued safely
        fail(Error(PGMCP_ERR_INVALID_ARGUMENT, "COPY is not supported"));
        return;
      }
    }
    cancelled_by_us_ = false;
  }

  void note_row_size(const PGresult *r, int ncols) {
    std::size_t bytes = 0;
    for (int c = 0; c < ncols; ++c) bytes += static_cast<std::size_t>(PQgetlength(r, 0, c));
    if (bytes > kLargeRow) broken_ = true;
  }

  // The sink wants no more: ask the server to stop, then discard what comes.
  // A cancel can land on a later statement of this connection, so the
  // connection is not reused afterwards.
  void stop(bool &stopped) {
    stopped = true;
    cancelled_by_us_ = true;
    broken_ = true;
    try {
      cancel();
    } catch (const Error &) {
    }
  }

  // Rows name their relation by (schema, table); table "" for none.
  using Pair = std::pair<std::string_view, std::string_view>;
  struct PairHash {
    size_t operator()(const Pair &p) const {
      return std::hash<std::string_view>{}(p.first) * 31 + std::hash<std::string_view>{}(p.second);
    }
  };
  // Each relation's column names by number, for the indexes and constraints
  // that come as numbers (in a later part of the catalog).
  using ColumnNames = std::unordered_map<Pair, std::vector<const char *>, PairHash>;

  // One part of the catalog, to the sink; false when the sink stopped.
  bool emit_catalog(const PGresult *r, const pgmcp::sdk::SchemaSink &sink, ColumnNames &names) {
    int n = PQntuples(r);
    auto text = [&](int row, int col) -> const char * {
      return PQgetisnull(r, row, col) ? nullptr : PQgetvalue(r, row, col);
    };
    // In the order the host reads them: schemas, relations, then each
    // relation's columns (by position), indexes, constraints; functions and
    // enums last (the parts come in that order). Sorted here rather than by
    // the server, whose sort of a large catalog's rows spilled to disk; names
    // compare as bytes, as the server's "C" collation does. The part's
    // (schema, table) pairs are ranked once, so that the rows' sort compares
    // integers, and names only among a schema's relations.
    struct Key {
      int kind, group, position;
      const int *rank;  // in `ranks`, whose elements stay put when it grows
      Pair pair;
      const char *name;
    };
    std::unordered_map<Pair, int, PairHash> ranks;
    std::vector<Key> keys(static_cast<size_t>(n));
    std::vector<int> order(static_cast<size_t>(n));
    auto or_empty = [](const char *s) { return s != nullptr ? s : ""; };
    for (int i = 0; i < n; ++i) {
      auto u = static_cast<size_t>(i);
      Pair pair{or_empty(text(i, 1)), or_empty(text(i, 3))};
      const int *rank = &ranks.try_emplace(pair, 0).first->second;
      keys[u] = {std::atoi(text(i, 0)), std::atoi(text(i, 14)), std::atoi(text(i, 7)), rank, pair,
                 or_empty(text(i, 2))};
      order[u] = i;
      if (keys[u].kind == PGMCP_OBJECT_COLUMN && keys[u].position > 0) {
        auto &v = names[pair];
        auto at = static_cast<size_t>(keys[u].position);
        if (v.size() <= at) v.resize(at + 1, nullptr);
        v[at] = keys[u].name;
      }
    }
    {
      // No table ("") before any relation's name, which is never empty.
      std::vector<std::unordered_map<Pair, int, PairHash>::iterator> pairs;
      pairs.reserve(ranks.size());
      for (auto it = ranks.begin(); it != ranks.end(); ++it) pairs.push_back(it);
      std::sort(pairs.begin(), pairs.end(), [](auto a, auto b) { return a->first < b->first; });
      for (size_t k = 0; k < pairs.size(); ++k) pairs[k]->second = static_cast<int>(k);
    }
    std::sort(order.begin(), order.end(), [&](int ia, int ib) {
      const Key &a = keys[static_cast<size_t>(ia)], &b = keys[static_cast<size_t>(ib)];
      if (a.group != b.group) return a.group < b.group;
      if (*a.rank != *b.rank) return *a.rank < *b.rank;
      if (a.position != b.position) return a.position < b.position;
      return std::strcmp(a.name, b.name) < 0;
    });
    static const std::vector<const char *> kNone;
    for (int i : order) {
      const Key &k = keys[static_cast<size_t>(i)];
      std::vector<std::string> cols;
      if (text(i, 10) != nullptr) {
        cols = parse_name_array(text(i, 10));
      } else if (text(i, 15) != nullptr) {
        auto found = names.find(k.pair);
        cols = column_names(text(i, 15), std::atoi(text(i, 16)),
                            found != names.end() ? found->second : kNone);
      }
      std::vector<std::string> refs = parse_name_array(text(i, 13));
      std::vector<const char *> col_ptrs, ref_ptrs;
      for (auto &c : cols) col_ptrs.push_back(c.c_str());
      for (auto &c : refs) ref_ptrs.push_back(c.c_str());
      pgmcp_schema_object o{};
      o.kind = static_cast<pgmcp_object_kind>(k.kind);
      o.schema = text(i, 1);
      o.name = text(i, 2);
      o.table = text(i, 3);
      o.type = text(i, 4);
      o.definition = text(i, 5);
      o.comment = text(i, 6);
      o.position = k.position;
      o.not_null = text(i, 8) != nullptr && text(i, 8)[0] == 't';
      if (o.kind == PGMCP_OBJECT_INDEX) o.unique = o.not_null;
      o.estimated_rows = std::atof(text(i, 9));
      o.columns = col_ptrs.empty() ? nullptr : col_ptrs.data();
      o.column_count = col_ptrs.size();
      o.ref_schema = text(i, 11);
      o.ref_table = text(i, 12);
      o.ref_columns = ref_ptrs.empty() ? nullptr : ref_ptrs.data();
      o.ref_column_count = ref_ptrs.size();
      if (!sink.object(o)) return false;
    }
    return true;
  }

  // The names of the first `count` (all when 0) column numbers in `numbers`
  // (an int2vector's text, "1 3", or an int2[]'s, "{1,-6}"); negative ones
  // are system columns (a CHECK may name tableoid); a number the relation has
  // no column for (never so in one snapshot) stays a number.
  static std::vector<std::string> column_names(const char *numbers, int count,
                                               const std::vector<const char *> &names) {
    static const char *const kSystem[] = {"ctid", "xmin", "cmin", "xmax", "cmax", "tableoid"};
    std::vector<std::string> out;
    if (numbers == nullptr) return out;
    for (const char *p = numbers;
         *p != '\0' && (count <= 0 || out.size() < static_cast<size_t>(count));) {
      if ((*p < '0' || *p > '9') && *p != '-') {
        ++p;
        continue;
      }
      char *end = nullptr;
      long num = std::strtol(p, &end, 10);
      if (end == p) {  // a lone '-'
        ++p;
        continue;
      }
      p = end;
      if (num > 0 && static_cast<size_t>(num) < names.size() && names[num] != nullptr)
        out.emplace_back(names[num]);
      else if (num < 0 && -num <= 6)
        out.emplace_back(kSystem[-num - 1]);
      else
        out.push_back(std::to_string(num));
    }
    return out;
  }

  // A one-dimensional text[] in text form: {a,"b c",NULL}.
  static std::vector<std::string> parse_name_array(const char *s) {
    std::vector<std::string> out;
    if (s == nullptr || *s != '{') return out;
    std::string cur;
    bool quoted = false, in_quotes = false;
    for (const char *p = s + 1; *p != '\0'; ++p) {
      char c = *p;
      if (in_quotes) {
        if (c == '\\' && p[1] != '\0')
          cur += *++p;
        else if (c == '"')
          in_quotes = false;
        else
          cur += c;
      } else if (c == '"') {
        in_quotes = quoted = true;
      } else if (c == ',' || c == '}') {
        if (!cur.empty() || quoted) out.push_back(cur);
        cur.clear();
        quoted = false;
        if (c == '}') break;
      } else {
        cur += c;
      }
    }
    return out;
  }

  PGconn *conn_;
  std::string where_;
  std::mutex cancel_mutex_;
  PGcancel *cancel_ = nullptr;
  using Clock = std::chrono::steady_clock;
  long long answer_ms_;         // how long a server may take to answer at all
  Clock::time_point deadline_;  // for the call under way
  bool broken_ = false;
  bool cancelled_by_us_ = false;
  static constexpr std::size_t kLargeRow = 1 << 20;
  bool capturing_ = false;               // a Parse is being analysed: keep its tree
  std::vector<std::string> deallocate_;  // prepared statements to let go of at the call's end
  std::unordered_map<std::string, Kept> cache_;  // see Kept
  std::size_t cache_max_ = 0;
  std::unordered_map<std::string, std::string> wrappers_;  // text -> name ("" when refused)
  static constexpr std::size_t kMaxWrappers = 16;
  std::uint64_t uses_ = 0, names_ = 0;
  std::string fresh_name_;
  static constexpr std::size_t kCachedTreeMax = 128 * 1024;  // larger trees are not kept
  bool check_pending_ = false;        // the last cleanliness check's answer is unread
  std::string tree_;                  // the server's analysis of that Parse
  std::string clean_baseline_;        // what the cleanliness check shows on a fresh session
  std::shared_ptr<TypeNames> types_;  // shared by the database's connections
  std::string guard_;                 // pooled: pins each transaction's settings
  std::string call_baseline_;         // pooled: the check as the call found the session
};

class PgDatabase final : public pgmcp::sdk::Database {
 public:
  explicit PgDatabase(const Config &config) : settings_(read_settings(config)) {}

  std::unique_ptr<pgmcp::sdk::Connection> connect() override {
    std::vector<const char *> keys, values;
    for (size_t i = 0; i < settings_.keys.size(); ++i) {
      keys.push_back(settings_.keys[i].c_str());
      values.push_back(settings_.values[i].c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn *conn = PQconnectdbParams(keys.data(), values.data(), 0);
    if (conn == nullptr)
      throw Error(PGMCP_ERR_UNAVAILABLE, "out of memory connecting to " + settings_.where);
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string why = clean(PQerrorMessage(conn));
      PQfinish(conn);
      why = hide(std::move(why), settings_.password);
      if (why.find("unsupported startup parameter") != std::string::npos && !settings_.pooled)
        why += " (a connection pooler such as PgBouncer: set pooler = transaction)";
      throw Error(PGMCP_ERR_UNAVAILABLE, "cannot connect to " + settings_.where + ": " + why);
    }
    if (PQenterPipelineMode(conn) != 1) {
      PQfinish(conn);
      throw Error(PGMCP_ERR_UNAVAILABLE, "cannot enter pipeline mode on " + settings_.where);
    }
    auto c = std::make_unique<PgConnection>(
        conn, settings_.where, answer_deadline_ms(settings_.statement_timeout_ms), types_,
        settings_.pooled ? guard() : std::string(), settings_.statement_cache);
    c->prepare_session();
    return c;
  }

 private:
  // What a pooled transaction pins first, whatever another client of the
  // pooler left on the server connection: how strings are read, the role
  // and search path this login starts with (the host's SET LOCAL ROLE and
  // search_path follow), and the timeouts the startup packet sets otherwise.
  std::string guard() const {
    std::string t = std::to_string(settings_.statement_timeout_ms);
    std::string idle = std::to_string(idle_timeout_ms(settings_.statement_timeout_ms));
    return "SELECT pg_catalog.set_config('standard_conforming_strings', 'on', true), "
           "pg_catalog.set_config('role', 'none', true), "
           "pg_catalog.set_config('search_path', (SELECT reset_val FROM pg_catalog.pg_settings "
           "WHERE name = 'search_path'), true), "
           "pg_catalog.set_config('statement_timeout', '" +
           t + "', true), pg_catalog.set_config('idle_in_transaction_session_timeout', '" + idle +
           "', true)";
  }

  Settings settings_;
  std::shared_ptr<TypeNames> types_ = std::make_shared<TypeNames>();
};

}  // namespace

PGMCP_PLUGIN("postgres", "1.0.0",
             "PostgreSQL through libpq: extended protocol, pipelined, streamed rows",
             pgmcp::sdk::DriverCapability<PgDatabase>)
