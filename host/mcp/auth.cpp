#include "mcp/auth.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/URI.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>

#include "log/log.hpp"
#include "util/base64.hpp"

namespace pgmcp::mcp {

namespace {

std::string base64url_decode(std::string_view in) {
  auto out = util::base64_decode(in);
  if (!out) throw std::invalid_argument("not base64url");
  return *out;
}

std::string sha256(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char *>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<char *>(d), sizeof d);
}

// "Bearer abc" -> "abc"; "" when the scheme is not Bearer.
std::string bearer_token(const std::string &authorization) {
  if (authorization.size() < 7) return "";
  std::string scheme = authorization.substr(0, 7);
  for (auto &c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return "";
  auto token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.erase(0, 1);
  return token;
}

class BearerAuthenticator final : public Authenticator {
 public:
  explicit BearerAuthenticator(const std::vector<std::string> &entries) {
    int n = 0;
    for (const auto &e : entries) {
      ++n;
      auto colon = e.find(':');
      std::string subject =
          colon == std::string::npos ? "token-" + std::to_string(n) : e.substr(0, colon);
      std::string token = colon == std::string::npos ? e : e.substr(colon + 1);
      tokens_.push_back({subject, sha256(token)});
    }
  }

  AuthOutcome check(const std::string &authorization) override {
    AuthOutcome out;
    std::string token = bearer_token(authorization);
    if (token.empty()) {
      out.www_authenticate = "Bearer realm=\"pg-mcp\"";
      out.message = "Unauthorized: send Authorization: Bearer <token>";
      return out;
    }
    // Compare digests (equal length) against every token, in constant time.
    std::string digest = sha256(token);
    const std::string *match = nullptr;
    for (const auto &t : tokens_) {
      bool eq = CRYPTO_memcmp(digest.data(), t.digest.data(), digest.size()) == 0;
      if (eq) match = &t.subject;
    }
    if (match == nullptr) {
      out.www_authenticate = "Bearer realm=\"pg-mcp\", error=\"invalid_token\"";
      out.message = "Unauthorized: the bearer token is not valid";
      return out;
    }
    out.ok = true;
    out.subject = *match;
    return out;
  }

 private:
  struct Entry {
    std::string subject;
    std::string digest;
  };
  std::vector<Entry> tokens_;
};

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

PKey key_from_jwk(const json &jwk) {
  std::string kty = jwk.value("kty", "");
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld_guard(bld,
                                                                            OSSL_PARAM_BLD_free);
  std::vector<std::unique_ptr<BIGNUM, decltype(&BN_free)>> bns;
  const char *type = nullptr;
  std::string pub;
  if (kty == "RSA") {
    std::string n = base64url_decode(jwk.value("n", "")), e = base64url_decode(jwk.value("e", ""));
    if (n.empty() || e.empty()) throw std::runtime_error("RSA key without n or e");
    bns.emplace_back(BN_bin2bn(reinterpret_cast<const unsigned char *>(n.data()),
                               static_cast<int>(n.size()), nullptr),
                     BN_free);
    bns.emplace_back(BN_bin2bn(reinterpret_cast<const unsigned char *>(e.data()),
                               static_cast<int>(e.size()), nullptr),
                     BN_free);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bns[0].get());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bns[1].get());
    type = "RSA";
  } else if (kty == "EC") {
    if (jwk.value("crv", "") != "P-256")
      throw std::runtime_error("EC key on a curve other than P-256");
    std::string x = base64url_decode(jwk.value("x", "")), y = base64url_decode(jwk.value("y", ""));
    if (x.size() != 32 || y.size() != 32) throw std::runtime_error("EC key with malformed x or y");
    pub = std::string(1, '\x04') + x + y;
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size());
    type = "EC";
  } else {
    throw std::runtime_error("unsupported key type '" + kty + "'");
  }
  OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params_guard(params, OSSL_PARAM_free);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx_guard(ctx, EVP_PKEY_CTX_free);
  EVP_PKEY *key = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx) <= 0 ||
      EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
    throw std::runtime_error(std::string("cannot build a ") + type + " key from the JWK");
  }
  return PKey(key, EVP_PKEY_free);
}

