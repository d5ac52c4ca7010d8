#include "tools/tools.hpp"

#include "pipeline/query.hpp"
#include "tools/common.hpp"

namespace pgmcp::tools {

namespace {

json attempts_json(const std::vector<pipeline::Attempt> &attempts) {
  json a = json::array();
  for (const auto &x : attempts) a.push_back(x.to_json());
  return a;
}

// The pipeline's answer as the tool's result: the rows, already JSON text,
// are spliced in.
mcp::ToolResult tool_result(pipeline::Answer a) {
  if (!a.ok) {
    std::string text = "no working SQL after " + std::to_string(a.attempts.size()) + " attempt" +
                       (a.attempts.size() == 1 ? "" : "s") + "; the last error: " + a.error +
                       ". Rephrase the question, or use execute_sql with your own SQL.";
    json detail = {
        {"database", a.database}, {"error", a.error}, {"attempts", attempts_json(a.attempts)}};
    return mcp::error_result(text + "\n" +
                             detail.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  core::ObjectText out(a.rows ? a.rows->rows_json.size() + a.rows->rows_text.size() + 2048 : 1024);
  out.add("database", a.database).add("sql", a.sql).add("attempts", attempts_json(a.attempts));
  if (!a.explanation.empty()) out.add("explanation", a.explanation);
  if (a.confidence) out.add("confidence", *a.confidence);
  if (a.rows) {
    out.add("columns", a.rows->columns)
        .add("row_count", a.rows->row_count)
        .add("truncated", a.rows->truncated)
        .add_json("rows", a.rows->rows_json);
    return mcp::structured_result(std::move(out), table_text(*a.rows, "SQL: " + a.sql));
  }
  return mcp::structured_result(std::move(out));
}

}  // namespace

mcp::Tool query_tool(std::shared_ptr<Databases> databases, std::shared_ptr<llm::Client> llm,
                     config::QueryToolSettings settings,
                     std::shared_ptr<observability::Metrics> metrics) {
  mcp::Tool t =
      named("query", "Answer a question from the database",
            "Answers a question in plain language about a PostgreSQL database: an LLM writes the "
            "SQL, pg-mcp checks it against the operator's SQL policy, runs it read-only, repairs "
            "it when PostgreSQL rejects it, and returns the rows with the SQL that produced them. "
            "Use return_type \"sql\" to get the checked SQL without running it.");
  t.input_schema = {
      {"type", "object"},
      {"properties",
       {{"question",
         {{"type", "string"},
          {"minLength", 1},
          {"description", "The question, in plain language."}}},
        {"database",
         {{"type", "string"},
          {"description",
           "The database; optional when one is configured or the question makes it clear."}}},
        {"return_type", {{"type", "string"}, {"enum", {"result", "sql"}}}},
        {"max_rows", {{"type", "integer"}, {"minimum", 1}}}}},
      {"required", {"question"}},
      {"additionalProperties", false}};
  t.output_schema = {{"type", "object"},
                     {"properties",
                      {{"database", {{"type", "string"}}},
                       {"sql", {{"type", "string"}}},
                       {"columns", {{"type", "array"}}},
                       {"rows", {{"type", "array"}}},
                       {"row_count", {{"type", "integer"}}},
                       {"truncated", {{"type", "boolean"}}},
                       {"attempts", {{"type", "array"}}},
                       {"confidence", {{"type", "integer"}}},
                       {"explanation", {{"type", "string"}}}}},
                     {"required", {"database", "sql", "attempts"}}};
  t.annotations = {true, false, false, true};
  t.handler = [databases, llm, settings, metrics](const json &args, RequestContext &ctx) {
    pipeline::Question q;
    q.text = args.value("question", std::string());
    if (auto d = args.find("database"); d != args.end() && d->is_string())
      q.database = d->get<std::string>();
    q.sql_only = args.value("return_type", std::string("result")) == "sql";
    if (auto m = args.find("max_rows"); m != args.end() && m->is_number_integer())
      q.max_rows = m->get<long long>();
    return tool_result(pipeline::answer(q, *databases, *llm, settings, ctx, metrics.get()));
  };
  return t;
}

}  // namespace pgmcp::tools
