#include "tools/tools.hpp"

#include "tools/common.hpp"

namespace pgmcp::tools {

mcp::Tool list_databases_tool(const config::Settings &settings) {
  json databases = json::array();
  for (const auto &db : settings.databases) {
    // read_only: the SQL policy refuses writes there (no allow_write).
    databases.push_back({{"name", db.name},
                         {"description", db.description},
                         {"read_only", !db.database.allow_write}});
  }
  mcp::Tool t =
      named("list_databases", "List databases",
            "Lists the PostgreSQL databases this server can query, with each one's description "
            "and whether it is read-only. Use the names as the `database` argument of the other "
            "tools.");
  t.input_schema = {
      {"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}};
  t.output_schema = {{"type", "object"},
                     {"properties",
                      {{"databases",
                        {{"type", "array"},
                         {"items",
                          {{"type", "object"},
                           {"properties",
                            {{"name", {{"type", "string"}}},
                             {"description", {{"type", "string"}}},
                             {"read_only", {{"type", "boolean"}}}}},
                           {"required", {"name", "description", "read_only"}}}}}}}},
                     {"required", {"databases"}}};
  t.annotations = {true, false, true, false};
  t.handler = [databases](const json &, mcp::RequestContext &) {
    return mcp::structured_result({{"databases", databases}});
  };
  return t;
}

}  // namespace pgmcp::tools
