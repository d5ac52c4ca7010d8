#include "sql/gate.hpp"

#include <algorithm>

#include "log/log.hpp"
#include "observability/metrics.hpp"

namespace pgmcp::sql {

Verdict screen(const std::string &sql, db::Database &db, db::SchemaCache &schema,
               const SqlPolicy &policy, mcp::RequestContext *ctx, bool reads_only) {
  Verdict v = policy.check(sql, schema.get());
  // A relation created since the last load: look again, at most once a second
  // and at most 5% of the time (a large catalog takes long to load).
  auto loaded = schema.peek();
  double pause = std::max(1.0, loaded ? loaded->load_ms / 1000.0 * 20 : 1.0);
  if (v.allowed && v.unknown_relation && schema.age_seconds() > pause) {
    schema.refresh();
    v = policy.check(sql, schema.get());
  }
  if (v.allowed && v.writes && reads_only) {
    v.allowed = false;
    v.rule = "read_only";
    v.object = "write";
    v.message = "this tool only reads, and the statement writes (rule read_only)";
  }
  if (!v.allowed) {
    observability::Metrics::instance().rejection(db.name(), v.rule);
    log::audit({{"subject", ctx != nullptr ? ctx->subject() : ""},
                {"database", db.name()},
                {"statement", sql},
                {"rows", 0},
                {"outcome", "rejected"},
                {"rule", v.rule},
                {"object", v.object},
                {"reason", v.message}});
  }
  return v;
}

}  // namespace pgmcp::sql
