// The input-required flow of revision 2026-07-28 (multi round-trip requests):
// a tool that needs the client (e.g. sampling/createMessage) answers with
// resultType "input_required", and the client retries the call with the
// answers. The server keeps nothing: the answers gathered so far travel in
// requestState, sealed with HMAC-SHA256 under a key (per process, or shared
// by a fleet: set_request_state_key) and bound to
// the subject, the tool, its arguments and an expiry, so a client can neither
// forge nor replay them elsewhere.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "mcp/protocol.hpp"

namespace pgmcp::mcp {

struct RequestState {
  std::string subject, tool, args_digest;
  std::vector<json> answers;    // the client's results, in the order they were asked
  json notes = json::object();  // what the rounds so far noted (RequestContext::note)
};

// The sealing key from now on: derived (SHA-256) from secret, which must be at
// least 32 characters, so that every instance given the same secret can
// continue a round another started. Empty: a random key of this process.
// Throws std::invalid_argument for a short secret (the message never holds it).
void set_request_state_key(std::string_view secret);

// Seals state into an opaque string valid for ttl.
std::string seal_request_state(const RequestState &state, std::chrono::seconds ttl);
// Opens a sealed string; nullopt when it was altered, expired or is not ours.
std::optional<RequestState> open_request_state(std::string_view sealed);
// A digest of a tool call's arguments, to bind state to them.
std::string digest_arguments(const json &args);

// Thrown by RequestContext::client_request under 2026-07-28 when the answer
// is not in the retry yet; the dispatcher turns it into an input_required result.
struct InputRequired {
  std::string key;
  json request;  // {method, params}
  std::vector<json> answers;
  json notes = json::object();
};

}  // namespace pgmcp::mcp
