// The authenticators behind [auth] mode = bearer | jwt.
#pragma once

#include <memory>

#include "config/settings.hpp"
#include "mcp/http_auth.hpp"

namespace pgmcp::mcp {

// nullptr for mode = none. Throws std::runtime_error when the keys cannot be
// loaded (a JWKS file that is missing or malformed).
std::shared_ptr<Authenticator> make_authenticator(const config::AuthSettings &settings);

}  // namespace pgmcp::mcp
