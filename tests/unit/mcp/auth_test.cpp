// HTTP authentication: static bearer tokens, and JWTs checked as an OAuth 2.1
// resource server does (signature against the JWKS, expiry, issuer,
// audience, scopes), with tokens signed here by a real RSA key.
#include "mcp/auth.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "util/base64.hpp"

using pgmcp::json;
using pgmcp::config::AuthMode;
using pgmcp::config::AuthSettings;
using pgmcp::mcp::make_authenticator;

namespace {

std::string b64(std::string_view s) { return pgmcp::util::base64url_encode(s); }

std::string bn(EVP_PKEY *key, const char *name) {
  BIGNUM *v = nullptr;
  EVP_PKEY_get_bn_param(key, name, &v);
  std::string out(static_cast<size_t>(BN_num_bytes(v)), '\0');
  BN_bn2bin(v, reinterpret_cast<unsigned char *>(out.data()));
  BN_free(v);
  return out;
}

class Issuer {
 public:
  Issuer() : key_(EVP_RSA_gen(2048), EVP_PKEY_free) {
    dir_ = std::filesystem::temp_directory_path() / ("pgmcp-auth-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    json jwks = {{"keys",
                  {{{"kty", "RSA"},
                    {"kid", "k1"},
                    {"alg", "RS256"},
                    {"use", "sig"},
                    {"n", b64(bn(key_.get(), OSSL_PKEY_PARAM_RSA_N))},
                    {"e", b64(bn(key_.get(), OSSL_PKEY_PARAM_RSA_E))}}}}};
    std::ofstream(dir_ / "jwks.json") << jwks.dump();
  }
  ~Issuer() { std::filesystem::remove_all(dir_); }

  AuthSettings settings() const {
    AuthSettings s;
    s.mode = AuthMode::jwt;
    s.issuer = "https://idp.example.com";
    s.resource = "https://db.example.com/mcp";
    s.audiences = {s.resource};
    s.jwks_file = (dir_ / "jwks.json").string();
    s.required_scopes = {"db.read"};
    return s;
  }

  // A token with these claims over the defaults, signed with alg.
  std::string token(json claims, const std::string &kid = "k1", const std::string &alg = "RS256") {
    long long now = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    json c = {{"iss", "https://idp.example.com"},
              {"aud", "https://db.example.com/mcp"},
              {"sub", "alice"},
              {"scope", "db.read profile"},
              {"exp", now + 300}};
    c.update(claims);
    for (auto it = claims.begin(); it != claims.end(); ++it)
      if (it->is_null()) c.erase(it.key());
    std::string signed_part =
        b64(json{{"alg", alg}, {"typ", "JWT"}, {"kid", kid}}.dump()) + "." + b64(c.dump());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key_.get());
    size_t len = 0;
    EVP_DigestSign(md.get(), nullptr, &len,
                   reinterpret_cast<const unsigned char *>(signed_part.data()), signed_part.size());
    std::string sig(len, '\0');
    EVP_DigestSign(md.get(), reinterpret_cast<unsigned char *>(sig.data()), &len,
                   reinterpret_cast<const unsigned char *>(signed_part.data()), signed_part.size());
    sig.resize(len);
    return signed_part + "." + b64(sig);
  }

  long long now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
  std::filesystem::path dir_;
};

}  // namespace

TEST(Auth, NoneMeansNoAuthenticator) {
  AuthSettings s;
  EXPECT_EQ(make_authenticator(s), nullptr);
}

TEST(Auth, BearerTokensNameTheirSubjectAndNothingElsePasses) {
  AuthSettings s;
  s.mode = AuthMode::bearer;
  s.tokens = {"ci:s3cret-one", "s3cret-two"};
  auto a = make_authenticator(s);
  auto ok = a->check("Bearer s3cret-one");
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.subject, "ci");
  EXPECT_EQ(a->check("Bearer s3cret-two").subject, "token-2");
  auto missing = a->check("");
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.status, 401);
  EXPECT_NE(missing.www_authenticate.find("Bearer"), std::string::npos);
  auto wrong = a->check("Bearer s3cret-on");
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.message.find("s3cret"), std::string::npos) << "a secret in an error message";
  EXPECT_FALSE(a->check("Basic czNjcmV0LW9uZQ==").ok);
}

TEST(Auth, AValidJwtGivesItsSubject) {
  Issuer idp;
  auto a = make_authenticator(idp.settings());
  auto out = a->check("Bearer " + idp.token(json::object()));
  EXPECT_TRUE(out.ok) << out.message;
  EXPECT_EQ(out.subject, "alice");
  auto meta = a->resource_metadata();
  ASSERT_TRUE(meta);
  EXPECT_EQ((*meta)["resource"], "https://db.example.com/mcp");
}

TEST(Auth, EveryClaimThatIsWrongRefusesTheToken) {
  Issuer idp;
  auto a = make_authenticator(idp.settings());
  auto refused = [&](const std::string &token, const std::string &why, int status = 401) {
    auto out = a->check("Bearer " + token);
    EXPECT_FALSE(out.ok) << why;
    EXPECT_EQ(out.status, status) << why;
    EXPECT_NE(out.message.find(why), std::string::npos) << out.message;
  };
  refused(idp.token({{"exp", idp.now() - 3600}}), "expired");
  refused(idp.token({{"exp", nullptr}}), "no expiry");
  refused(idp.token({{"nbf", idp.now() + 3600}}), "not valid yet");
  refused(idp.token({{"iss", "https://evil.example.com"}}), "another issuer");
  refused(idp.token({{"aud", "https://other.example.com/mcp"}}), "audience");
  refused(idp.token({{"scope", "profile"}}), "lacks scope 'db.read'", 403);
  refused(idp.token(json::object(), "k2"), "no key matches");
  refused(idp.token(json::object(), "k1", "HS256"), "not accepted");
  std::string good = idp.token(json::object());
  std::string tampered = good.substr(0, good.rfind('.')) + "." + b64("not the signature");
  refused(tampered, "signature is not valid");
  // The payload changed after signing: the signature no longer matches.
  auto d1 = good.find('.'), d2 = good.rfind('.');
  std::string forged = good.substr(0, d1 + 1) +
                       b64(json{{"iss", "https://idp.example.com"},
                                {"aud", "https://db.example.com/mcp"},
                                {"sub", "root"},
                                {"scope", "db.read"},
                                {"exp", idp.now() + 300}}
                               .dump()) +
                       good.substr(d2);
  refused(forged, "signature is not valid");
  refused("a.b", "not a JWT");
  refused("!!.!!.!!", "not a JWT");
  // An alg of none is never accepted, signature or not.
  std::string none = b64(R"({"alg":"none"})") + "." + b64(R"({"sub":"x"})") + ".";
  refused(none, "not accepted");
  auto insufficient = a->check("Bearer " + idp.token({{"scope", "profile"}}));
  EXPECT_NE(insufficient.www_authenticate.find("insufficient_scope"), std::string::npos);
}

TEST(Auth, AnArrayAudienceAndTheScpClaimAreUnderstood) {
  Issuer idp;
  auto a = make_authenticator(idp.settings());
  auto out = a->check("Bearer " + idp.token({{"aud", {"x", "https://db.example.com/mcp"}},
                                             {"scope", nullptr},
                                             {"scp", {"db.read"}}}));
  EXPECT_TRUE(out.ok) << out.message;
}

TEST(Auth, AMissingKeyFileIsRefusedAtStart) {
  Issuer idp;
  auto s = idp.settings();
  s.jwks_file = "/nonexistent/jwks.json";
  EXPECT_THROW(make_authenticator(s), std::runtime_error);
}
