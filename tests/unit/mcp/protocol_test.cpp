// What the transports parse once and the dispatcher reads: a message's shape,
// its _meta, the methods of each era; and who gets which notification.
#include "mcp/protocol.hpp"

#include <gtest/gtest.h>

#include "mcp/subscriptions.hpp"

using pgmcp::json;
using namespace pgmcp::mcp;

namespace {
json meta(json extra = json::object()) {
  json m = {{kMetaProtocolVersion, "2026-07-28"}, {kMetaClientCapabilities, json::object()}};
  m.update(extra);
  return m;
}
json request(json params) {
  return {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"}, {"params", std::move(params)}};
}
}  // namespace

TEST(Incoming, AMessageIsClassifiedAndItsMetaReadOnce) {
  Incoming in(request({{"_meta", meta({{"progressToken", "p1"}, {kMetaLogLevel, "warning"}})}}));
  EXPECT_EQ(in.kind(), Message::Kind::request);
  EXPECT_EQ(in.method(), "tools/list");
  EXPECT_EQ(in.id(), 1);
  EXPECT_EQ(in.declared_version(), "2026-07-28");
  ASSERT_TRUE(in.meta());
  EXPECT_EQ(in.meta()->protocol_version, "2026-07-28");
  EXPECT_EQ(in.meta()->log_level, 3);
  EXPECT_EQ(in.progress_token(), "p1");
  EXPECT_EQ(in.doc()["method"], "tools/list");
  // The parsed description survives being moved around (it is queued).
  auto moved = std::make_unique<Incoming>(std::move(in));
  EXPECT_EQ(moved->params()["_meta"]["progressToken"], "p1");
}

TEST(Incoming, LegacyMessagesHaveNoMetaAndNotificationsNoId) {
  Incoming legacy(request(json::object()));
  EXPECT_FALSE(legacy.meta());
  EXPECT_EQ(legacy.declared_version(), "");
  EXPECT_TRUE(legacy.progress_token().is_null());
  Incoming note(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  EXPECT_EQ(note.kind(), Message::Kind::notification);
  EXPECT_TRUE(note.reply_id().is_null());
  EXPECT_TRUE(note.params().is_object());
}

TEST(Incoming, WhatIsWrongWithMetaIsABadRequestRaisedWhenAsked) {
  Incoming old(request({{"_meta", meta({{kMetaProtocolVersion, "1999-01-01"}})}}));
  EXPECT_EQ(old.declared_version(), "1999-01-01");  // known before judging it
  try {
    (void)old.meta();
    FAIL();
  } catch (const ProtocolError &e) {
    EXPECT_EQ(e.code(), code::unsupported_version);
    EXPECT_EQ(e.kind(), ErrorKind::bad_request);
    EXPECT_EQ(e.data()["requested"], "1999-01-01");
  }
  json no_caps = {{kMetaProtocolVersion, "2026-07-28"}};
  Incoming bare(request({{"_meta", no_caps}}));
  EXPECT_THROW((void)bare.meta(), ProtocolError);
  Incoming level(request({{"_meta", meta({{kMetaLogLevel, "loud"}})}}));
  EXPECT_THROW((void)level.meta(), ProtocolError);
  Incoming number(request({{"_meta", meta({{kMetaProtocolVersion, 20260728}})}}));
  EXPECT_EQ(number.declared_version(), "20260728");
}

TEST(Incoming, WhatIsNotOneJsonRpcMessageIsRefused) {
  for (json doc : {json::array({1}), json("x"), json{{"jsonrpc", "1.0"}, {"method", "a"}},
                   json{{"jsonrpc", "2.0"}, {"id", 1.5}, {"method", "a"}},
                   json{{"jsonrpc", "2.0"}, {"method", ""}},
                   json{{"jsonrpc", "2.0"}, {"method", "a"}, {"params", 3}},
                   json{{"jsonrpc", "2.0"}, {"id", 1}}}) {
    EXPECT_THROW(Incoming{doc}, ProtocolError) << doc.dump();
  }
}

TEST(Protocol, EachEraSaysWhichMethodsAreOnlyItsOwn) {
  for (const char *m :
       {"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"})
    EXPECT_TRUE(legacy_only_method(m)) << m;
  EXPECT_FALSE(legacy_only_method("tools/call"));
  EXPECT_TRUE(modern_only_method("subscriptions/listen"));
  EXPECT_FALSE(modern_only_method("tools/list"));
  EXPECT_EQ(log_level_index("debug"), 0);
  EXPECT_EQ(log_level_index("emergency"), 7);
  EXPECT_EQ(log_level_index("verbose"), -1);
}

TEST(Subscriptions, ALegacySessionGetsListChangesAndItsOwnResources) {
  ResourceSubscriptions s;
  json updated = notification("notifications/resources/updated", {{"uri", "pgmcp://a/schema"}});
  EXPECT_TRUE(s.wants(notification("notifications/tools/list_changed", nullptr)));
  EXPECT_FALSE(s.wants(updated));
  s.subscribe("pgmcp://a/schema");
  EXPECT_TRUE(s.wants(updated));
  EXPECT_FALSE(
      s.wants(notification("notifications/resources/updated", {{"uri", "pgmcp://b/schema"}})));
  s.unsubscribe("pgmcp://a/schema");
  EXPECT_FALSE(s.wants(updated));
  EXPECT_FALSE(s.wants(notification("notifications/resources/updated", json::array())));
}

TEST(Subscriptions, AListenStreamGetsWhatItAskedForTaggedWithItsId) {
  Listener l({{"notifications",
               {{"toolsListChanged", true},
                {"resourcesListChanged", "yes"},  // not a boolean: not honoured, no crash
                {"resourceSubscriptions", {"pgmcp://a/schema", 7}}}}},
             "sub-1");
  json ack = l.acknowledgement();
  EXPECT_EQ(ack["params"]["notifications"],
            (json{{"toolsListChanged", true}, {"resourceSubscriptions", {"pgmcp://a/schema"}}}));
  EXPECT_EQ(ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "sub-1");
  auto tools = l.select(notification("notifications/tools/list_changed", nullptr));
  ASSERT_TRUE(tools);
  EXPECT_EQ((*tools)["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "sub-1");
  EXPECT_FALSE(l.select(notification("notifications/resources/list_changed", nullptr)));
  EXPECT_TRUE(
      l.select(notification("notifications/resources/updated", {{"uri", "pgmcp://a/schema"}})));
  EXPECT_FALSE(
      l.select(notification("notifications/resources/updated", {{"uri", "pgmcp://b/schema"}})));
  EXPECT_EQ(l.closing()["result"]["resultType"], "complete");
  EXPECT_THROW(Listener(json{{"notifications", "all"}}, 1), ProtocolError);
}
