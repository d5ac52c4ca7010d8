#include "tools/tools.hpp"

#include "tools/common.hpp"

namespace pgmcp::tools {

namespace {

json explain_summary(const json &plan, bool analyzed) {
  const json &top = plan.is_array() && !plan.empty() ? plan[0] : plan;
  const json &node = top.value("Plan", json::object());
  std::string s = node.value("Node Type", std::string("plan"));
  if (node.contains("Relation Name")) s += " on " + node["Relation Name"].get<std::string>();
  s += ": estimated cost " + (node.contains("Total Cost") ? node["Total Cost"].dump() : "?");
  s += ", " + (node.contains("Plan Rows") ? node["Plan Rows"].dump() : "?") + " rows";
  if (analyzed && top.contains("Execution Time")) {
    s += "; actually " + (node.contains("Actual Rows") ? node["Actual Rows"].dump() : "?") +
         " rows in " + top["Execution Time"].dump() + " ms";
  }
  return s;
}

}  // namespace

mcp::Tool explain_query_tool(std::shared_ptr<pipeline::Databases> dbs) {
  mcp::Tool t =
      named("explain_query", "Explain a query plan",
            "Shows PostgreSQL's plan for a read-only query as JSON with a one-line summary. With "
            "\"analyze\": true (only where the operator allows it) the query is run, read-only "
            "and rolled back, to report actual rows and times.");
  t.input_schema = {
      {"type", "object"},
      {"properties",
       {{"sql", {{"type", "string"}, {"minLength", 1}}},
        {"database", kDatabaseArg},
        {"analyze",
         {{"type", "boolean"}, {"description", "Run it to get actual times (if allowed)."}}}}},
      {"required", {"sql"}},
      {"additionalProperties", false}};
  t.output_schema = {{"type", "object"},
                     {"properties",
                      {{"database", {{"type", "string"}}},
                       {"summary", {{"type", "string"}}},
                       {"plan", {{"type", "array"}}}}},
                     {"required", {"database", "summary", "plan"}}};
  t.annotations = {true, false, true, false};
  t.handler = [dbs](const json &args, RequestContext &ctx) {
    const DatabaseEntry &e = dbs->resolve(args);
    bool analyze = args.value("analyze", false);
    if (analyze && !e.db->options().allow_explain_analyze) {
      throw ToolError(
          "EXPLAIN ANALYZE runs the query and is off for database '" + e.db->name() +
          "'; set allow_explain_analyze = true to allow it, or explain without analyze");
    }
    std::string sql = std::string("EXPLAIN (FORMAT JSON") + (analyze ? ", ANALYZE, BUFFERS" : "") +
                      ") " + args["sql"].get<std::string>();
    // EXPLAIN ANALYZE runs the statement: explain_query only ever reads.
    db::QueryResult r =
        checked_query(e, sql, {}, {1000, e.db->options().max_result_bytes}, ctx, true);
    json rows = json::parse(r.rows_json, nullptr, false);
    json plan = rows.is_array() && !rows.empty() && !rows[0].empty() ? rows[0][0] : json::array();
    if (plan.is_string()) plan = json::parse(plan.get<std::string>(), nullptr, false);
    json out = {
        {"database", e.db->name()}, {"summary", explain_summary(plan, analyze)}, {"plan", plan}};
    return mcp::structured_result(std::move(out));
  };
  return t;
}

}  // namespace pgmcp::tools
