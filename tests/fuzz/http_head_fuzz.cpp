// Fuzzes what the HTTP event loop reads of a waiting request (the peeked
// bytes) and Poco's parse of the same head, which a worker then does. Any
// input: no crash, no hang, and the event loop's verdict is consistent: a
// request it calls whole has a head that ends inside the bytes, and one it
// sends to a worker never makes that worker wait for a body the event loop
// could have waited for.
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "http/head.hpp"

using namespace pgmcp::http::head;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  Arrived arrived = assess(bytes);
  std::size_t end = head_end(bytes);
  if (end == std::string_view::npos) {
    if (arrived != Arrived::part_of_head && arrived != Arrived::head_too_large) std::abort();
    if ((arrived == Arrived::head_too_large) != (size >= kPeekBytes)) std::abort();
    return 0;
  }
  if (end > size) std::abort();
  BodyHint hint = body_hint(bytes.substr(0, end));
  if (arrived == Arrived::whole && !hint.unknown && end + hint.length > size) std::abort();
  if (arrived == Arrived::head_and_part_of_body && (hint.unknown || end + hint.length > kPeekBytes))
    std::abort();
  // What the worker parses: it may refuse the head (a 400), never crash.
  try {
    std::istringstream in{std::string(bytes.substr(0, end))};
    Poco::Net::HTTPRequest request;
    request.read(in);
    if (request.hasContentLength()) (void)request.getContentLength64();
    (void)request.getChunkedTransferEncoding();
  } catch (const Poco::Exception &) {
  }
  return 0;
}
