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
#include <cmath>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include "app/world.hpp"
#include "config/keys.hpp"
#include "config/settings.hpp"
#include "core/scheduler.hpp"
#include "db/database.hpp"
#include "db/schema.hpp"
#include "db/schema_watcher.hpp"
#include "llm/providers.hpp"
#include "log/log.hpp"
#include "mcp/auth.hpp"
#include "mcp/http_transport.hpp"
#include "mcp/request_state.hpp"
#include "mcp/server.hpp"
#include "mcp/stdio_transport.hpp"
#include "observability/metrics.hpp"
#include "ops/server.hpp"
#include "pipeline/databases.hpp"
#include "pipeline/vocabulary.hpp"
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
    options.addOption(Option("config-reference", "",
                             "print the configuration reference (every key, what it accepts, "
                             "its default) as Markdown and exit"));
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
    else if (name == "config-reference")
      action_ = Action::config_reference;
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
      case Action::config_reference:
        std::cout << pgmcp::config::reference_markdown();
        return EXIT_OK;
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
  enum class Action { serve, check_config, list_plugins, version, help, grants, config_reference };

  int help() {
    Poco::Util::HelpFormatter f(options());
    f.setCommand("pg-mcp");
    f.setUsage("[--config FILE] [--check-config | --list-plugins | --version | --help]");
    f.setHeader(
        "An MCP server for PostgreSQL. Logs go to stderr; with the stdio transport, stdout carries "
        "only MCP messages.");
    f.setFooter(pgmcp::config::help_summary());
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
    if (auto why = pgmcp::log::audit_to(s.audit_file))
      throw pgmcp::config::ConfigError({"[server] audit_file: " + *why});
    set_state_key(s);
    load_plugins(s);
    return s;
  }

  // The requestState sealing key from [server]; never echoed in an error.
  static void set_state_key(const pgmcp::config::Settings &s) {
    if (!s.request_state_key.empty() && !s.request_state_key_file.empty())
      throw pgmcp::config::ConfigError(
          {"[server] request_state_key and request_state_key_file: set at most one"});
    std::string secret = s.request_state_key;
    if (!s.request_state_key_file.empty()) {
      std::ifstream in(s.request_state_key_file, std::ios::binary);
      if (!in)
        throw pgmcp::config::ConfigError(
            {"[server] request_state_key_file: cannot read " + s.request_state_key_file});
      secret.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      auto blank = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
      while (!secret.empty() && blank(secret.back())) secret.pop_back();
      size_t first = 0;
      while (first < secret.size() && blank(secret[first])) ++first;
      secret.erase(0, first);
    }
    try {
      pgmcp::mcp::set_request_state_key(secret);
    } catch (const std::invalid_argument &e) {
      throw pgmcp::config::ConfigError({std::string("[server] request_state_key: ") + e.what()});
    }
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
      pgmcp::app::http_options(s, metrics_.get());
      // Connects to each database to say what its roles may do beyond the policy.
      auto databases = pgmcp::app::open_databases(s, instances, metrics_.get());
      if (s.query.vocabulary)
        if (auto problems = pgmcp::pipeline::check_examples(*s.query.vocabulary, *databases);
            !problems.empty())
          throw pgmcp::config::ConfigError(std::move(problems));
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

  // SIGHUP: the file is read and validated again; on success its databases,
  // policies, limits and LLMs serve every new call, and sessions stay. A file
  // that fails validation changes nothing.
  void reload(pgmcp::app::Worlds &worlds, const std::shared_ptr<pgmcp::mcp::McpServer> &server) {
    if (config_path_.empty()) {
      pgmcp::log::warning("host", "SIGHUP: there is no --config file to reload; nothing changed");
      return;
    }
    auto old = worlds.get();
    try {
      auto s = settings();
      pgmcp::llm::add_client_model(s, registry_);
      if (s.transport == pgmcp::config::Transport::http)
        pgmcp::app::http_options(s, metrics_.get());  // validates [auth]
      auto fixed = pgmcp::config::restart_keys_changed(old->settings, s);
      auto next = pgmcp::app::build_world(std::move(s), shared());
      pgmcp::app::watch_schemas(*next, server);
      pgmcp::log::configure(next->settings.log_level, next->settings.log_format);
      if (auto why = pgmcp::log::audit_to(next->settings.audit_file))
        pgmcp::log::warning("host", "SIGHUP: " + *why + "; audit records go where they went");
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
    auto worlds = std::make_shared<pgmcp::app::Worlds>();
    pgmcp::mcp::HttpOptions http;
    try {
      auto s = configured();
      pgmcp::llm::add_client_model(s, registry_);
      if (s.transport == pgmcp::config::Transport::http)
        http = pgmcp::app::http_options(s, metrics_.get());
      worlds->current = pgmcp::app::build_world(std::move(s), shared());
    } catch (const pgmcp::config::ConfigError &e) {
      std::cerr << e.what() << "\n";
      return kExitConfig;
    }
    auto first = worlds->current;  // what start-up needs of it outlives a reload
    const pgmcp::config::Settings &s = first->settings;
    auto server = std::make_shared<pgmcp::mcp::McpServer>(server_info(), worlds->current->registry);
    pgmcp::app::watch_schemas(*worlds->current, server);
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
        pgmcp::app::drain(worlds->all_databases(), *draining,
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

  // /metrics, /health and /ready. A port already taken is reported and MCP
  // goes on being served: several stdio servers may share one default.
  std::unique_ptr<pgmcp::ops::ObservabilityServer> start_observability(
      const pgmcp::config::Settings &s, std::shared_ptr<pgmcp::app::Worlds> worlds,
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
        auto &entry = out[e.db->name()] =
            error ? pgmcp::json{{"ok", false}, {"error", *error}} : pgmcp::json{{"ok", true}};
        // Replicas are reported, not required: reads fall back to the primary.
        for (const auto &r : e.db->replicas()) {
          pgmcp::json j{{"name", r.label}, {"ok", r.healthy}};
          if (r.lag_ms >= 0) j["lag_ms"] = std::round(r.lag_ms);
          if (!r.healthy) j["problem"] = r.problem;
          entry["replicas"].push_back(std::move(j));
        }
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
  pgmcp::app::Shared shared() { return {&registry_, metrics_, scheduler_}; }

  // The process's metrics, handed to what counts.
  std::shared_ptr<pgmcp::observability::Metrics> metrics_ =
      std::make_shared<pgmcp::observability::Metrics>();
  // Background work of every world: session expiry, schema refreshes.
  std::shared_ptr<pgmcp::core::Scheduler> scheduler_ = std::make_shared<pgmcp::core::Scheduler>();
};

}  // namespace

int main(int argc, char **argv) {
  // Answers up to 4 MiB (max_result_bytes' default) are served from the heap
  // and their memory is reused by the next call: mapping and unmapping them
  // every call cost hundreds of page faults and half the CPU of a 1,000-row
  // call. The heap gives memory back past 64 MiB free at its top; larger
  // buffers are still mapped and returned at once. Fewer arenas keep what
  // many worker threads free from piling up.
  mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
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
