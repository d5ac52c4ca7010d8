// pg-mcp: the MCP server for PostgreSQL.
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include "config/settings.hpp"
#include "core/scheduler.hpp"
#include "db/database.hpp"
#include "db/schema.hpp"
#include "db/schema_watcher.hpp"
#include "llm/providers.hpp"
#include "log/log.hpp"
#include "mcp/auth.hpp"
#include "mcp/http_transport.hpp"
#include "mcp/server.hpp"
#include "mcp/stdio_transport.hpp"
#include "observability/metrics.hpp"
#include "ops/server.hpp"
#include "pipeline/databases.hpp"
#include "plugins/instances.hpp"
#include "plugins/loader.hpp"
#include "sql/privileges.hpp"
#include "tools/tools.hpp"

namespace {

using Poco::Util::Option;
using Poco::Util::OptionSet;

// Exit codes: 0 ok, 1 bad config or refused start, 2 bad usage.
constexpr int kExitConfig = 1;
constexpr int kExitUsage = 2;

class PgMcpApp : public Poco::Util::ServerApplication {
 protected:
  // Not ServerApplication's own options: --daemon and --pidfile have no place
  // in a stdio server, and service managers supervise the HTTP one.
  void defineOptions(OptionSet &options) override {
    Application::defineOptions(options);
    options.addOption(Option("config", "c", "read the configuration from FILE (*.ini or *.json)")
                          .required(false)
                          .repeatable(false)
                          .argument("FILE"));
    options.addOption(
        Option("check-config", "",
               "validate the configuration (and load its plugins) and exit: 0 if valid, 1 if not"));
    options.addOption(
        Option("list-plugins", "", "list the plugins found in the plugin folder and exit"));
    options.addOption(Option("grants", "",
                             "print the SQL for a NOLOGIN reader role that may read exactly what "
                             "the policy of database NAME allows, and exit")
                          .argument("NAME"));
    options.addOption(Option("grants-role", "",
                             "the reader role --grants creates (default: the database's role, "
                             "else pgmcp_NAME_reader)")
                          .argument("ROLE"));
    options.addOption(Option("apply", "", "with --grants: run the SQL instead of printing it"));
    options.addOption(Option("version", "v", "print the version and exit"));
    options.addOption(Option("help", "h", "print this help and exit"));
  }

  void handleOption(const std::string &name, const std::string &value) override {
    ServerApplication::handleOption(name, value);
    if (name == "config")
      config_path_ = value;
    else if (name == "check-config")
      action_ = Action::check_config;
    else if (name == "list-plugins")
      action_ = Action::list_plugins;
    else if (name == "grants") {
      action_ = Action::grants;
      grants_database_ = value;
    } else if (name == "grants-role")
      grants_role_ = value;
    else if (name == "apply")
      apply_ = true;
    else if (name == "version")
      action_ = Action::version;
    else if (name == "help")
      action_ = Action::help;
  }

  int main(const std::vector<std::string> &args) override {
    if (!args.empty()) {
      std::cerr << "pg-mcp: unexpected argument '" << args.front() << "' (see pg-mcp --help)\n";
      return kExitUsage;
    }
    switch (action_) {
      case Action::help:
        return help();
      case Action::version:
        std::cout << "pg-mcp " << PGMCP_VERSION << " (plugin ABI " << PGMCP_ABI_MAJOR << "."
                  << PGMCP_ABI_MINOR << ")\n";
        return EXIT_OK;
      case Action::list_plugins:
        return list_plugins();
      case Action::check_config:
        return check_config();
      case Action::grants:
        return grants();
      case Action::serve:
        return serve();
    }
    return EXIT_OK;
  }

 private:
  enum class Action { serve, check_config, list_plugins, version, help, grants };

  int help() {
    Poco::Util::HelpFormatter f(options());
    f.setCommand("pg-mcp");
    f.setUsage("[--config FILE] [--check-config | --list-plugins | --version | --help]");
    f.setHeader(
        "An MCP server for PostgreSQL. Logs go to stderr; with the stdio transport, stdout carries "
        "only MCP messages.");
    f.setUnixStyle(true);
    f.format(std::cout);
    return EXIT_OK;
  }

