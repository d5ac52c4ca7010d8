// The SQL policy check alone, for a 20-line analytic query, against the bare
// PostgreSQL parser (pg_query_parse) measured in the same run. Both stages are
// measured: the text stage and the judge of the server's real query tree for
// the statement, with the catalog's facts loaded from a real PostgreSQL; the
// server's own Parse round trip is printed beside them. The catalog is in
// memory and the policy's view of it built, as in a server that has served
// once: what this measures is parse, walk and judge.
//   bench_policy ITERATIONS DSN -> JSON: p50/p99 in microseconds
#include <pg_query.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include <nlohmann/json.hpp>

#include "db/schema.hpp"
#include "sql/policy.hpp"

namespace {

const char *const kQuery = R"SQL(WITH monthly AS (
  SELECT date_trunc('month', o.placed_at) AS month, u.region,
         sum(i.quantity * i.unit_price) AS revenue, count(DISTINCT o.id) AS orders
  FROM app.orders o
  JOIN app.users u ON u.id = o.user_id
  JOIN app.order_items i ON i.order_id = o.id
  WHERE o.placed_at >= now() - interval '1 year' AND o.status <> 'cancelled'
  GROUP BY 1, 2
), ranked AS (
  SELECT m.*, rank() OVER (PARTITION BY month ORDER BY revenue DESC) AS rnk,
         lag(revenue) OVER (PARTITION BY region ORDER BY month) AS prev_revenue
  FROM monthly m
)
SELECT r.month, r.region, r.revenue, r.orders, r.rnk, d.email AS top_contact,
       round(100.0 * (r.revenue - r.prev_revenue) / nullif(r.prev_revenue, 0), 1) AS growth_pct,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY revenue) FROM ranked) AS median_all
FROM ranked r
LEFT JOIN LATERAL (SELECT email FROM app.user_directory ud WHERE ud.region = r.region LIMIT 1) d ON true
WHERE r.rnk <= 5 AND r.region IN ('eu', 'us')
ORDER BY r.month DESC, r.rnk LIMIT 100)SQL";

// The server's analysis of kQuery and the catalog's facts, through libpq.
struct Server {
  std::string tree;
  pgmcp::db::Catalog catalog;
  double parse_round_trip_p50_us = 0;
};

void on_notice(void *arg, const PGresult *r) {
  const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
  if (msg != nullptr && std::string(msg) == "rewritten parse tree:" && detail != nullptr)
    *static_cast<std::string *>(arg) = detail;
}

template <class F>
std::pair<double, double> measure(int n, F &&f) {
  std::vector<double> us;
  us.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 99 / 100]};
}

bool load(const char *dsn, Server &s) {
  PGconn *conn = PQconnectdb(dsn);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::fprintf(stderr, "bench_policy: %s", PQerrorMessage(conn));
    return false;
  }
  PQsetNoticeReceiver(conn, on_notice, &s.tree);
  for (const char *sql :
       {"BEGIN READ ONLY", "SET LOCAL debug_print_rewritten = on",
        "SET LOCAL debug_pretty_print = off", "SET LOCAL client_min_messages = log"})
    PQclear(PQexec(conn, sql));
  s.tree.clear();  // the SETs showed trees of their own
  PGresult *prepared = PQprepare(conn, "", kQuery, 0, nullptr);
  if (PQresultStatus(prepared) != PGRES_COMMAND_OK)
    std::fprintf(stderr, "bench_policy: the query does not parse: %s", PQerrorMessage(conn));
  PQclear(prepared);
  std::string ignored;
  PQsetNoticeReceiver(conn, on_notice, &ignored);
  PQclear(PQexec(conn, "ROLLBACK"));
  // What the server's Parse of the statement costs a call: one round trip.
  s.parse_round_trip_p50_us =
      measure(2000, [&] { PQclear(PQprepare(conn, "", kQuery, 0, nullptr)); }).first;
  PGresult *r = PQexec(conn, pgmcp::db::policy_facts_sql());
  bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && !s.tree.empty();
  if (ok) {
    pgmcp::db::PolicyFactsReader reader(s.catalog.facts);
    pgmcp::db::RowText row;
    for (int i = 0; i < PQntuples(r); ++i) {
      row.assign(static_cast<size_t>(PQnfields(r)), std::nullopt);
      for (int j = 0; j < PQnfields(r); ++j)
        if (!PQgetisnull(r, i, j)) row[static_cast<size_t>(j)] = PQgetvalue(r, i, j);
      reader.row(row);
    }
    reader.finish();
  } else
    std::fprintf(stderr, "bench_policy: %s", PQerrorMessage(conn));
  PQclear(r);
  PQfinish(conn);
  s.catalog.loaded_at = std::chrono::steady_clock::now();
  return ok;
}

}  // namespace

// bench_policy N DSN: DSN is the corpus database of tests/integration/fixture.sql.
int main(int argc, char **argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_policy N DSN\n");
    return 2;
  }
  Server server;
  if (!load(argv[2], server)) return 1;
  pgmcp::sql::PolicyOptions o;
  o.blocked_tables = {"app.secrets"};
  o.blocked_columns = {"users.password", "api_token"};
  o.blocked_functions = {"app.slow_echo"};
  pgmcp::sql::SqlPolicy policy(o, "bench");
  auto full = [&] {
    pgmcp::sql::Verdict v = policy.check(kQuery);
    return v.allowed ? policy.judge(server.tree, v, server.catalog) : v;
  };
  auto first = full();  // builds the policy's view of this catalog once
  if (!first.allowed) {
    std::fprintf(stderr, "bench_policy: the query was refused: %s\n", first.message.c_str());
    return 1;
  }
  for (int i = 0; i < 1000; ++i) (void)full();  // warm caches
  auto parse = measure(n, [] {
    PgQueryParseResult r = pg_query_parse(kQuery);
    pg_query_free_parse_result(r);
  });
  auto text = measure(n, [&] {
    if (!policy.check(kQuery).allowed) std::abort();
  });
  pgmcp::sql::Verdict passed = policy.check(kQuery);
  auto judge = measure(n, [&] {
    if (!policy.judge(server.tree, passed, server.catalog).allowed) std::abort();
  });
  auto check = measure(n, [&] {
    if (!full().allowed) std::abort();
  });
  std::printf(
      "{\"lines\": 20, \"tree_bytes\": %zu, \"parse_p50_us\": %.1f, \"parse_p99_us\": %.1f, "
      "\"text_p50_us\": %.1f, \"judge_p50_us\": %.1f, \"check_p50_us\": %.1f, "
      "\"check_p99_us\": %.1f, \"ratio_p50\": %.2f, \"server_parse_rtt_p50_us\": %.1f}\n",
      server.tree.size(), parse.first, parse.second, text.first, judge.first, check.first,
      check.second, check.first / parse.first, server.parse_round_trip_p50_us);
  return 0;
}
