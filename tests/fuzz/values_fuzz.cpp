// Any text, read as a value of any kind, becomes valid JSON text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/json.hpp"
#include "db/values.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  static const char *const kTypes[] = {"integer", "bigint[]", "double precision", "boolean",
                                       "jsonb",   "json[]",   "text[]",           "box[]",
                                       "numeric", "_int4",    "jsonb[]"};
  const char *type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  std::string_view text(reinterpret_cast<const char *>(data) + 1, size - 1);
  std::string out;
  pgmcp::db::append_json(out, text, pgmcp::db::classify_type(0, type));
  if (!pgmcp::json::accept(out)) __builtin_trap();
  return 0;
}
