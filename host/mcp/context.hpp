// What a tool, prompt or resource handler sees of the request it serves.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "log/log.hpp"
#include "mcp/protocol.hpp"

namespace pgmcp::mcp {

class RequestContext {
 public:
  virtual ~RequestContext() = default;

  // True once the client cancelled the request (or its connection went away).
  virtual bool cancelled() const = 0;
  // Runs fn when the request is cancelled (at once if it already is). fn must
  // be quick and thread-safe: it runs on the thread that saw the cancellation.
  // The registration lasts until the request finishes.
  virtual void on_cancel(std::function<void()> fn) = 0;

  // Reports progress if the client asked for it (a progressToken); values that
  // do not increase are dropped, as the protocol requires.
  virtual void progress(double progress, std::optional<double> total, std::string_view message) = 0;
  // Sends notifications/message if the client's log level admits it.
  virtual void log(log::Level level, std::string_view logger, const json &data) = 0;

  // The authenticated subject ("" without authentication).
  virtual const std::string &subject() const = 0;
  // The protocol revision this request is served under.
  virtual const std::string &protocol_version() const = 0;
  // The client's declared capabilities (an object, possibly empty).
  virtual const json &client_capabilities() const = 0;

  // Sends a request to the client (e.g. sampling/createMessage) and waits for
  // its result. Throws ProtocolError on a client error, a timeout, a
  // cancellation, or when the revision has no server-to-client requests.
  virtual json client_request(std::string_view method, const json &params,
                              std::chrono::milliseconds timeout) = 0;
};

}  // namespace pgmcp::mcp
