// PostgreSQL values, in the server's text format, as JSON: integers and
// floats as numbers (NaN and infinities as strings), numeric as an exact
// string, booleans, null, json/jsonb embedded, arrays as JSON arrays, and
// everything else as PostgreSQL's own text (ISO dates).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.hpp"

namespace pgmcp::db {

enum class ValueKind : std::uint8_t { text, integer, floating, boolean, json, array };

struct ColumnType {
  ValueKind kind = ValueKind::text;
  ValueKind element = ValueKind::text;  // for arrays
};

// Classifies by type OID, falling back on the name ("_int4" is an array).
ColumnType classify_type(std::uint32_t oid, std::string_view name);

json to_json(std::string_view text, const ColumnType &type);

// Appends the same value as JSON text to out (one pass, no intermediate JSON).
void append_json(std::string &out, std::string_view text, const ColumnType &type);

}  // namespace pgmcp::db
