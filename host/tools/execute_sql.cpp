#include "tools/tools.hpp"

#include <algorithm>
#include <cmath>

#include "tools/common.hpp"

namespace pgmcp::tools {

namespace {

mcp::ToolResult run_query(const DatabaseEntry &e, const std::string &sql,
                          const std::vector<std::optional<std::string>> &params, long long max_rows,
                          RequestContext &ctx) {
  db::QueryLimits limits{std::min(max_rows, e.db->options().max_rows),
                         e.db->options().max_result_bytes};
  db::QueryResult r = checked_query(e, sql, params, limits, ctx);
  // The rows are JSON text already: splice them in rather than build values;
  // room for the table too, which the result adds after them in place.
  core::ObjectText out(r.rows_json.size() + r.rows_text.size() + 1024);
  out.add("database", e.db->name()).add("columns", r.columns).add_json("rows", r.rows_json);
  r.rows_json = std::string();  // its memory back now
  out.add("row_count", r.row_count).add("truncated", r.truncated);
  if (r.truncated) out.add("truncated_by", r.truncated_by);
  out.add("duration_ms", std::round(r.duration_ms * 1000) / 1000);
  return mcp::structured_result(std::move(out), table_text(r));
}

}  // namespace

mcp::Tool execute_sql_tool(std::shared_ptr<pipeline::Databases> dbs) {
  bool writable = std::any_of(dbs->entries.begin(), dbs->entries.end(),
                              [](const auto &e) { return e.db->options().allow_write; });
  mcp::Tool t =
      named("execute_sql", writable ? "Run a SQL statement" : "Run a read-only SQL query",
            "Runs one SQL statement (SELECT, WITH, VALUES, TABLE, SHOW) on a PostgreSQL database "
            "and returns the rows. The operator's SQL policy checks it first and says which rule "
            "a refused statement broke. It runs inside a read-only transaction with a statement "
            "timeout and is rolled back (databases the operator made writable commit instead); a "
            "result longer than the row or byte limit is cut short and marked truncated. Use $1, "
            "$2... with \"params\" for values.");
  t.input_schema = {
      {"type", "object"},
      {"properties",
       {{"sql", {{"type", "string"}, {"minLength", 1}, {"description", "One SQL statement."}}},
        {"database", kDatabaseArg},
        {"params",
         {{"type", "array"},
          {"items", {{"type", "string"}}},
          {"description",
           "Values for $1, $2, ... as text ('42', 'true', '2024-01-31'); the server infers "
           "their types. JSON numbers and booleans are taken too, and null is SQL NULL."}}},
        {"max_rows",
         {{"type", "integer"},
          {"minimum", 1},
          {"description", "At most this many rows (capped by the server's max_rows)."}}}}},
      {"required", {"sql"}},
      {"additionalProperties", false}};
  json column = {{"type", "object"},
                 {"properties", {{"name", {{"type", "string"}}}, {"type", {{"type", "string"}}}}}};
  json props = {{"database", {{"type", "string"}}},
                {"columns", {{"type", "array"}, {"items", column}}},
                {"rows", {{"type", "array"}, {"items", {{"type", "array"}}}}},
                {"row_count", {{"type", "integer"}}},
                {"truncated", {{"type", "boolean"}}},
                {"truncated_by", {{"type", "string"}, {"enum", {"max_rows", "max_result_bytes"}}}},
                {"duration_ms", {{"type", "number"}}}};
  t.output_schema = {
      {"type", "object"},
      {"properties", props},
      {"required", {"database", "columns", "rows", "row_count", "truncated", "duration_ms"}}};
  t.annotations = {!writable, writable, !writable, false};
  t.handler = [dbs](const json &args, RequestContext &ctx) {
    const DatabaseEntry &e = dbs->resolve(args);
    std::vector<std::optional<std::string>> params;
    for (const auto &p : args.value("params", json::array())) {
      if (p.is_null())
        params.emplace_back(std::nullopt);
      else if (p.is_string())
        params.emplace_back(p.get<std::string>());
      else
        params.emplace_back(p.dump());
    }
    long long max_rows = e.db->options().max_rows;
    if (auto m = args.find("max_rows"); m != args.end() && !m->is_null()) {
      // above the database's max_rows is capped; outside 1..2^63-1 is an error
      bool whole = m->is_number_integer();
      bool fits =
          whole && (m->is_number_unsigned() ? m->get<unsigned long long>() <= 9223372036854775807ULL
                                            : m->get<long long>() >= 1);
      if (!fits)
        throw ToolError("max_rows = " + m->dump() +
                        " is not a whole number from 1 to 9223372036854775807 (the database "
                        "returns at most " +
                        std::to_string(e.db->options().max_rows) + " rows); nothing was run");
      max_rows = m->get<long long>();
    }
    return run_query(e, args["sql"].get<std::string>(), params, max_rows, ctx);
  };
  return t;
}

void add_database_tools(mcp::Registry &registry, std::shared_ptr<Databases> dbs) {
  registry.add_tool(execute_sql_tool(dbs));
  registry.add_tool(explain_query_tool(dbs));
  registry.add_tool(describe_table_tool(dbs));
  registry.add_tool(search_objects_tool(dbs));
}

}  // namespace pgmcp::tools
