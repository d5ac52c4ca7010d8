#include "observability/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace pgmcp::observability {

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter> &queries =
      prometheus::BuildCounter()
          .Name("pg_mcp_db_queries_total")
          .Help("Statements sent to a database, by outcome")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram> &duration =
      prometheus::BuildHistogram()
          .Name("pg_mcp_db_query_duration_seconds")
          .Help("Time from sending a statement to its last row")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge> &pool =
      prometheus::BuildGauge()
          .Name("pg_mcp_db_pool_size")
          .Help("Connections of a database's pool, by state")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge> &schema_age = prometheus::BuildGauge()
                                                          .Name("pg_mcp_schema_cache_age_seconds")
                                                          .Help("Age of a database's cached schema")
                                                          .Register(*registry);
  prometheus::Family<prometheus::Counter> &rejections =
      prometheus::BuildCounter()
          .Name("pg_mcp_sql_rejections_total")
          .Help("Statements the SQL policy refused, by database and rule")
          .Register(*registry);
  prometheus::Family<prometheus::Counter> &llm_calls =
      prometheus::BuildCounter()
          .Name("pg_mcp_llm_calls_total")
          .Help("Calls to an LLM provider (each retry counts), by outcome")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram> &llm_latency =
      prometheus::BuildHistogram()
          .Name("pg_mcp_llm_latency_seconds")
          .Help("Time an LLM provider took to answer one call")
          .Register(*registry);
  prometheus::Family<prometheus::Counter> &llm_tokens =
      prometheus::BuildCounter()
          .Name("pg_mcp_llm_tokens_total")
          .Help("Tokens an LLM provider reported, by type (prompt, completion)")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram> &query_attempts =
      prometheus::BuildHistogram()
          .Name("pg_mcp_query_attempts")
          .Help("SQL generations one query tool call took")
          .Register(*registry);
  prometheus::Family<prometheus::Counter> &connections_opened =
      prometheus::BuildCounter()
          .Name("pg_mcp_db_connections_opened_total")
          .Help("Connections a database's pool opened")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge> &replica_up =
      prometheus::BuildGauge()
          .Name("pg_mcp_db_replica_up")
          .Help(
              "1 while a read replica gets reads: it answers, is a standby, lags no more than "
              "allowed")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge> &replica_lag =
      prometheus::BuildGauge()
          .Name("pg_mcp_db_replica_lag_seconds")
          .Help("A read replica's replay lag at its last check; -1 while unknown")
          .Register(*registry);
  prometheus::Family<prometheus::Counter> &replica_statements =
      prometheus::BuildCounter()
          .Name("pg_mcp_db_replica_statements_total")
          .Help("Statements a read replica ran")
          .Register(*registry);
  prometheus::Family<prometheus::Counter> &http_dropped =
      prometheus::BuildCounter()
          .Name("pg_mcp_http_dropped_total")
          .Help("HTTP connections refused or cut to protect the server, by reason")
          .Register(*registry);
  prometheus::Family<prometheus::Counter> &limiter_decisions =
      prometheus::BuildCounter()
          .Name("pg_mcp_rate_limiter_decisions_total")
          .Help(
              "Rate limiter decisions by limiter and outcome (granted, refused, unenforced: "
              "granted while the limiter's store was unreachable, failed)")
          .Register(*registry);
};

namespace {

const char *const kQueryStatuses[] = {"ok",        "error",       "timeout",
                                      "cancelled", "unavailable", "rate_limited"};
const prometheus::Histogram::BucketBoundaries &query_buckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return b;
}
const prometheus::Histogram::BucketBoundaries &llm_buckets() {
  static const prometheus::Histogram::BucketBoundaries b = {0.05, 0.1, 0.25, 0.5, 1, 2,
                                                            4,    8,   15,   30,  60};
  return b;
}
const prometheus::Histogram::BucketBoundaries &attempt_buckets() {
  static const prometheus::Histogram::BucketBoundaries b = {1, 2, 3, 4, 5, 7, 10};
  return b;
}

}  // namespace

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {
  impl_->query_attempts.Add({}, attempt_buckets());
  for (const char *reason : {"max_connections", "max_connections_per_client", "busy",
                             "header_timeout", "body_timeout", "write_timeout", "header_too_large"})
    impl_->http_dropped.Add({{"reason", reason}});
}

