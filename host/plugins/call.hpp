// What the host hands plugins as `const pgmcp_call *`: the MCP request a call
// serves, so that client_sample and call_cancelled reach it.
#pragma once

#include "mcp/context.hpp"
#include "pgmcp/plugin.h"

struct pgmcp_call {
  pgmcp::mcp::RequestContext *ctx;
};
