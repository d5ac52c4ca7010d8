// Base64 (RFC 4648): the standard and URL-safe alphabets, padding optional.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgmcp::util {

// Decodes either alphabet; padding is optional. nullopt on any other character.
std::optional<std::string> base64_decode(std::string_view in);
// URL-safe alphabet, no padding (as JWTs use).
std::string base64url_encode(std::string_view in);

}  // namespace pgmcp::util