  // Reads and validates the config file (or the defaults without one).
  pgmcp::config::Settings settings() {
    if (config_path_.empty()) return pgmcp::config::default_settings();
    auto file = pgmcp::config::load_config_file(config_path_);
    return pgmcp::config::load_settings(file, pgmcp::config::process_environment());
  }

  // The settings, with logging set up and the plugin folder loaded. Throws
  // ConfigError.
  pgmcp::config::Settings configured() {
    auto s = settings();
    pgmcp::log::configure(s.log_level, s.log_format);
    load_plugins(s);
    return s;
  }

  // Whether --config was given to an option that needs it; says so if not.
  bool has_config(const char *option) {
    if (!config_path_.empty()) return true;
    std::cerr << "pg-mcp: " << option << " needs --config FILE\n";
    return false;
  }

  std::filesystem::path plugin_dir(const pgmcp::config::Settings &s) {
    return s.plugin_dir.empty() ? pgmcp::plugins::default_plugin_dir()
                                : std::filesystem::path(s.plugin_dir);
  }

  // Loads the plugin folder; each refused file is reported and skipped.
  std::vector<pgmcp::plugins::LoadProblem> load_plugins(const pgmcp::config::Settings &s) {
    auto problems = registry_.load_directory(plugin_dir(s));
    for (const auto &p : problems) pgmcp::log::warning("host", "plugin refused: " + p.message());
    return problems;
  }

  int list_plugins() {
    pgmcp::config::Settings s;
    try {
      s = configured();
    } catch (const pgmcp::config::ConfigError &e) {
      std::cerr << e.what() << "\n";
      return kExitConfig;
    }
    std::printf("%-20s %-16s %-10s %-5s %s\n", "ID", "KIND", "VERSION", "ABI", "FILE");
    for (const auto &lib : registry_.list()) {
      const auto &i = lib->info();
      std::string abi = std::to_string(i.abi_major) + "." + std::to_string(i.abi_minor);
      std::printf("%-20s %-16s %-10s %-5s %s\n", i.id.c_str(), i.kinds().c_str(), i.version.c_str(),
                  abi.c_str(), i.file.string().c_str());
    }
    return EXIT_OK;
  }

  int check_config() {
    if (!has_config("--check-config")) return kExitUsage;
    try {
      auto s = configured();
      pgmcp::llm::add_client_model(s, registry_);
      auto instances = pgmcp::plugins::create_instances(s, registry_);
      http_options(s);
      // Connects to each database to say what its roles may do beyond the policy.
      auto databases = open_databases(s, instances);
      std::cout << config_path_ << ": OK (" << s.rate_limiters.size() << " rate limiter(s), "
                << s.databases.size() << " database(s), " << s.llms.size()
                << " LLM(s); plugins: " << registry_.ids() << ")\n";
      return EXIT_OK;
    } catch (const pgmcp::config::ConfigError &e) {
      std::cerr << e.what() << "\n";
      return kExitConfig;
    }
  }

