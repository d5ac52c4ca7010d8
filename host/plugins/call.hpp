// What the host hands plugins as `const pgmcp_call *`: the request a call
// serves, so that client_sample and call_cancelled reach it.
#pragma once

#include <exception>

#include "core/context.hpp"
#include "pgmcp/plugin.h"

struct pgmcp_call {
  pgmcp::core::RequestContext *ctx;
  // An exception that must not end in the plugin: a host service caught it
  // (no exception crosses the C ABI), answered the plugin with an error, and
  // whoever called the plugin rethrows it once the plugin has returned.
  std::exception_ptr deferred;
};
