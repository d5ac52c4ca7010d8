// PostgreSQL values, in the server's text format, as JSON text:
//   - integers and floats as numbers; NaN and infinities, and integers beyond
//     JavaScript's exact range (2^53 - 1), as strings of their digits;
//   - numeric as an exact string, booleans, SQL NULL as null;
//   - json and jsonb embedded exactly as the server printed them, except
//     that a JSON null (and an object whose one key is "$json") is wrapped as
//     {"$json": value}, so that SQL NULL and JSON null differ;
//   - arrays of any element type as JSON arrays of their elements, nested
//     for each dimension; an array whose lower bounds are not all 1 as
//     {"lower_bounds": [...], "values": [...]};
//   - everything else as PostgreSQL's own text (ISO dates, enum labels).
// docs/databases.md says the same for users.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgmcp::db {

enum class ValueKind : std::uint8_t { text, integer, floating, boolean, json, array };

struct ColumnType {
  ValueKind kind = ValueKind::text;
  ValueKind element = ValueKind::text;  // for arrays
  char delimiter = ',';                 // between array elements (box: ';')
};

// Classifies by the type's name as format_type prints it ("bigint",
// "text[]"), or as older drivers name it ("int8", "_text"), and its OID.
ColumnType classify_type(std::uint32_t oid, std::string_view name);

// Appends the value as JSON text to out (one pass, no intermediate JSON).
void append_json(std::string &out, std::string_view text, const ColumnType &type);

// Appends the value as one cell of a tab-separated table, for people and
// models: PostgreSQL's COPY text conventions (\t \n \r \\ escaped; the
// caller writes \N for NULL), json and arrays as the JSON append_json
// writes. The cell is itself escaped as the inside of a JSON string, so that
// it can be copied into a message as it is.
void append_cell(std::string &out, std::string_view text, const ColumnType &type);
// The same for text that is a cell already (a column name).
void append_cell_text(std::string &out, std::string_view text);

}  // namespace pgmcp::db