// ES256 signatures are r||s; OpenSSL wants DER.
std::string es256_to_der(const std::string &raw) {
  if (raw.size() != 64) return "";
  ECDSA_SIG *sig = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(reinterpret_cast<const unsigned char *>(raw.data()), 32, nullptr);
  BIGNUM *s = BN_bin2bn(reinterpret_cast<const unsigned char *>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char *der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  std::string out =
      len > 0 ? std::string(reinterpret_cast<char *>(der), static_cast<size_t>(len)) : "";
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

bool verify(EVP_PKEY *key, const std::string &alg, std::string_view signed_part, std::string sig) {
  if (alg == "ES256") sig = es256_to_der(sig);
  if (sig.empty()) return false;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char *>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char *>(signed_part.data()),
                             signed_part.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

struct Jwk {
  std::string kid;
  std::string kty;
  std::shared_ptr<EVP_PKEY> key;
};

std::vector<Jwk> parse_jwks(const std::string &text, const std::string &where) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception &e) {
    throw std::runtime_error(where + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    throw std::runtime_error(where + ": a JWKS is an object with a \"keys\" array");
  std::vector<Jwk> keys;
  for (const auto &k : doc["keys"]) {
    if (!k.is_object()) continue;
    if (k.value("use", "sig") != "sig") continue;
    try {
      PKey key = key_from_jwk(k);
      keys.push_back({k.value("kid", ""), k.value("kty", ""),
                      std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free)});
    } catch (const std::exception &e) {
      log::warning("auth", where + ": skipping key '" + k.value("kid", "") + "': " + e.what());
    }
  }
  if (keys.empty())
    throw std::runtime_error(where + ": no usable signing key (RS256 or ES256 P-256)");
  return keys;
}

std::string fetch_url(const std::string &url) {
  Poco::URI uri(url);
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  if (uri.getScheme() == "https") {
    session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort());
  } else {
    session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
  }
  session->setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathAndQuery(),
                             Poco::Net::HTTPMessage::HTTP_1_1);
  req.set("Accept", "application/json");
  session->sendRequest(req);
  Poco::Net::HTTPResponse resp;
  std::istream &in = session->receiveResponse(resp);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (resp.getStatus() != Poco::Net::HTTPResponse::HTTP_OK)
    throw std::runtime_error("HTTP " + std::to_string(resp.getStatus()));
  return ss.str();
}

class JwtAuthenticator final : public Authenticator {
 public:
  explicit JwtAuthenticator(const config::AuthSettings &s) : s_(s) {
    if (s_.audiences.empty()) s_.audiences.push_back(s_.resource);
    Poco::URI r(s_.resource);
    std::string path = r.getPath() == "/" ? "" : r.getPath();
    metadata_url_ =
        r.getScheme() + "://" + r.getAuthority() + "/.well-known/oauth-protected-resource" + path;
    reload(true);
  }

  std::optional<json> resource_metadata() const override {
    json m = {{"resource", s_.resource},
              {"authorization_servers", s_.authorization_servers.empty()
                                            ? std::vector<std::string>{s_.issuer}
                                            : s_.authorization_servers},
              {"bearer_methods_supported", {"header"}},
              {"resource_name", "pg-mcp"}};
    if (!s_.required_scopes.empty()) m["scopes_supported"] = s_.required_scopes;
    return m;
  }

  AuthOutcome check(const std::string &authorization) override {
    std::string token = bearer_token(authorization);
    if (token.empty())
      return fail(401, "", "Unauthorized: send Authorization: Bearer <access token>");
    std::string why;
    json claims;
    if (!validate(token, claims, why)) return fail(401, "invalid_token", "Unauthorized: " + why);
    if (!s_.required_scopes.empty()) {
      std::vector<std::string> have;
      if (auto sc = claims.find("scope"); sc != claims.end() && sc->is_string())
        have = config::split_list(replace_spaces(*sc));
      if (auto sc = claims.find("scp"); sc != claims.end() && sc->is_array())
        for (const auto &v : *sc)
          if (v.is_string()) have.push_back(v.get<std::string>());
      for (const auto &need : s_.required_scopes) {
        if (std::find(have.begin(), have.end(), need) == have.end()) {
          return fail(403, "insufficient_scope", "Forbidden: the token lacks scope '" + need + "'");
        }
      }
    }
    AuthOutcome out;
    out.ok = true;
    out.subject = claims.value("sub", claims.value("client_id", std::string("unknown")));
    return out;
  }

 private:
  static std::string replace_spaces(const json &v) {
    std::string s = v.get<std::string>();
    std::replace(s.begin(), s.end(), ' ', ',');
    return s;
  }

  AuthOutcome fail(int status, const std::string &error, std::string message) {
    AuthOutcome out;
    out.status = status;
    out.message = std::move(message);
    std::string h = "Bearer resource_metadata=\"" + metadata_url_ + "\"";
    if (!error.empty()) h += ", error=\"" + error + "\"";
    if (error == "insufficient_scope") {
      std::string scopes;
      for (const auto &sc : s_.required_scopes) scopes += (scopes.empty() ? "" : " ") + sc;
      h += ", scope=\"" + scopes + "\"";
    }
    out.www_authenticate = std::move(h);
    return out;
  }

