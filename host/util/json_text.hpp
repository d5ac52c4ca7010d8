// Writing JSON text directly, for the hot paths that skip building JSON values.
#pragma once

#include <string>
#include <string_view>

namespace pgmcp::util {

// Appends s as a JSON string literal (quotes, escapes, control characters).
void append_json_string(std::string &out, std::string_view s);

}  // namespace pgmcp::util
