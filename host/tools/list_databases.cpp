#include "tools/tools.hpp"

namespace pgmcp::tools {

mcp::Tool list_databases_tool(const config::Settings &settings) {
  json databases = json::array();
  for (const auto &db : settings.databases) {
    // Every database is read-only until write access becomes configurable.
    databases.push_back({{"name", db.name},
                         {"description", db.description},
                         {"read_only", !db.database.allow_write}});
  }
  mcp::Tool t;
  t.name = "list_databases";
  t.title = "List databases";
  t.description =
      "Lists the PostgreSQL databases this server can query, with each one's description and "
      "whether it is read-only. Use the names as the `database` argument of the other tools.";
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
