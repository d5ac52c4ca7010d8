// Whatever a Redis server (or anything on its port) sends, the redis rate
// limiter's reply reader returns replies or throws ProtocolError: no crash, no
// hang, bounded memory. And a command it encodes reads back as the same
// strings.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "resp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  // The first byte chooses how the bytes arrive: in chunks of 1 to 256.
  std::size_t chunk = static_cast<std::size_t>(data[0]) + 1;
  std::string input(reinterpret_cast<const char *>(data) + 1, size - 1);
  std::size_t at = 0;
  pgmcp::resp::Reader reader([&](char *buf, std::size_t n) {
    std::size_t k = std::min({n, chunk, input.size() - at});
    std::memcpy(buf, input.data() + at, k);
    at += k;
    return k;
  });
  try {
    for (int i = 0; i < 64 && at < input.size(); ++i) reader.read();
  } catch (const pgmcp::resp::ProtocolError &) {
  }
  // Round trip: the input split at NUL bytes, as a command.
  std::vector<std::string> args;
  std::string cur;
  for (char c : input) {
    if (c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  args.push_back(cur);
  if (args.size() > 4096) return 0;
  std::string wire = pgmcp::resp::encode(args);
  std::size_t pos = 0;
  pgmcp::resp::Reader back([&](char *buf, std::size_t n) {
    std::size_t k = std::min(n, wire.size() - pos);
    std::memcpy(buf, wire.data() + pos, k);
    pos += k;
    return k;
  });
  pgmcp::resp::Reply r = back.read();
  if (r.type != '*' || r.items.size() != args.size()) __builtin_trap();
  for (std::size_t i = 0; i < args.size(); ++i)
    if (r.items[i].type != '$' || r.items[i].text != args[i]) __builtin_trap();
  return 0;
}
