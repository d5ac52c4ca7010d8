// What the host hands plugins as `const pgmcp_call *`: the MCP request a call
// serves, so that client_sample and call_cancelled reach it.
#pragma once

#include <optional>

#include "mcp/context.hpp"
#include "mcp/request_state.hpp"
#include "pgmcp/plugin.h"

struct pgmcp_call {
  pgmcp::mcp::RequestContext *ctx;
  // Set by client_sample when a 2026-07-28 client must be asked first: the
  // plugin gets an error back (no exception crosses the C ABI) and the host
  // rethrows this once the plugin has returned.
  std::optional<pgmcp::mcp::InputRequired> input_required;
};
