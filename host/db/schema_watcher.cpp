#include "db/schema_watcher.hpp"

#include "log/log.hpp"

namespace pgmcp::db {

SchemaWatcher::SchemaWatcher(std::vector<Watched> watched,
                             std::function<void(const std::string &)> on_change,
                             core::Scheduler &scheduler)
    : watched_(std::move(watched)), on_change_(std::move(on_change)) {
  task_ = core::ScheduledTask(
      scheduler, scheduler.every(std::chrono::seconds(1), "schema refresh", [this] { check(); }));
}

void SchemaWatcher::check() {
  for (auto &w : watched_) {
    double age = w.cache->age_seconds();
    if (age < 0 || age < w.db->options().schema_ttl_s) continue;  // never loaded (lazy) or fresh
    try {
      if (w.cache->refresh()) {
        log::info("db", "schema of '" + w.db->name() + "' changed");
        on_change_(w.db->name());
      }
    } catch (const DbError &e) {
      log::warning("db", "refreshing the schema of '" + w.db->name() + "' failed: " + e.what());
    }
  }
}

}  // namespace pgmcp::db
