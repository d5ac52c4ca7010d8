// What one configuration builds (a World) and what the process keeps across
// reloads (Worlds), with the steps main takes to build, watch, serve over
// HTTP and drain them.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "config/settings.hpp"
#include "core/scheduler.hpp"
#include "db/database.hpp"
#include "db/schema.hpp"
#include "db/schema_watcher.hpp"
#include "mcp/http_transport.hpp"
#include "mcp/registry.hpp"
#include "mcp/server.hpp"
#include "observability/metrics.hpp"
#include "pipeline/databases.hpp"
#include "plugins/instances.hpp"
#include "plugins/loader.hpp"
#include "sql/policy.hpp"

namespace pgmcp::app {

// What every world shares with the process.
struct Shared {
  plugins::PluginRegistry *plugins = nullptr;
  std::shared_ptr<observability::Metrics> metrics;
  std::shared_ptr<core::Scheduler> scheduler;
};

// What one configuration builds and a reload replaces: the plugin
// instances, the databases and the tools over them. Calls in flight keep
// the one they started with until they end.
struct World {
  config::Settings settings;
  plugins::Instances instances;
  std::shared_ptr<pipeline::Databases> databases;
  std::shared_ptr<mcp::Registry> registry;
  std::shared_ptr<core::Scheduler> scheduler;  // outlives the watcher
  std::unique_ptr<db::SchemaWatcher> watcher;  // last: stopped first
  // Connects to each database, loads its schema and reports its roles'
  // privileges, after start-up has answered: joined when the world goes.
  std::thread warming;
  ~World() {
    if (warming.joinable()) warming.join();
  }
};

// The current world, and the databases of replaced ones still in use (a
// drain must cancel their statements too).
struct Worlds {
  std::mutex mutex;
  std::shared_ptr<World> current;
  std::vector<std::weak_ptr<pipeline::Databases>> retired;
  std::shared_ptr<World> get() {
    std::lock_guard lock(mutex);
    return current;
  }
  void replace(std::shared_ptr<World> next) {
    std::lock_guard lock(mutex);
    if (current) retired.push_back(current->databases);
    current = std::move(next);
  }
  std::vector<std::shared_ptr<pipeline::Databases>> all_databases() {
    std::lock_guard lock(mutex);
    std::vector<std::shared_ptr<pipeline::Databases>> out{current->databases};
    for (const auto &w : retired)
      if (auto d = w.lock()) out.push_back(d);
    return out;
  }
};

// Builds a world from settings. Throws ConfigError (instances the plugins
// refuse); a database that is down is logged and served with its error.
std::shared_ptr<World> build_world(config::Settings s, const Shared &shared);
// Refreshes the world's schema caches in the background and tells clients
// when one changed.
void watch_schemas(World &w, const std::shared_ptr<mcp::McpServer> &server);

// One Database per [database.NAME]. A database that is down now is logged
// and keeps reporting its error on use; the others serve regardless.
// Connecting, loading a schema (schema_load = startup) and reporting the
// roles' privileges run now, or, given `later`, are left there to run in the
// background.
std::shared_ptr<pipeline::Databases> open_databases(
    const config::Settings &s, plugins::Instances &instances, observability::Metrics *metrics,
    std::vector<std::function<void()>> *later = nullptr);
// Says loudly what the roles behind a database may do beyond the policy.
void report_privileges(db::Database &db, db::SchemaCache &cache, const sql::SqlPolicy &policy);

// The HTTP transport's options; throws ConfigError for an unsafe or broken setup.
mcp::HttpOptions http_options(const config::Settings &s, observability::Metrics *metrics);

// Refuses new statements, cancels the running ones in PostgreSQL (their
// callers are told why), and waits for them to end, at most `timeout`.
void drain(const std::vector<std::shared_ptr<pipeline::Databases>> &all,
           std::atomic<bool> &draining, std::chrono::seconds timeout, const char *why);

}  // namespace pgmcp::app
