// What the HTTP event loop reads of a waiting request's bytes (peeked, not
// consumed) to decide whether it is whole enough for a worker. Lenient where
// Poco's parser decides (a worker answers 400 for what it refuses), strict
// where a wrong guess would make a worker wait on the client.
#pragma once

#include <cstddef>
#include <string_view>

namespace pgmcp::http::head {

// How much of a waiting request the event loop looks at: a head (and small
// body) must fit, else the head is refused as too large (431) or the body is
// read by a worker under the body deadline.
inline constexpr std::size_t kPeekBytes = 64 * 1024;

// Where a head ends in `data` (the offset after the blank line), or npos.
std::size_t head_end(std::string_view data);

// What a complete head says about its body.
struct BodyHint {
  // chunked, an unreadable or repeated length, or a client waiting for
  // 100-continue: a worker decides
  bool unknown = false;
  std::size_t length = 0;
};
BodyHint body_hint(std::string_view head);

// How much of a request the peeked bytes hold.
enum class Arrived {
  part_of_head,
  head_too_large,
  whole,
  head_of_large_body,
  head_and_part_of_body
};
Arrived assess(std::string_view data);

}  // namespace pgmcp::http::head
