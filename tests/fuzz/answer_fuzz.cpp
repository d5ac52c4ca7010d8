// Fuzzes what clients and models send back: the SQL extraction from an LLM's
// answer, and the requestState a 2026-07-28 client echoes. Any input: no
// crash, no hang; forged state never opens.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mcp/request_state.hpp"
#include "pipeline/query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
  if (data[0] == 'S') {
    // Without our key nothing the fuzzer makes can carry a valid tag.
    if (pgmcp::mcp::open_request_state(text)) std::abort();
    return 0;
  }
  std::string explanation;
  std::string sql = pgmcp::pipeline::extract_sql(text, &explanation);
  // The SQL is a piece of the answer, or a JSON string in it (unescaping only shrinks).
  if (sql.size() > text.size()) std::abort();
  return 0;
}
