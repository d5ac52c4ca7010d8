// The rules of the Streamable HTTP binding that need no connection: which
// Host and Origin may reach a loopback server (the DNS-rebinding defence), and
// how revision 2026-07-28's request headers must mirror the body.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "mcp/protocol.hpp"

namespace pgmcp::mcp {

// Why a request with this Host and Origin (null: not sent) is refused, or
// nullopt when it may go on. Bound to loopback, the Host must be a loopback
// name or one of allowed_hosts; an Origin must be loopback or one of
// allowed_origins ("*" allows any).
std::optional<std::string> access_refusal(const std::string *host, const std::string *origin,
                                          const config::Endpoint &listen,
                                          const std::vector<std::string> &allowed_hosts,
                                          const std::vector<std::string> &allowed_origins);

// A header's value by name, nullopt when absent.
using HeaderLookup = std::function<std::optional<std::string>(const char *name)>;

// 2026-07-28: MCP-Protocol-Version, Mcp-Method and (for tools/call,
// prompts/get, resources/read) Mcp-Name must be sent and agree with the body.
// Returns what disagrees, or nullopt.
std::optional<std::string> header_mismatch(const HeaderLookup &header, const Incoming &in,
                                           const ModernMeta &meta);

// The value of a header that may carry the base64 sentinel =?base64?...?=.
std::string decode_header_value(const std::string &value);

}  // namespace pgmcp::mcp