  int grants() {
    if (!has_config("--grants")) return kExitUsage;
    try {
      auto s = configured();
      auto it = std::find_if(s.databases.begin(), s.databases.end(),
                             [&](const auto &d) { return d.name == grants_database_; });
      if (it == s.databases.end()) {
        std::cerr << "pg-mcp: --grants: no [database." << grants_database_ << "] in "
                  << config_path_ << "\n";
        return kExitUsage;
      }
      std::string role = !grants_role_.empty()        ? grants_role_
                         : !it->database.role.empty() ? it->database.role
                                                      : "pgmcp_" + it->name + "_reader";
      // The role may not exist yet: read the catalog as the login role.
      it->database.role.clear();
      auto instances = pgmcp::plugins::create_instances(s, registry_);
      pgmcp::db::Database db(*it, instances.databases.at(it->name), nullptr);
      pgmcp::db::SchemaCache cache(db);
      pgmcp::sql::SqlPolicy policy(pgmcp::sql::policy_options(it->database), it->name);
      auto catalog = cache.get();
      auto login =
          nlohmann::json::parse(db.internal("SELECT session_user::text", {1, 1024}).rows_json);
      auto statements = pgmcp::sql::reader_role_sql(policy, *catalog, role, login[0][0]);
      if (!apply_) {
        std::cout << "-- pg-mcp --grants " << it->name << ": a NOLOGIN role that may read "
                  << "exactly what the policy allows.\n-- Then set role = " << role
                  << " in [database." << it->name << "].\n";
        for (const auto &sql : statements) std::cout << sql << ";\n";
        return EXIT_OK;
      }
      for (const auto &sql : statements) db.administer(sql);
      std::cerr << "pg-mcp: role '" << role << "' now reads what the policy of database '"
                << it->name << "' allows (" << statements.size()
                << " statements); set role = " << role << " in [database." << it->name << "]\n";
      return EXIT_OK;
    } catch (const pgmcp::config::ConfigError &e) {
      std::cerr << e.what() << "\n";
      return kExitConfig;
    } catch (const pgmcp::db::DbError &e) {
      std::cerr << "pg-mcp: --grants: " << e.describe() << "\n";
      return kExitConfig;
    }
  }

  // What one configuration builds and a reload replaces: the plugin
  // instances, the databases and the tools over them. Calls in flight keep
  // the one they started with until they end.
  struct World {
    pgmcp::config::Settings settings;
    pgmcp::plugins::Instances instances;
    std::shared_ptr<pgmcp::pipeline::Databases> databases;
    std::shared_ptr<pgmcp::mcp::Registry> registry;
    std::shared_ptr<pgmcp::core::Scheduler> scheduler;  // outlives the watcher
    std::unique_ptr<pgmcp::db::SchemaWatcher> watcher;  // last: stopped first
  };

  // The current world, and the databases of replaced ones still in use (a
  // drain must cancel their statements too).
  struct Worlds {
    std::mutex mutex;
    std::shared_ptr<World> current;
    std::vector<std::weak_ptr<pgmcp::pipeline::Databases>> retired;
    std::shared_ptr<World> get() {
      std::lock_guard lock(mutex);
      return current;
    }
    void replace(std::shared_ptr<World> next) {
      std::lock_guard lock(mutex);
      if (current) retired.push_back(current->databases);
      current = std::move(next);
    }
    std::vector<std::shared_ptr<pgmcp::pipeline::Databases>> all_databases() {
      std::lock_guard lock(mutex);
      std::vector<std::shared_ptr<pgmcp::pipeline::Databases>> out{current->databases};
      for (const auto &w : retired)
        if (auto d = w.lock()) out.push_back(d);
      return out;
    }
  };

  // Builds a world from settings. Throws ConfigError (instances the plugins
  // refuse); a database that is down is logged and served with its error.
  std::shared_ptr<World> build_world(pgmcp::config::Settings s) {
    auto w = std::make_shared<World>();
    w->scheduler = scheduler_;
    w->instances = pgmcp::plugins::create_instances(s, registry_);
    w->databases = open_databases(s, w->instances);
    w->registry = std::make_shared<pgmcp::mcp::Registry>();
    w->registry->add_tool(pgmcp::tools::list_databases_tool(s));
    pgmcp::tools::add_database_tools(*w->registry, w->databases);
    if (auto llm = pgmcp::llm::query_client(s, w->instances, metrics_.get());
        llm && !w->databases->entries.empty())
      w->registry->add_tool(pgmcp::tools::query_tool(w->databases, llm, s.query, metrics_));
    w->registry->add_resource_provider(pgmcp::tools::database_resources(w->databases));
    w->settings = std::move(s);
    return w;
  }

  static void watch_schemas(World &w, const std::shared_ptr<pgmcp::mcp::McpServer> &server) {
    std::vector<pgmcp::db::SchemaWatcher::Watched> watched;
    for (const auto &e : w.databases->entries) watched.push_back({e.db, e.schema});
    std::weak_ptr<pgmcp::mcp::McpServer> weak = server;
    w.watcher = std::make_unique<pgmcp::db::SchemaWatcher>(
        std::move(watched),
        [weak](const std::string &name) {
          auto live = weak.lock();
          if (!live) return;
          live->broadcast(
              pgmcp::mcp::notification("notifications/resources/list_changed", nullptr));
          live->broadcast(pgmcp::mcp::notification("notifications/resources/updated",
                                                   {{"uri", "pgmcp://" + name + "/schema"}}));
        },
        *w.scheduler);
  }