void Metrics::declare_database(const std::string &database, const std::vector<std::string> &rules) {
  for (const char *status : kQueryStatuses)
    impl_->queries.Add({{"database", database}, {"status", status}});
  impl_->duration.Add({{"database", database}}, query_buckets());
  for (const char *state : {"idle", "busy", "max"})
    impl_->pool.Add({{"database", database}, {"state", state}});
  impl_->schema_age.Add({{"database", database}}).Set(-1);
  impl_->connections_opened.Add({{"database", database}});
  for (const std::string &rule : rules)
    impl_->rejections.Add({{"database", database}, {"reason", rule}});
}

void Metrics::declare_llm(const std::string &llm) {
  for (const char *status : {"ok", "error", "timeout", "unavailable", "rate_limited", "cancelled"})
    impl_->llm_calls.Add({{"llm", llm}, {"status", status}});
  impl_->llm_latency.Add({{"llm", llm}}, llm_buckets());
  for (const char *type : {"prompt", "completion"})
    impl_->llm_tokens.Add({{"llm", llm}, {"type", type}});
}

void Metrics::connection_opened(const std::string &database) {
  impl_->connections_opened.Add({{"database", database}}).Increment();
}

Metrics::~Metrics() = default;

void Metrics::query(const std::string &database, QueryStatus status, double seconds) {
  impl_->queries.Add({{"database", database}, {"status", kQueryStatuses[static_cast<int>(status)]}})
      .Increment();
  if (status == QueryStatus::ok || status == QueryStatus::error || status == QueryStatus::timeout)
    impl_->duration.Add({{"database", database}}, query_buckets()).Observe(seconds);
}

void Metrics::pool(const std::string &database, int idle, int busy, int max) {
  impl_->pool.Add({{"database", database}, {"state", "idle"}}).Set(idle);
  impl_->pool.Add({{"database", database}, {"state", "busy"}}).Set(busy);
  impl_->pool.Add({{"database", database}, {"state", "max"}}).Set(max);
}

void Metrics::replica(const std::string &database, const std::string &replica, bool up,
                      double lag_seconds) {
  impl_->replica_up.Add({{"database", database}, {"replica", replica}}).Set(up ? 1 : 0);
  impl_->replica_lag.Add({{"database", database}, {"replica", replica}}).Set(lag_seconds);
  impl_->replica_statements.Add({{"database", database}, {"replica", replica}});
}

void Metrics::replica_statement(const std::string &database, const std::string &replica) {
  impl_->replica_statements.Add({{"database", database}, {"replica", replica}}).Increment();
}

void Metrics::schema_age(const std::string &database, double seconds) {
  impl_->schema_age.Add({{"database", database}}).Set(seconds);
}

void Metrics::rejection(const std::string &database, const std::string &reason) {
  impl_->rejections.Add({{"database", database}, {"reason", reason}}).Increment();
}

void Metrics::llm_call(const std::string &llm, const std::string &status, double seconds) {
  impl_->llm_calls.Add({{"llm", llm}, {"status", status}}).Increment();
  if (seconds > 0) impl_->llm_latency.Add({{"llm", llm}}, llm_buckets()).Observe(seconds);
}

void Metrics::llm_tokens(const std::string &llm, std::uint64_t prompt, std::uint64_t completion) {
  impl_->llm_tokens.Add({{"llm", llm}, {"type", "prompt"}}).Increment(static_cast<double>(prompt));
  impl_->llm_tokens.Add({{"llm", llm}, {"type", "completion"}})
      .Increment(static_cast<double>(completion));
}

void Metrics::query_attempts(int attempts) {
  impl_->query_attempts.Add({}, attempt_buckets()).Observe(attempts);
}

void Metrics::declare_rate_limiter(const std::string &limiter) {
  for (const char *outcome : {"granted", "refused", "unenforced", "failed"})
    impl_->limiter_decisions.Add({{"limiter", limiter}, {"outcome", outcome}});
}

void Metrics::rate_limit(const std::string &limiter, const std::string &outcome) {
  impl_->limiter_decisions.Add({{"limiter", limiter}, {"outcome", outcome}}).Increment();
}

void Metrics::http_dropped(const std::string &reason) {
  impl_->http_dropped.Add({{"reason", reason}}).Increment();
}

std::string Metrics::text() {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

std::shared_ptr<prometheus::Registry> Metrics::registry() { return impl_->registry; }

}  // namespace pgmcp::observability
