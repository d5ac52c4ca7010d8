// The authenticators behind [auth] mode = bearer | jwt.
#pragma once

#include <memory>

#include "config/settings.hpp"
#include "mcp/http_auth.hpp"

namespace pgmcp::mcp {

// nullptr for mode = none. Throws std::runtime_error when the keys cannot be
// loaded (a JWKS file that is missing or malformed).
std::shared_ptr<Authenticator> make_authenticator(const config::AuthSettings &settings);

// Exposed for tests: base64url without padding.
std::string base64url_decode(std::string_view in);
std::string base64url_encode(std::string_view in);

}  // namespace pgmcp::mcp
