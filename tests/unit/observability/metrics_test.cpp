// What /metrics shows before anything has happened: dashboards and alerts
// need every series of what is configured, at zero.
#include "observability/metrics.hpp"

#include <gtest/gtest.h>

#include <string>

using pgmcp::observability::Metrics;
using pgmcp::observability::QueryStatus;

TEST(Metrics, EverySeriesOfWhatIsConfiguredIsThereBeforeItsFirstEvent) {
  Metrics m;
  m.declare_database("sales", {"blocked_tables", "read_only"});
  m.declare_llm("claude");
  std::string text = m.text();
  for (const char *series :
       {"pg_mcp_db_queries_total{database=\"sales\",status=\"ok\"} 0",
        "pg_mcp_db_queries_total{database=\"sales\",status=\"rate_limited\"} 0",
        "pg_mcp_db_query_duration_seconds_count{database=\"sales\"} 0",
        "pg_mcp_db_pool_size{database=\"sales\",state=\"busy\"} 0",
        "pg_mcp_schema_cache_age_seconds{database=\"sales\"} -1",
        "pg_mcp_db_connections_opened_total{database=\"sales\"} 0",
        "pg_mcp_sql_rejections_total{database=\"sales\",reason=\"blocked_tables\"} 0",
        "pg_mcp_sql_rejections_total{database=\"sales\",reason=\"read_only\"} 0",
        "pg_mcp_llm_calls_total{llm=\"claude\",status=\"timeout\"} 0",
        "pg_mcp_llm_latency_seconds_count{llm=\"claude\"} 0",
        "pg_mcp_llm_tokens_total{llm=\"claude\",type=\"completion\"} 0",
        "pg_mcp_query_attempts_count 0", "pg_mcp_http_dropped_total{reason=\"write_timeout\"} 0"})
    EXPECT_NE(text.find(series), std::string::npos) << series;
  // and events count on the same series
  m.query("sales", QueryStatus::ok, 0.01);
  m.connection_opened("sales");
  text = m.text();
  EXPECT_NE(text.find("pg_mcp_db_queries_total{database=\"sales\",status=\"ok\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("pg_mcp_db_connections_opened_total{database=\"sales\"} 1"),
            std::string::npos);
}
