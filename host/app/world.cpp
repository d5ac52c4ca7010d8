#include "app/world.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <thread>

#include "llm/providers.hpp"
#include "log/log.hpp"
#include "mcp/auth.hpp"
#include "pipeline/vocabulary.hpp"
#include "sql/policy.hpp"
#include "sql/privileges.hpp"
#include "tools/tools.hpp"

namespace pgmcp::app {

std::shared_ptr<World> build_world(config::Settings s, const Shared &shared) {
  auto w = std::make_shared<World>();
  w->scheduler = shared.scheduler;
  w->instances = plugins::create_instances(s, *shared.plugins);
  std::vector<std::function<void()>> warm;
  w->databases = open_databases(s, w->instances, shared.metrics.get(), &warm);
  // Start-up answers before the databases do: each is warmed in the
  // background (all at once, so one that hangs delays no other).
  w->warming = std::thread([warm = std::move(warm)] {
    std::vector<std::thread> each;
    for (const auto &fn : warm)
      each.emplace_back([&fn] {
        // Background work yields the CPU to the requests (per-thread nice).
        setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
        fn();
      });
    for (auto &t : each) t.join();
  });
  if (s.query.vocabulary) {
    auto problems = pipeline::check_examples(*s.query.vocabulary, *w->databases);
    if (!problems.empty()) throw config::ConfigError(std::move(problems));
  }
  if (shared.metrics) {
    for (const auto &l : s.llms) shared.metrics->declare_llm(l.name);
    for (const auto &r : s.rate_limiters) shared.metrics->declare_rate_limiter(r.section());
  }
  w->registry = std::make_shared<mcp::Registry>();
  w->registry->add_tool(tools::list_databases_tool(s));
  tools::add_database_tools(*w->registry, w->databases);
  if (auto llm = llm::query_client(s, w->instances, shared.metrics.get());
      llm && !w->databases->entries.empty())
    w->registry->add_tool(tools::query_tool(w->databases, llm, s.query, shared.metrics));
  w->registry->add_resource_provider(tools::database_resources(w->databases));
  w->settings = std::move(s);
  return w;
}

void watch_schemas(World &w, const std::shared_ptr<mcp::McpServer> &server) {
  std::vector<db::SchemaWatcher::Watched> watched;
  for (const auto &e : w.databases->entries) watched.push_back({e.db, e.schema});
  std::weak_ptr<mcp::McpServer> weak = server;
  w.watcher = std::make_unique<db::SchemaWatcher>(
      std::move(watched),
      [weak](const std::string &name) {
        auto live = weak.lock();
        if (!live) return;
        live->broadcast(mcp::notification("notifications/resources/list_changed", nullptr));
        live->broadcast(mcp::notification("notifications/resources/updated",
                                          {{"uri", "pgmcp://" + name + "/schema"}}));
      },
      *w.scheduler);
}

void drain(const std::vector<std::shared_ptr<pipeline::Databases>> &all,
           std::atomic<bool> &draining, std::chrono::seconds timeout, const char *why) {
  draining = true;  // /ready answers 503 from now on
  log::info("host", std::string(why) +
                        ": draining: new statements are refused and running ones "
                        "cancelled (at most " +
                        std::to_string(timeout.count()) + " s)");
  for (const auto &dbs : all)
    for (const auto &e : dbs->entries) e.db->begin_drain();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<db::Database *> dbs;
  for (const auto &d : all)
    for (const auto &e : d->entries) dbs.push_back(e.db.get());
  // Cancel, then wait for each to be idle; a statement that slipped in
  // between admission and the drain is cancelled in the next round.
  for (bool idle = false; !idle;) {
    for (auto *db : dbs) db->cancel_running();
    auto round =
        std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
    idle = true;
    for (auto *db : dbs) idle = db->wait_idle(round) && idle;
    if (!idle && std::chrono::steady_clock::now() >= deadline) {
      int running = 0;
      for (auto *db : dbs) running += db->running();
      log::warning("host", std::to_string(running) + " statement(s) still running at the deadline");
      break;
    }
  }
  // let the answers to the cancelled calls reach their clients
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  log::info("host", "drained");
}

// Says loudly what the roles behind a database may do beyond the policy.
void report_privileges(db::Database &db, db::SchemaCache &cache, const sql::SqlPolicy &policy) {
  try {
    const auto &o = policy.options();
    bool blocks = !o.blocked_tables.empty() || !o.blocked_columns.empty();
    db::Catalog empty;
    auto catalog = blocks ? cache.get() : nullptr;
    for (const auto &w : sql::privilege_warnings(db, policy, catalog ? *catalog : empty))
      log::warning("security", w);
  } catch (const db::DbError &e) {
    log::warning("security", "database '" + db.name() +
                                 "': could not check the roles' privileges: " + e.what());
  }
}

// One Database per [database.NAME]. A database that is down now is logged
// and keeps reporting its error on use; the others serve regardless.
std::shared_ptr<pipeline::Databases> open_databases(const config::Settings &s,
                                                    plugins::Instances &instances,
                                                    observability::Metrics *metrics,
                                                    std::vector<std::function<void()>> *later) {
  auto dbs = std::make_shared<pipeline::Databases>();
  for (const auto &spec : s.databases) {
    std::shared_ptr<plugins::RateLimiter> limiter;
    if (!spec.rate_limiter.empty()) limiter = instances.rate_limiters.at(spec.rate_limiter);
    auto db = std::make_shared<db::Database>(spec, instances.databases.at(spec.name), limiter,
                                             metrics, instances.replicas[spec.name]);
    auto cache = std::make_shared<db::SchemaCache>(*db);
    if (metrics != nullptr) metrics->declare_database(spec.name, sql::rule_names());
    auto policy = std::make_shared<sql::SqlPolicy>(sql::policy_options(spec.database),
                                                   spec.name);  // validated with the config
    dbs->entries.push_back({db, cache, policy});
    auto warm = [db, cache, policy, name = spec.name, schema = spec.database.schema_at_startup] {
      if (auto error = db->warm_up()) {
        log::warning("db",
                     *error + " (pg-mcp serves the other databases and retries this one on use)");
        return;
      }
      std::string loaded;
      if (schema) {
        try {
          auto catalog = cache->get();
          char ms[32];
          std::snprintf(ms, sizeof ms, "%.0f", catalog->load_ms);
          loaded = "; schema of " + std::to_string(catalog->relations.size()) +
                   " relations loaded in " + ms + " ms";
        } catch (const db::DbError &e) {
          log::warning("db", "database '" + name + "': loading the schema failed: " + e.what());
        }
      }
      report_privileges(*db, *cache, *policy);
      log::info("db", "database '" + name + "' is ready" + loaded);
    };
    if (later != nullptr)
      later->push_back(std::move(warm));
    else
      warm();
  }
  return dbs;
}

// The HTTP transport's options; throws ConfigError for an unsafe or broken setup.
mcp::HttpOptions http_options(const config::Settings &s, observability::Metrics *metrics) {
  mcp::HttpOptions o;
  o.listen = s.http_listen;
  o.path = s.http_path;
  o.allowed_origins = s.http_allowed_origins;
  o.allowed_hosts = s.http_allowed_hosts;
  o.max_body_bytes = s.http_max_body_bytes;
  o.session_idle_timeout = std::chrono::seconds(s.http_session_idle_timeout_s);
  o.max_sessions = s.http_max_sessions;
  o.limits.metrics = metrics;
  o.limits.max_threads = s.http_max_threads;
  o.limits.max_connections = s.http_max_connections;
  o.limits.max_connections_per_client = s.http_max_connections_per_client;
  o.limits.max_queued = s.http_max_queued;
  o.limits.header_timeout = std::chrono::milliseconds(s.http_header_timeout_ms);
  o.limits.body_timeout = std::chrono::milliseconds(s.http_body_timeout_ms);
  o.limits.idle_timeout = std::chrono::milliseconds(s.http_idle_timeout_ms);
  o.limits.write_timeout = std::chrono::milliseconds(s.http_write_timeout_ms);
  o.tls_cert = s.http_tls_cert;
  o.tls_key = s.http_tls_key;
  // Each connection is a descriptor: take what the hard limit allows, and
  // keep room for the databases' connections, plugins and logs.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &files);
      ::getrlimit(RLIMIT_NOFILE, &files);
    }
    std::size_t room = files.rlim_cur > 256 ? static_cast<std::size_t>(files.rlim_cur) - 256 : 8;
    if (o.limits.max_connections > room) {
      log::warning("http", "http.max_connections = " + std::to_string(o.limits.max_connections) +
                               " exceeds what the open-file limit allows; using " +
                               std::to_string(room) + " (raise ulimit -n)");
      o.limits.max_connections = room;
    }
  }
  if (s.transport == config::Transport::http && s.auth.mode == config::AuthMode::none &&
      !s.http_listen.loopback()) {
    throw config::ConfigError({s.config_path + ": auth.mode = none is refused on " +
                               s.http_listen.text() +
                               ": without authentication pg-mcp listens on loopback only. "
                               "Set [auth] mode = bearer or jwt, "
                               "or http.listen = 127.0.0.1:PORT"});
  }
  try {
    o.auth = mcp::make_authenticator(s.auth);
  } catch (const std::exception &e) {
    throw config::ConfigError({s.config_path + ": auth: " + e.what()});
  }
  return o;
}

}  // namespace pgmcp::app