  // Settings a running server cannot take over: they need a restart.
  static std::vector<std::string> restart_only(const pgmcp::config::Settings &a,
                                               const pgmcp::config::Settings &b) {
    std::vector<std::string> keys;
    auto differ = [&](bool changed, const char *key) {
      if (changed) keys.push_back(key);
    };
    differ(a.transport != b.transport, "server.transport");
    differ(a.plugin_dir != b.plugin_dir, "server.plugin_dir");
    differ(a.http_listen.text() != b.http_listen.text(), "http.listen");
    differ(a.http_path != b.http_path, "http.path");
    differ(a.http_allowed_origins != b.http_allowed_origins, "http.allowed_origins");
    differ(a.http_allowed_hosts != b.http_allowed_hosts, "http.allowed_hosts");
    differ(a.http_max_body_bytes != b.http_max_body_bytes ||
               a.http_max_threads != b.http_max_threads ||
               a.http_max_connections != b.http_max_connections ||
               a.http_max_connections_per_client != b.http_max_connections_per_client ||
               a.http_max_queued != b.http_max_queued ||
               a.http_header_timeout_ms != b.http_header_timeout_ms ||
               a.http_body_timeout_ms != b.http_body_timeout_ms ||
               a.http_idle_timeout_ms != b.http_idle_timeout_ms ||
               a.http_write_timeout_ms != b.http_write_timeout_ms ||
               a.http_max_sessions != b.http_max_sessions ||
               a.http_session_idle_timeout_s != b.http_session_idle_timeout_s,
           "http limits");
    differ(a.http_tls_cert != b.http_tls_cert || a.http_tls_key != b.http_tls_key,
           "http.tls_cert/tls_key");
    differ(a.auth.mode != b.auth.mode || a.auth.tokens != b.auth.tokens ||
               a.auth.issuer != b.auth.issuer || a.auth.audiences != b.auth.audiences ||
               a.auth.jwks_file != b.auth.jwks_file || a.auth.jwks_url != b.auth.jwks_url ||
               a.auth.resource != b.auth.resource ||
               a.auth.required_scopes != b.auth.required_scopes,
           "[auth]");
    differ((a.observability_listen ? a.observability_listen->text() : "") !=
               (b.observability_listen ? b.observability_listen->text() : ""),
           "observability.listen");
    return keys;
  }

  // SIGHUP: the file is read and validated again; on success its databases,
  // policies, limits and LLMs serve every new call, and sessions stay. A file
  // that fails validation changes nothing.
  void reload(Worlds &worlds, const std::shared_ptr<pgmcp::mcp::McpServer> &server) {
    if (config_path_.empty()) {
      pgmcp::log::warning("host", "SIGHUP: there is no --config file to reload; nothing changed");
      return;
    }
    auto old = worlds.get();
    try {
      auto s = settings();
      pgmcp::llm::add_client_model(s, registry_);
      if (s.transport == pgmcp::config::Transport::http) http_options(s);  // validates [auth]
      auto fixed = restart_only(old->settings, s);
      auto next = build_world(std::move(s));
      watch_schemas(*next, server);
      pgmcp::log::configure(next->settings.log_level, next->settings.log_format);
      worlds.replace(next);
      server->replace_registry(next->registry);
      std::string note;
      for (const auto &k : fixed) note += (note.empty() ? "" : ", ") + k;
      pgmcp::log::info("host", "SIGHUP: reloaded " + config_path_ + " (" +
                                   std::to_string(next->settings.databases.size()) +
                                   " database(s), " + std::to_string(next->settings.llms.size()) +
                                   " LLM(s)); new calls use it, sessions are kept");
      if (!note.empty())
        pgmcp::log::warning(
            "host", "SIGHUP: " + note + " changed; that takes a restart, the running values stay");
    } catch (const pgmcp::config::ConfigError &e) {
      pgmcp::log::error("host", std::string("SIGHUP: the configuration is refused, and the one "
                                            "loaded before goes on serving: ") +
                                    e.what());
    } catch (const std::exception &e) {
      pgmcp::log::error("host", std::string("SIGHUP: reloading failed, and the configuration "
                                            "loaded before goes on serving: ") +
                                    e.what());
    }
  }

