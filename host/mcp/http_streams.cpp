#include "mcp/http_streams.hpp"

namespace pgmcp::mcp {

std::ostream &open_event_stream(Poco::Net::HTTPServerResponse &r) {
  r.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
  r.setContentType("text/event-stream");
  r.set("Cache-Control", "no-cache");
  r.set("X-Accel-Buffering", "no");  // proxies must not buffer events
  r.setChunkedTransferEncoding(true);
  return r.send();
}

}  // namespace pgmcp::mcp
