// The SQL policy check alone, for a 20-line analytic query, against the bare
// PostgreSQL parser (pg_query_parse) measured in the same run. The catalog is
// in memory and the view memo warm, as in a server that has served the
// query's views once: what this measures is parse plus walk.
//   bench_policy [ITERATIONS] -> JSON: p50/p99 in microseconds for both
#include <pg_query.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "catalog_builder.hpp"
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
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.revenue) OVER () AS median_all
FROM ranked r
LEFT JOIN LATERAL (SELECT email FROM app.user_directory ud WHERE ud.region = r.region LIMIT 1) d ON true
WHERE r.rnk <= 5 AND r.region IN ('eu', 'us')
ORDER BY r.month DESC, r.rnk LIMIT 100)SQL";

std::shared_ptr<const pgmcp::db::Catalog> catalog() {
  auto c = std::make_shared<pgmcp::db::Catalog>();
  c->search_path = {"pg_catalog", "app", "public"};
  auto rel = [&](const std::string &name, std::initializer_list<const char *> cols,
                 const char *kind, const char *def) {
    c->add(pgmcp::testing::relation("app", name, cols, kind, def));
  };
  rel("users", {"id", "email", "password", "region"}, "table", "");
  rel("orders", {"id", "user_id", "total", "status", "placed_at"}, "table", "");
  rel("order_items", {"order_id", "sku", "quantity", "unit_price"}, "table", "");
  rel("user_directory", {"id", "email", "region"}, "view",
      "SELECT users.id, users.email, users.region FROM app.users");
  for (int i = 0; i < 500; ++i) rel("t" + std::to_string(i), {"a", "b"}, "table", "");
  return c;
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

}  // namespace

int main(int argc, char **argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  pgmcp::sql::PolicyOptions o;
  o.blocked_tables = {"app.secrets"};
  o.blocked_columns = {"users.password", "api_token"};
  o.blocked_functions = {"app.slow_echo"};
  pgmcp::sql::SqlPolicy policy(o, "bench");
  auto cat = catalog();
  auto first = policy.check(kQuery, cat);  // warms the view memo
  if (!first.allowed) {
    std::fprintf(stderr, "bench_policy: the query was refused: %s\n", first.message.c_str());
    return 1;
  }
  for (int i = 0; i < 1000; ++i) (void)policy.check(kQuery, cat);  // warm caches
  auto parse = measure(n, [] {
    PgQueryParseResult r = pg_query_parse(kQuery);
    pg_query_free_parse_result(r);
  });
  auto check = measure(n, [&] {
    if (!policy.check(kQuery, cat).allowed) std::abort();
  });
  std::printf(
      "{\"lines\": 20, \"parse_p50_us\": %.1f, \"parse_p99_us\": %.1f, \"check_p50_us\": %.1f, "
      "\"check_p99_us\": %.1f, \"ratio_p50\": %.2f}\n",
      parse.first, parse.second, check.first, check.second, check.first / parse.first);
  return 0;
}
