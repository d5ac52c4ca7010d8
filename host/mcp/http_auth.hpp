// Authentication of HTTP requests: the interface the transport calls, and the
// result it acts on. Implementations: none (loopback only), static bearer
// tokens, and JWT as an OAuth 2.1 resource server.
#pragma once

#include <optional>
#include <string>

#include "mcp/protocol.hpp"

namespace pgmcp::mcp {

struct AuthOutcome {
  bool ok = false;
  std::string subject;           // who, when ok
  int status = 401;              // 401 or 403 when not ok
  std::string www_authenticate;  // the challenge to send when not ok
  std::string message;           // for the JSON-RPC error body; never a secret
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // authorization: the Authorization header, "" when absent.
  virtual AuthOutcome check(const std::string &authorization) = 0;
  // RFC 9728 protected-resource metadata, when this method has any.
  virtual std::optional<json> resource_metadata() const { return std::nullopt; }
};

}  // namespace pgmcp::mcp
