// MCP over stdio: newline-delimited JSON on stdin and stdout. Nothing else is
// ever written to stdout. Requests run on a small worker pool, so ping and
// notifications/cancelled are served while a long tool call runs.
#pragma once

#include <cstddef>

#include "mcp/server.hpp"

namespace pgmcp::mcp {

struct StdioOptions {
  std::size_t workers = 4;
  std::size_t max_message_bytes = 16 * 1024 * 1024;
};

// Serves until EOF on in_fd, then waits for the requests in flight and returns.
void serve_stdio(McpServer &server, int in_fd, int out_fd, StdioOptions options = {});

}  // namespace pgmcp::mcp
