// Database's read replicas: where a read goes, and each replica's health
// check (it answers, is a standby, and how far its replay lags).
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "db/database.hpp"
#include "log/log.hpp"
#include "observability/metrics.hpp"

namespace pgmcp::db {

// Where a statement goes: writes and the host's administrative statements
// to the primary; reads to a healthy replica, else to the primary.
Database::Target *Database::route(const RunMode &mode) {
  if (replicas_.empty() || mode.write || mode.admin) return &primary_;
  std::lock_guard lock(mutex_);
  Target *best = nullptr;
  std::size_t n = replicas_.size();
  for (std::size_t k = 0; k < n; ++k) {
    Target *t = replicas_[(next_replica_ + k) % n].get();
    if (!t->health.healthy) continue;
    if (best == nullptr || t->busy() < best->busy()) best = t;
    if (!options_.replica_least_busy) break;  // round robin: the first healthy in turn
  }
  ++next_replica_;
  return best != nullptr ? best : &primary_;
}

// A read on a replica found it unreachable: no more reads go there until
// its health check passes again.
void Database::replica_failed(Target &target, const std::string &why) {
  bool was;
  {
    std::lock_guard lock(mutex_);
    was = target.health.healthy;
    target.health.healthy = false;
    target.health.problem = why;
  }
  if (metrics_ != nullptr) metrics_->replica(name_, target.health.label, false, -1);
  if (was)
    log::warning("db",
                 "database '" + name_ + "': " + target.health.label + " gets no reads: " + why);
}

std::vector<ReplicaHealth> Database::replicas() {
  std::lock_guard lock(mutex_);
  std::vector<ReplicaHealth> out;
  for (const auto &t : replicas_) out.push_back(t->health);
  return out;
}

void Database::watch_replicas() {
  std::unique_lock lock(watch_mutex_);
  while (!stop_watching_) {
    lock.unlock();
    for (auto &t : replicas_) check_replica(*t);
    lock.lock();
    watch_cv_.wait_for(lock, std::chrono::milliseconds(options_.replica_check_ms),
                       [&] { return stop_watching_; });
  }
}

// Whether the replica answers, is a standby, and how far behind it is: 0
// when everything received has been replayed, else the time since the last
// replayed transaction (or since it started, when it has replayed none).
void Database::check_replica(Target &target) {
  static const std::string kProbe =
      "SELECT pg_catalog.pg_is_in_recovery(), CASE WHEN NOT pg_catalog.pg_is_in_recovery() OR "
      "pg_catalog.pg_last_wal_receive_lsn() IS NOT DISTINCT FROM "
      "pg_catalog.pg_last_wal_replay_lsn() THEN 0 ELSE "
      "EXTRACT(EPOCH FROM pg_catalog.now() - COALESCE("
      "pg_catalog.pg_last_xact_replay_timestamp(), pg_catalog.pg_postmaster_start_time())) * "
      "1000 END";
  std::string problem;
  double lag_ms = -1;
  try {
    std::vector<std::string> row;
    RowVisitor visit = [&](const RowText &r) {
      for (const auto &v : r) row.emplace_back(v ? std::string(*v) : std::string());
    };
    RunMode mode;
    mode.visit = &visit;
    run(kProbe, {}, {1, 1024}, nullptr, mode, nullptr, &target);
    if (row.size() != 2) {
      problem = "its health check returned nothing";
    } else if (row[0] != "t") {
      problem = "it is not a standby (promoted?): its data may differ from the primary's";
    } else {
      lag_ms = std::max(0.0, std::atof(row[1].c_str()));
      if (options_.replica_max_lag_ms > 0 &&
          lag_ms > static_cast<double>(options_.replica_max_lag_ms)) {
        char text[64];
        std::snprintf(text, sizeof text, "%.0f", lag_ms);
        problem = std::string("its replay lags ") + text +
                  " ms (replica_max_lag_ms = " + std::to_string(options_.replica_max_lag_ms) + ")";
      }
    }
  } catch (const DbError &e) {
    problem = e.what();
  }
  bool was, now = problem.empty();
  {
    std::lock_guard lock(mutex_);
    was = target.health.healthy;
    target.health.checked = true;
    target.health.healthy = now;
    target.health.lag_ms = lag_ms;
    target.health.problem = problem;
  }
  if (metrics_ != nullptr)
    metrics_->replica(name_, target.health.label, now, lag_ms < 0 ? -1 : lag_ms / 1000);
  if (was && !now)
    log::warning("db",
                 "database '" + name_ + "': " + target.health.label + " gets no reads: " + problem);
  if (!was && now)
    log::info("db",
              "database '" + name_ + "': " + target.health.label + " is healthy; reads go to it");
}

}  // namespace pgmcp::db
