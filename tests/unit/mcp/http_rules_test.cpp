// The HTTP binding's rules that need no connection: the DNS-rebinding
// defence, and the 2026-07-28 headers that mirror the body.
#include "mcp/http_rules.hpp"

#include <gtest/gtest.h>

#include <map>

using pgmcp::json;
using namespace pgmcp::mcp;

namespace {

std::optional<std::string> refusal(const char *host, const char *origin,
                                   pgmcp::config::Endpoint listen = {"127.0.0.1", 8765},
                                   std::vector<std::string> hosts = {},
                                   std::vector<std::string> origins = {}) {
  std::string h = host != nullptr ? host : "", o = origin != nullptr ? origin : "";
  return access_refusal(host != nullptr ? &h : nullptr, origin != nullptr ? &o : nullptr, listen,
                        hosts, origins);
}

HeaderLookup headers(std::map<std::string, std::string> h) {
  return [h](const char *name) -> std::optional<std::string> {
    auto it = h.find(name);
    if (it == h.end()) return std::nullopt;
    return it->second;
  };
}

Incoming call(const std::string &tool) {
  return Incoming(json{
      {"jsonrpc", "2.0"},
      {"id", 1},
      {"method", "tools/call"},
      {"params",
       {{"name", tool},
        {"_meta",
         {{kMetaProtocolVersion, "2026-07-28"}, {kMetaClientCapabilities, json::object()}}}}}});
}

}  // namespace

TEST(HttpRules, ALoopbackServerTakesLoopbackHostsAndOriginsOnly) {
  EXPECT_FALSE(refusal("localhost:8765", nullptr));
  EXPECT_FALSE(refusal("127.0.0.1", "http://localhost:3000"));
  EXPECT_FALSE(refusal("[::1]:8765", "https://127.0.0.1"));
  EXPECT_FALSE(refusal(nullptr, nullptr));
  auto rebound = refusal("evil.example.com", nullptr);
  ASSERT_TRUE(rebound);
  EXPECT_NE(rebound->find("http.allowed_hosts"), std::string::npos);
  auto page = refusal("localhost", "https://evil.example.com");
  ASSERT_TRUE(page);
  EXPECT_NE(page->find("http.allowed_origins"), std::string::npos);
  EXPECT_TRUE(refusal("localhost", "null")) << "an opaque origin is no loopback";
  EXPECT_TRUE(refusal("localhost.evil.com", nullptr));
  EXPECT_TRUE(refusal("127.0.0.1.evil.com", nullptr)) << "a name that only begins like 127.";
}

TEST(HttpRules, WhatTheOperatorAllowsIsAllowedAndOnlyThat) {
  EXPECT_FALSE(refusal("DB.Example.com:443", nullptr, {"127.0.0.1", 8765}, {"db.example.com"}));
  EXPECT_FALSE(refusal("localhost", "https://App.Example.com", {"127.0.0.1", 8765}, {},
                       {"https://app.example.com"}));
  EXPECT_TRUE(refusal("localhost", "https://app.example.com.evil", {"127.0.0.1", 8765}, {},
                      {"https://app.example.com"}));
  EXPECT_FALSE(refusal("localhost", "https://anything", {"127.0.0.1", 8765}, {}, {"*"}));
  // Bound beyond loopback, any Host is served (authentication guards it).
  EXPECT_FALSE(refusal("db.internal", nullptr, {"0.0.0.0", 8765}));
}

TEST(HttpRules, TheHeadersMustMirrorTheBody) {
  Incoming in = call("execute_sql");
  const ModernMeta &meta = *in.meta();
  EXPECT_FALSE(header_mismatch(headers({{"MCP-Protocol-Version", "2026-07-28"},
                                        {"Mcp-Method", "tools/call"},
                                        {"Mcp-Name", "execute_sql"}}),
                               in, meta));
  // The base64 sentinel, whole or as Poco's header parser leaves it.
  EXPECT_FALSE(header_mismatch(headers({{"MCP-Protocol-Version", "2026-07-28"},
                                        {"Mcp-Method", "tools/call"},
                                        {"Mcp-Name", "=?base64?ZXhlY3V0ZV9zcWw=?="}}),
                               in, meta));
  EXPECT_FALSE(header_mismatch(headers({{"MCP-Protocol-Version", "2026-07-28"},
                                        {"Mcp-Method", "tools/call"},
                                        {"Mcp-Name", "base64?ZXhlY3V0ZV9zcWw=?="}}),
                               in, meta));
  auto missing = header_mismatch(headers({{"Mcp-Method", "tools/call"}}), in, meta);
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->find("MCP-Protocol-Version header is required"), std::string::npos);
  auto method = header_mismatch(
      headers({{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Method", "tools/list"}}), in, meta);
  ASSERT_TRUE(method);
  EXPECT_NE(method->find("'tools/list' does not match body value 'tools/call'"), std::string::npos);
  auto name = header_mismatch(headers({{"MCP-Protocol-Version", "2026-07-28"},
                                       {"Mcp-Method", "tools/call"},
                                       {"Mcp-Name", "query"}}),
                              in, meta);
  ASSERT_TRUE(name);
  EXPECT_NE(name->find("Mcp-Name"), std::string::npos);
  EXPECT_TRUE(header_mismatch(headers({{"MCP-Protocol-Version", "2026-07-28"},
                                       {"Mcp-Method", "tools/call"},
                                       {"Mcp-Name", "=?base64?!!!?="}}),
                              in, meta))
      << "an undecodable name matches nothing";
  EXPECT_EQ(decode_header_value("plain"), "plain");
}
