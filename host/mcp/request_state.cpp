#include "mcp/request_state.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <mutex>
#include <stdexcept>

#include "util/base64.hpp"

namespace pgmcp::mcp {

namespace {

using Key = std::array<unsigned char, 32>;

Key random_key() {
  Key out{};
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
    throw std::runtime_error("no randomness for the request-state key");
  return out;
}

std::mutex g_key_mutex;
Key &key_locked() {
  static Key k = random_key();
  return k;
}

Key key() {
  std::lock_guard lock(g_key_mutex);
  return key_locked();
}

std::string mac(std::string_view data) {
  Key k = key();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()),
       reinterpret_cast<const unsigned char *>(data.data()), data.size(), out, &len);
  OPENSSL_cleanse(k.data(), k.size());
  return std::string(reinterpret_cast<char *>(out), len);
}

long long now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void set_request_state_key(std::string_view secret) {
  Key next{};
  if (secret.empty()) {
    next = random_key();
  } else {
    if (secret.size() < 32)
      throw std::invalid_argument("the request-state key has " + std::to_string(secret.size()) +
                                  " characters; it needs at least 32 (for example 32 random "
                                  "bytes in base64: openssl rand -base64 32)");
    unsigned int len = 0;
    EVP_Digest(secret.data(), secret.size(), next.data(), &len, EVP_sha256(), nullptr);
  }
  std::lock_guard lock(g_key_mutex);
  key_locked() = next;
}

std::string digest_arguments(const json &args) {
  std::string text = args.dump();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), out, &len, EVP_sha256(), nullptr);
  return util::base64url_encode(std::string_view(reinterpret_cast<char *>(out), len));
}

std::string seal_request_state(const RequestState &state, std::chrono::seconds ttl) {
  json payload = {{"v", 1},
                  {"sub", state.subject},
                  {"tool", state.tool},
                  {"args", state.args_digest},
                  {"exp", now_s() + ttl.count()},
                  {"answers", state.answers},
                  {"notes", state.notes}};
  std::string body =
      util::base64url_encode(payload.dump(-1, ' ', false, json::error_handler_t::replace));
  return body + "." + util::base64url_encode(mac(body));
}

std::optional<RequestState> open_request_state(std::string_view sealed) {
  size_t dot = sealed.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string_view body = sealed.substr(0, dot);
  auto tag = util::base64_decode(sealed.substr(dot + 1));
  std::string expected = mac(body);
  if (!tag || tag->size() != expected.size() ||
      CRYPTO_memcmp(tag->data(), expected.data(), expected.size()) != 0)
    return std::nullopt;
  auto text = util::base64_decode(body);
  if (!text) return std::nullopt;
  json p = json::parse(*text, nullptr, false);
  if (!p.is_object() || p.value("v", 0) != 1 || !p.contains("exp") ||
      !p["exp"].is_number_integer() || p["exp"].get<long long>() < now_s() ||
      !p.contains("answers") || !p["answers"].is_array())
    return std::nullopt;
  RequestState s;
  s.subject = p.value("sub", "");
  s.tool = p.value("tool", "");
  s.args_digest = p.value("args", "");
  for (const auto &a : p["answers"]) s.answers.push_back(a);
  if (auto n = p.find("notes"); n != p.end() && n->is_object()) s.notes = *n;
  return s;
}

}  // namespace pgmcp::mcp
