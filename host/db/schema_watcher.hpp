// Refreshes each loaded schema cache when it is older than its TTL, in the
// background, and reports databases whose set of objects changed.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "db/schema.hpp"

namespace pgmcp::db {

class SchemaWatcher {
 public:
  struct Watched {
    std::shared_ptr<Database> db;
    std::shared_ptr<SchemaCache> cache;
  };
  SchemaWatcher(std::vector<Watched> watched,
                std::function<void(const std::string &database)> on_change);
  ~SchemaWatcher();

 private:
  void loop();
  std::vector<Watched> watched_;
  std::function<void(const std::string &)> on_change_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pgmcp::db
