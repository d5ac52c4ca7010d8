// Percent-encoding of URI components (RFC 3986), as clients' URI-template
// expansion writes resource URIs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgmcp::util {

// "Mixed%20Case" -> "Mixed Case"; nullopt for a malformed escape ("%2", "%zz").
// '+' stays '+' (it is a space only in form encoding).
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace pgmcp::util
