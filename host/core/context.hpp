// What a unit of work knows of the request it serves: who asked, whether
// they still want the answer, where progress and log lines go, and how to
// ask the caller's client something. The database, SQL, LLM and pipeline
// layers see requests only through this interface; the MCP layer
// implements it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "log/log.hpp"

namespace pgmcp::core {

class RequestContext {
 public:
  virtual ~RequestContext() = default;

  // True once the caller cancelled the request (or its connection went away).
  virtual bool cancelled() const = 0;
  // Runs fn when the request is cancelled (at once if it already is). fn must
  // be quick and thread-safe: it runs on the thread that saw the cancellation.
  // The registration lasts until the request finishes.
  virtual void on_cancel(std::function<void()> fn) = 0;

  // Reports progress if the caller asked for it; values that do not
  // increase are dropped.
  virtual void progress(double progress, std::optional<double> total, std::string_view message) = 0;
  // Sends a log line to the caller if its log level admits it.
  virtual void log(log::Level level, std::string_view logger, const json &data) = 0;

  // The authenticated subject ("" without authentication).
  virtual const std::string &subject() const = 0;
  // The protocol revision this request is served under.
  virtual const std::string &protocol_version() const = 0;
  // The client's declared capabilities (an object, possibly empty).
  virtual const json &client_capabilities() const = 0;

  // Asks the caller's client (e.g. method "sampling/createMessage") and
  // waits for its result. Throws ClientTimeout when the client does not
  // answer in time, and another exception derived from std::exception when
  // it answers with an error or cannot be asked.
  // It may also throw an exception of another type that suspends the whole
  // request until the client has answered; code between here and the
  // transport must let such exceptions pass untouched.
  virtual json client_request(std::string_view method, const json &params,
                              std::chrono::milliseconds timeout) = 0;

  // Work done in an earlier round of the same call. Revision 2026-07-28 runs
  // a call again from the top when the client brings the answers it was
  // asked for; what a round noted travels (sealed) to the next, so that work
  // is not done twice: recall gives what was noted under key, if anything.
  virtual std::optional<json> recall(const std::string &key) const {
    (void)key;
    return std::nullopt;
  }
  virtual void note(const std::string &key, json value) {
    (void)key;
    (void)value;
  }
};

// client_request's client did not answer within its timeout.
class ClientTimeout : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure the caller can act on (a bad argument, an unknown database, a
// question that produced no working SQL): it reaches the client as the
// request's error result, in these words, and the server carries on.
class CallerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pgmcp::core