  void reload(bool at_start) {
    std::string text, where = s_.jwks_file.empty() ? s_.jwks_url : s_.jwks_file;
    try {
      if (!s_.jwks_file.empty()) {
        std::ifstream in(s_.jwks_file);
        if (!in) throw std::runtime_error("cannot read the file");
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
      } else {
        text = fetch_url(s_.jwks_url);
      }
      auto keys = parse_jwks(text, where);
      std::lock_guard lock(mutex_);
      keys_ = std::move(keys);
    } catch (const std::exception &e) {
      std::string msg = std::string("JWKS ") + (e.what()[0] == '/' ? "" : where + ": ") + e.what();
      if (at_start && !s_.jwks_file.empty()) throw std::runtime_error(msg);
      log::warning("auth", msg);
    }
    last_reload_ = std::chrono::steady_clock::now();
  }

  std::shared_ptr<EVP_PKEY> find_key(const std::string &kid, const std::string &kty) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      {
        std::lock_guard lock(mutex_);
        for (const auto &k : keys_)
          if ((kid.empty() || k.kid == kid) && k.kty == kty) return k.key;
      }
      // An unknown kid may be a rotated key: refetch, at most once a minute.
      std::lock_guard reload_lock(reload_mutex_);
      if (std::chrono::steady_clock::now() - last_reload_ < std::chrono::seconds(60))
        return nullptr;
      reload(false);
    }
    return nullptr;
  }

  bool validate(const std::string &token, json &claims, std::string &why) {
    auto d1 = token.find('.');
    auto d2 = d1 == std::string::npos ? d1 : token.find('.', d1 + 1);
    if (d2 == std::string::npos || token.find('.', d2 + 1) != std::string::npos) {
      why = "the token is not a JWT";
      return false;
    }
    json header;
    std::string sig;
    try {
      header = json::parse(base64url_decode(std::string_view(token).substr(0, d1)));
      claims = json::parse(base64url_decode(std::string_view(token).substr(d1 + 1, d2 - d1 - 1)));
      sig = base64url_decode(std::string_view(token).substr(d2 + 1));
    } catch (const std::exception &) {
      why = "the token is not a JWT";
      return false;
    }
    if (!header.is_object() || !claims.is_object()) {
      why = "the token is not a JWT";
      return false;
    }
    std::string alg = header.value("alg", "");
    if (alg != "RS256" && alg != "ES256") {
      why = "token algorithm '" + alg + "' is not accepted (RS256, ES256)";
      return false;
    }
    auto key = find_key(header.value("kid", ""), alg == "RS256" ? "RSA" : "EC");
    if (!key) {
      why = "no key matches the token's kid";
      return false;
    }
    if (!verify(key.get(), alg, std::string_view(token).substr(0, d2), sig)) {
      why = "the token signature is not valid";
      return false;
    }
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    auto exp = claims.find("exp");
    if (exp == claims.end() || !exp->is_number()) {
      why = "the token has no expiry (exp)";
      return false;
    }
    if (exp->get<double>() + s_.leeway_s < static_cast<double>(now)) {
      why = "the token has expired";
      return false;
    }
    if (auto nbf = claims.find("nbf");
        nbf != claims.end() && nbf->is_number() &&
        nbf->get<double>() - s_.leeway_s > static_cast<double>(now)) {
      why = "the token is not valid yet (nbf)";
      return false;
    }
    if (claims.value("iss", "") != s_.issuer) {
      why = "the token was issued by another issuer";
      return false;
    }
    bool aud_ok = false;
    if (auto aud = claims.find("aud"); aud != claims.end()) {
      auto matches = [&](const json &a) {
        return a.is_string() && std::find(s_.audiences.begin(), s_.audiences.end(),
                                          a.get<std::string>()) != s_.audiences.end();
      };
      if (aud->is_array()) {
        for (const auto &a : *aud) aud_ok = aud_ok || matches(a);
      } else {
        aud_ok = matches(*aud);
      }
    }
    if (!aud_ok) {
      why = "the token's audience is not this server";
      return false;
    }
    return true;
  }

  config::AuthSettings s_;
  std::string metadata_url_;
  std::mutex mutex_;
  std::mutex reload_mutex_;
  std::vector<Jwk> keys_;
  std::chrono::steady_clock::time_point last_reload_{};
};

}  // namespace

std::shared_ptr<Authenticator> make_authenticator(const config::AuthSettings &settings) {
  switch (settings.mode) {
    case config::AuthMode::none:
      return nullptr;
    case config::AuthMode::bearer:
      return std::make_shared<BearerAuthenticator>(settings.tokens);
    case config::AuthMode::jwt:
      return std::make_shared<JwtAuthenticator>(settings);
  }
  return nullptr;
}

}  // namespace pgmcp::mcp
