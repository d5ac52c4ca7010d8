#include "sql/gate.hpp"

#include "log/log.hpp"
#include "observability/metrics.hpp"

namespace pgmcp::sql {

Verdict screen(const std::string &sql, db::Database &db, db::SchemaCache &schema,
               const SqlPolicy &policy, mcp::RequestContext *ctx) {
  Verdict v = policy.check(sql, schema.get());
  // A relation created since the last load: look again once, at most once a second.
  if (v.allowed && v.unknown_relation && schema.age_seconds() > 1.0) {
    schema.refresh();
    v = policy.check(sql, schema.get());
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
