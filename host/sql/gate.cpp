#include "sql/gate.hpp"

#include <algorithm>
#include <memory>

#include "log/log.hpp"
#include "observability/metrics.hpp"

namespace pgmcp::sql {

namespace {

Rejected rejection(Verdict v, const std::string &sql, db::Database &db, core::RequestContext *ctx) {
  if (db.metrics() != nullptr) db.metrics()->rejection(db.name(), v.rule);
  log::audit({{"subject", ctx != nullptr ? ctx->subject() : ""},
              {"database", db.name()},
              {"statement", sql},
              {"rows", 0},
              {"outcome", "rejected"},
              {"rule", v.rule},
              {"object", v.object},
              {"reason", v.message}});
  return Rejected(std::move(v));
}

}  // namespace

db::QueryResult Gate::run(const std::string &sql,
                          const std::vector<std::optional<std::string>> &params,
                          db::QueryLimits limits, db::Database &db, db::SchemaCache &schema,
                          const SqlPolicy &policy, core::RequestContext *ctx, GateOptions options) {
  Verdict passed = policy.check(sql);
  if (passed.allowed && passed.writes && options.reads_only) {
    passed.allowed = false;
    passed.rule = "read_only";
    passed.object = "write";
    passed.message = "this tool only reads, and the statement writes (rule read_only)";
  }
  if (!passed.allowed) throw rejection(std::move(passed), sql, db, ctx);

  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<const db::Catalog> catalog = schema.get();
    auto verdict = std::make_shared<Verdict>();
    auto judge = [&policy, &options, catalog, passed, verdict](std::string_view analysis) {
      *verdict = policy.judge(analysis, passed, *catalog);
      if (!verdict->allowed) return db::Judgement::refuse;
      if (options.on_run && !options.analyze_only) options.on_run();
      return verdict->discard_connection ? db::Judgement::run_and_discard : db::Judgement::run;
    };
    // A plain query runs inside a wrapper that stops it one row past
    // max_rows, so that a cut result costs no cancel and keeps its
    // connection, and (the row guard) stops a row larger than the whole byte
    // budget in PostgreSQL instead of letting it arrive whole.
    const bool wrapped = !passed.guardable.empty() && !options.analyze_only && !passed.writes;
    const bool guarded = wrapped && db.options().row_guard;
    std::string text =
        wrapped ? bounded_sql(passed.guardable, guarded ? limits.max_bytes : 0, limits.max_rows)
                : sql;
    db::AdmittedStatement admitted(text, wrapped ? text : passed.analysis_sql,
                                   {passed.writes, passed.discard_connection}, judge,
                                   options.analyze_only);
    admitted.client_sql_ = sql;
    admitted.guard_offset_ = wrapped ? row_guard_offset() : 0;
    admitted.bounded_ = wrapped;
    try {
      return db.query(admitted, params, limits, ctx);
    } catch (const db::Refused &) {
      // An object created since the catalog was loaded: look again, once, at
      // most once a second and at most 5% of the time (a large catalog takes
      // long to load).
      double pause = std::max(1.0, catalog->load_ms / 1000.0 * 20);
      if (verdict->unknown_object && attempt == 0 && schema.age_seconds() > pause) {
        schema.refresh();
        continue;
      }
      throw rejection(*verdict, sql, db, ctx);
    }
  }
}

}  // namespace pgmcp::sql
