// The tools and resources pg-mcp offers over its databases. One file per
// tool; each returns its definition, bound to the databases it serves.
#pragma once

#include <memory>

#include "config/settings.hpp"
#include "llm/client.hpp"
#include "mcp/registry.hpp"
#include "pipeline/databases.hpp"

namespace pgmcp::tools {

mcp::Tool list_databases_tool(const config::Settings &settings);
mcp::Tool execute_sql_tool(std::shared_ptr<pipeline::Databases> dbs);
mcp::Tool explain_query_tool(std::shared_ptr<pipeline::Databases> dbs);
mcp::Tool describe_table_tool(std::shared_ptr<pipeline::Databases> dbs);
mcp::Tool search_objects_tool(std::shared_ptr<pipeline::Databases> dbs);
// The `query` tool: a question answered by SQL an LLM writes (pipeline/query.hpp).
mcp::Tool query_tool(std::shared_ptr<pipeline::Databases> dbs, std::shared_ptr<llm::Client> llm,
                     config::QueryToolSettings settings,
                     std::shared_ptr<observability::Metrics> metrics = nullptr);

// execute_sql, explain_query, describe_table and search_objects.
void add_database_tools(mcp::Registry &registry, std::shared_ptr<pipeline::Databases> dbs);

// The schema resources: pgmcp://{database}/schema and
// pgmcp://{database}/table/{schema}/{table}.
std::shared_ptr<mcp::ResourceProvider> database_resources(
    std::shared_ptr<pipeline::Databases> databases);

}  // namespace pgmcp::tools
