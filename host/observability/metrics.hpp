// Prometheus metrics of one pg-mcp process, with the names operators alert on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace prometheus {
class Registry;
}

namespace pgmcp::observability {

// Outcome label of pg_mcp_db_queries_total.
enum class QueryStatus { ok, error, timeout, cancelled, unavailable, rate_limited };

// One per process, made by main and handed to the components that count;
// tests make their own.
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics &) = delete;
  Metrics &operator=(const Metrics &) = delete;

  // Every series of a configured database at zero (schema age -1), so that
  // dashboards and alerts see it before its first event: queries by each
  // status, duration, pool, schema age, connections opened, and rejections
  // by each of the policy's rules.
  void declare_database(const std::string &database, const std::vector<std::string> &rules);
  // The same for an LLM: calls by each status, latency and both token types.
  void declare_llm(const std::string &llm);

  // pg_mcp_db_connections_opened_total{database}: connections a pool opened;
  // one that grows with the calls means connections are being replaced.
  void connection_opened(const std::string &database);

  // pg_mcp_db_queries_total{database,status} and, for statements that ran,
  // pg_mcp_db_query_duration_seconds{database}.
  void query(const std::string &database, QueryStatus status, double seconds);
  // pg_mcp_db_pool_size{database,state}: state is idle, busy or max.
  void pool(const std::string &database, int idle, int busy, int max);
  // pg_mcp_db_replica_up{database,replica} (1 while it gets reads) and
  // pg_mcp_db_replica_lag_seconds{database,replica} (-1 while unknown).
  void replica(const std::string &database, const std::string &replica, bool up,
               double lag_seconds);
  // pg_mcp_db_replica_statements_total{database,replica}: statements a
  // replica ran (the rest ran on the primary).
  void replica_statement(const std::string &database, const std::string &replica);
  // pg_mcp_schema_cache_age_seconds{database}; negative while never loaded.
  void schema_age(const std::string &database, double seconds);

  // pg_mcp_sql_rejections_total{database,reason}: reason is the policy rule.
  void rejection(const std::string &database, const std::string &reason);

  // pg_mcp_llm_calls_total{llm,status} and pg_mcp_llm_latency_seconds{llm}
  // (for calls that reached the provider, i.e. seconds > 0 or status ok).
  void llm_call(const std::string &llm, const std::string &status, double seconds);
  // pg_mcp_llm_tokens_total{llm,type}: type is prompt or completion.
  void llm_tokens(const std::string &llm, std::uint64_t prompt, std::uint64_t completion);
  // pg_mcp_query_attempts: SQL generations one query tool call took.
  void query_attempts(int attempts);

  // pg_mcp_rate_limiter_decisions_total{limiter,outcome}: granted, refused,
  // unenforced (granted while the limiter's shared store was unreachable and
  // its configuration let calls through) or failed. Declared at zero first.
  void declare_rate_limiter(const std::string &limiter);
  void rate_limit(const std::string &limiter, const std::string &outcome);

  // pg_mcp_http_dropped_total{reason}: connections the HTTP transport refused
  // or cut to protect itself (max_connections, max_connections_per_client,
  // busy, header_timeout, body_timeout, write_timeout, header_too_large).
  void http_dropped(const std::string &reason);

  // The Prometheus text exposition of every metric.
  std::string text();
  std::shared_ptr<prometheus::Registry> registry();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgmcp::observability
