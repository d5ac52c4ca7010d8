// Refreshes each loaded schema cache when it is older than its TTL, as a
// task of the server's scheduler, and reports databases whose set of objects
// changed.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/scheduler.hpp"
#include "db/schema.hpp"

namespace pgmcp::db {

class SchemaWatcher {
 public:
  struct Watched {
    std::shared_ptr<Database> db;
    std::shared_ptr<SchemaCache> cache;
  };
  // Looks every second; `scheduler` must outlive the watcher.
  SchemaWatcher(std::vector<Watched> watched,
                std::function<void(const std::string &database)> on_change,
                core::Scheduler &scheduler);

  // One look: refreshes what is due. Public for tests.
  void check();

 private:
  std::vector<Watched> watched_;
  std::function<void(const std::string &)> on_change_;
  core::ScheduledTask task_;  // last: cancelled before the rest goes
};

}  // namespace pgmcp::db
