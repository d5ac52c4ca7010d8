// The list_databases tool: the configured databases, from config alone.
#pragma once

#include "config/settings.hpp"
#include "mcp/registry.hpp"

namespace pgmcp::tools {

mcp::Tool list_databases_tool(const config::Settings &settings);

}  // namespace pgmcp::tools