  int serve() {
    // SIGTERM and SIGINT drain, SIGHUP reloads: one thread takes them all
    // (sigwait), so they are blocked here, before any other thread exists.
    sigset_t signals;
    sigemptyset(&signals);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    auto worlds = std::make_shared<Worlds>();
    pgmcp::mcp::HttpOptions http;
    try {
      auto s = configured();
      pgmcp::llm::add_client_model(s, registry_);
      if (s.transport == pgmcp::config::Transport::http) http = http_options(s);
      worlds->current = build_world(std::move(s));
    } catch (const pgmcp::config::ConfigError &e) {
      std::cerr << e.what() << "\n";
      return kExitConfig;
    }
    auto first = worlds->current;  // what start-up needs of it outlives a reload
    const pgmcp::config::Settings &s = first->settings;
    auto server = std::make_shared<pgmcp::mcp::McpServer>(server_info(), worlds->current->registry);
    watch_schemas(*worlds->current, server);
    auto draining = std::make_shared<std::atomic<bool>>(false);
    auto observability = start_observability(s, worlds, draining);
    std::promise<void> stop;
    bool stdio = s.transport == pgmcp::config::Transport::stdio;
    std::thread([this, signals, worlds, server, draining, &stop, stdio] {
      for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0) continue;
        if (sig == SIGHUP) {
          reload(*worlds, server);
          continue;
        }
        drain(worlds->all_databases(), *draining,
              std::chrono::seconds(worlds->get()->settings.shutdown_timeout_s),
              sig == SIGINT ? "SIGINT" : "SIGTERM");
        if (stdio) {  // the reader of standard input cannot be woken: leave now
          std::fflush(nullptr);
          std::_Exit(EXIT_OK);
        }
        stop.set_value();
        return;
      }
    }).detach();
    if (stdio) {
      pgmcp::log::info("host", "pg-mcp " PGMCP_VERSION " serving MCP on stdio (plugins: " +
                                   registry_.ids() + ")");
      pgmcp::mcp::serve_stdio(*server, STDIN_FILENO, STDOUT_FILENO);
      return EXIT_OK;
    }
    pgmcp::mcp::HttpTransport transport(*server, http, *scheduler_);
    try {
      transport.start();
    } catch (const std::exception &e) {
      std::cerr << "pg-mcp: " << e.what() << "\n";
      return kExitConfig;
    }
    pgmcp::log::info("host", "pg-mcp " PGMCP_VERSION " serving MCP at " + transport.url() +
                                 " (plugins: " + registry_.ids() + ")");
    stop.get_future().wait();
    pgmcp::log::info("host", "stopping");
    transport.stop();
    return EXIT_OK;
  }

  // Refuses new statements, cancels the running ones in PostgreSQL (their
  // callers are told why), and waits for them to end, at most `timeout`.
  static void drain(const std::vector<std::shared_ptr<pgmcp::pipeline::Databases>> &all,
                    std::atomic<bool> &draining, std::chrono::seconds timeout, const char *why) {
    draining = true;  // /ready answers 503 from now on
    pgmcp::log::info("host", std::string(why) +
                                 ": draining: new statements are refused and running ones "
                                 "cancelled (at most " +
                                 std::to_string(timeout.count()) + " s)");
    for (const auto &dbs : all)
      for (const auto &e : dbs->entries) e.db->begin_drain();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (int round = 0;; ++round) {
      int running = 0;
      for (const auto &dbs : all) {
        for (const auto &e : dbs->entries) {
          if (round % 25 == 0) e.db->cancel_running();  // again, in case one slipped in
          running += e.db->running();
        }
      }
      if (running == 0 || std::chrono::steady_clock::now() >= deadline) {
        if (running > 0)
          pgmcp::log::warning(
              "host", std::to_string(running) + " statement(s) still running at the deadline");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // let the answers to the cancelled calls reach their clients
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pgmcp::log::info("host", "drained");
  }

  // /metrics, /health and /ready. A port already taken is reported and MCP
  // goes on being served: several stdio servers may share one default.
  std::unique_ptr<pgmcp::ops::ObservabilityServer> start_observability(
      const pgmcp::config::Settings &s, std::shared_ptr<Worlds> worlds,
      std::shared_ptr<std::atomic<bool>> draining) {
    if (!s.observability_listen) return nullptr;
    pgmcp::ops::Probes probes;
    probes.metrics = metrics_;
    probes.before_scrape = [worlds, metrics = metrics_] {
      auto &m = *metrics;
      auto dbs = worlds->get()->databases;
      for (const auto &e : dbs->entries) {
        auto st = e.db->stats();
        m.pool(e.db->name(), st.idle, st.busy, st.max);
        m.schema_age(e.db->name(), e.schema->age_seconds());
      }
    };
    probes.readiness = [worlds, draining] {
      if (*draining) return pgmcp::json{{"ready", false}, {"draining", true}};
      auto dbs = worlds->get()->databases;
      pgmcp::json out = pgmcp::json::object();
      bool ready = true;
      // Every database is probed at once, and the answer comes within
      // kReadyWithin whatever the servers do.
      constexpr auto kReadyWithin = std::chrono::milliseconds(2000);
      auto deadline = std::chrono::steady_clock::now() + kReadyWithin;
      for (const auto &e : dbs->entries) e.db->check(std::chrono::milliseconds(0));
      for (const auto &e : dbs->entries) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        auto error = e.db->check(std::max(left, std::chrono::milliseconds(0)));
        ready = ready && !error;
        out[e.db->name()] =
            error ? pgmcp::json{{"ok", false}, {"error", *error}} : pgmcp::json{{"ok", true}};
      }
      return pgmcp::json{{"ready", ready}, {"databases", out}};
    };
    auto server =
        std::make_unique<pgmcp::ops::ObservabilityServer>(*s.observability_listen, probes);
    try {
      server->start();
      pgmcp::log::info("host",
                       "metrics and health at " + server->url() + " (/metrics, /health, /ready)");
      return server;
    } catch (const std::exception &e) {
      pgmcp::log::warning("host", std::string(e.what()) + "; serving MCP without it");
      return nullptr;
    }
  }

  // Says loudly what the roles behind a database may do beyond the policy.
  static void report_privileges(pgmcp::db::Database &db, pgmcp::db::SchemaCache &cache,
                                const pgmcp::sql::SqlPolicy &policy) {
    try {
      const auto &o = policy.options();
      bool blocks = !o.blocked_tables.empty() || !o.blocked_columns.empty();
      pgmcp::db::Catalog empty;
      auto catalog = blocks ? cache.get() : nullptr;
      for (const auto &w : pgmcp::sql::privilege_warnings(db, policy, catalog ? *catalog : empty))
        pgmcp::log::warning("security", w);
    } catch (const pgmcp::db::DbError &e) {
      pgmcp::log::warning("security", "database '" + db.name() +
                                          "': could not check the roles' privileges: " + e.what());
    }
  }

  // One Database per [database.NAME]. A database that is down now is logged
  // and keeps reporting its error on use; the others serve regardless.
  std::shared_ptr<pgmcp::pipeline::Databases> open_databases(const pgmcp::config::Settings &s,
                                                             pgmcp::plugins::Instances &instances) {
    auto dbs = std::make_shared<pgmcp::pipeline::Databases>();
    for (const auto &spec : s.databases) {
      std::shared_ptr<pgmcp::plugins::RateLimiter> limiter;
      if (!spec.rate_limiter.empty()) limiter = instances.rate_limiters.at(spec.rate_limiter);
      auto db = std::make_shared<pgmcp::db::Database>(spec, instances.databases.at(spec.name),
                                                      limiter, metrics_.get());
      auto cache = std::make_shared<pgmcp::db::SchemaCache>(*db);
      bool up = true;
      if (auto error = db->warm_up()) {
        up = false;
        pgmcp::log::warning(
            "db", *error + " (pg-mcp serves the other databases and retries this one on use)");
      } else if (spec.database.schema_at_startup) {
        try {
          cache->get();
        } catch (const pgmcp::db::DbError &e) {
          pgmcp::log::warning(
              "db", "database '" + spec.name + "': loading the schema failed: " + e.what());
        }
      }
      auto policy = std::make_shared<pgmcp::sql::SqlPolicy>(
          pgmcp::sql::policy_options(spec.database), spec.name);  // validated with the config
      if (up) report_privileges(*db, *cache, *policy);
      dbs->entries.push_back({db, cache, policy});
    }
    return dbs;
  }

  // The HTTP transport's options; throws ConfigError for an unsafe or broken setup.
  pgmcp::mcp::HttpOptions http_options(const pgmcp::config::Settings &s) {
    pgmcp::mcp::HttpOptions o;
    o.listen = s.http_listen;
    o.path = s.http_path;
    o.allowed_origins = s.http_allowed_origins;
    o.allowed_hosts = s.http_allowed_hosts;
    o.max_body_bytes = s.http_max_body_bytes;
    o.session_idle_timeout = std::chrono::seconds(s.http_session_idle_timeout_s);
    o.max_sessions = s.http_max_sessions;
    o.limits.metrics = metrics_.get();
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
        pgmcp::log::warning(
            "http", "http.max_connections = " + std::to_string(o.limits.max_connections) +
                        " exceeds what the open-file limit allows; using " + std::to_string(room) +
                        " (raise ulimit -n)");
        o.limits.max_connections = room;
      }
    }
    if (s.transport == pgmcp::config::Transport::http &&
        s.auth.mode == pgmcp::config::AuthMode::none && !s.http_listen.loopback()) {
      throw pgmcp::config::ConfigError({s.config_path + ": auth.mode = none is refused on " +
                                        s.http_listen.text() +
                                        ": without authentication pg-mcp listens on loopback only. "
                                        "Set [auth] mode = bearer or jwt, "
                                        "or http.listen = 127.0.0.1:PORT"});
    }
    try {
      o.auth = pgmcp::mcp::make_authenticator(s.auth);
    } catch (const std::exception &e) {
      throw pgmcp::config::ConfigError({s.config_path + ": auth: " + e.what()});
    }
    return o;
  }

  static pgmcp::mcp::ServerInfo server_info() {
    pgmcp::mcp::ServerInfo info;
    info.instructions =
        "pg-mcp gives read-only access to PostgreSQL databases. Start with list_databases to "
        "see which databases exist and what each holds.";
    return info;
  }

  std::string config_path_;
  std::string grants_database_, grants_role_;
  bool apply_ = false;
  Action action_ = Action::serve;
  pgmcp::plugins::PluginRegistry registry_;
  // The process's metrics, handed to what counts.
  std::shared_ptr<pgmcp::observability::Metrics> metrics_ =
      std::make_shared<pgmcp::observability::Metrics>();
  // Background work of every world: session expiry, schema refreshes.
  std::shared_ptr<pgmcp::core::Scheduler> scheduler_ = std::make_shared<pgmcp::core::Scheduler>();
};

}  // namespace

int main(int argc, char **argv) {
  // Large buffers (a big row, a big response) go back to the system when
  // freed instead of staying in the heap; and fewer arenas keep what many
  // worker threads free from piling up.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_ARENA_MAX, 4);
  PgMcpApp app;
  try {
    // init() parses the options; ServerApplication::run(argc, argv) would turn
    // a bad option into a log line and exit code 78.
    app.init(argc, argv);
    return static_cast<Poco::Util::Application &>(app).run();
  } catch (const Poco::Exception &e) {
    std::cerr << "pg-mcp: " << e.displayText() << " (see pg-mcp --help)\n";
    return kExitUsage;
  } catch (const std::exception &e) {
    std::cerr << "pg-mcp: " << e.what() << "\n";
    return kExitUsage;
  }
}
