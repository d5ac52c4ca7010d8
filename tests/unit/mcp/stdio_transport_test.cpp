// The MCP core through the real stdio transport: framing, both eras,
// progress, cancellation, client requests, logging, EOF.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mcp/test_support.hpp"

using namespace pgmcp::test;
using pgmcp::mcp::McpServer;
using testing::HasSubstr;

namespace {

class StdioTest : public testing::Test {
 protected:
  std::shared_ptr<Probe> probe = std::make_shared<Probe>();
  McpServer server{pgmcp::mcp::ServerInfo{}, test_registry(probe)};

  json init(StdioHarness &h, json caps = json::object()) {
    h.send(initialize_request(1, "2025-11-25", caps));
    json r = h.response(1);
    h.send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    return r;
  }
};

TEST_F(StdioTest, InitializeNegotiatesAndFallsBackToTheNewestLegacyRevision) {
  StdioHarness h(server);
  h.send(initialize_request(1, "2025-06-18"));
  json r = h.response(1);
  EXPECT_EQ(r["result"]["protocolVersion"], "2025-06-18");
  EXPECT_EQ(r["result"]["serverInfo"]["name"], "pg-mcp");
  EXPECT_TRUE(r["result"]["capabilities"].contains("tools"));

  StdioHarness h2(server);
  h2.send(initialize_request(1, "2099-01-01"));
  EXPECT_EQ(h2.response(1)["result"]["protocolVersion"], "2025-11-25");
}

TEST_F(StdioTest, RequestsBeforeInitializeOrMetaAreRefusedWithGuidance) {
  StdioHarness h(server);
  h.send(request(5, "tools/list"));
  json r = h.response(5);
  EXPECT_EQ(r["error"]["code"], -32602);
  EXPECT_THAT(r["error"]["message"].get<std::string>(), HasSubstr("send initialize first"));
}

TEST_F(StdioTest, MalformedInputGetsTheRightErrorsAndTheServerGoesOn) {
  StdioHarness h(server);
  h.send_raw("{not json\n");
  EXPECT_EQ(h.read()["error"]["code"], -32700);
  h.send_raw("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]\n");
  json batch = h.read();
  EXPECT_EQ(batch["error"]["code"], -32600);
  EXPECT_THAT(batch["error"]["message"].get<std::string>(), HasSubstr("initialize first"));
  h.send_raw("{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"ping\"}\n");
  json wrong = h.read();
  EXPECT_EQ(wrong["error"]["code"], -32600);
  EXPECT_EQ(wrong["id"], 7);
  h.send_raw("{\"jsonrpc\":\"2.0\",\"id\":{\"x\":1},\"method\":\"ping\"}\n");
  EXPECT_EQ(h.read()["error"]["code"], -32600);
  init(h);
  h.send(request("s", "ping"));
  EXPECT_EQ(h.response("s")["result"], json::object());
}

TEST_F(StdioTest, BatchesAreServedInTheRevisionsThatHaveThemAndRefusedElsewhere) {
  StdioHarness h(server);
  h.send(initialize_request(1, "2025-03-26"));
  EXPECT_EQ(h.response(1)["result"]["protocolVersion"], "2025-03-26");
  h.send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  json batch = json::array({request(2, "ping"),
                            request(3, "tools/list"),
                            {{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}},
                            request(4, "no/such"),
                            json(42),
                            initialize_request(5)});
  h.send(batch);
  json replies = h.read();
  ASSERT_TRUE(replies.is_array()) << replies;
  ASSERT_EQ(replies.size(), 5u) << replies;  // the notification has no answer
  EXPECT_EQ(replies[0]["id"], 2);
  EXPECT_EQ(replies[0]["result"], json::object());
  EXPECT_EQ(replies[1]["id"], 3);
  EXPECT_TRUE(replies[1]["result"]["tools"].is_array());
  EXPECT_EQ(replies[2]["error"]["code"], -32601);
  EXPECT_EQ(replies[3]["error"]["code"], -32600);  // 42 is no message
  EXPECT_EQ(replies[4]["id"], 5);
  EXPECT_THAT(replies[4]["error"]["message"].get<std::string>(), HasSubstr("cannot be part"));
  h.send_raw("[]\n");
  EXPECT_EQ(h.read()["error"]["code"], -32600);

  StdioHarness newer(server);
  init(newer);  // 2025-11-25 has no batches
  newer.send(json::array({request(2, "ping")}));
  json refused = newer.read();
  EXPECT_EQ(refused["error"]["code"], -32600);
  EXPECT_THAT(refused["error"]["message"].get<std::string>(), HasSubstr("speaks 2025-11-25"));
}

TEST_F(StdioTest, AClientOf2024GetsItsRevisionWithNothingItLacks) {
  StdioHarness h(server);
  h.send(initialize_request(1, "2024-11-05"));
  json r = h.response(1)["result"];
  EXPECT_EQ(r["protocolVersion"], "2024-11-05");
  EXPECT_FALSE(r["capabilities"].contains("completions"));
  EXPECT_FALSE(r["serverInfo"].contains("title"));
  h.send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  h.send(request(2, "tools/list"));
  const json tools = h.response(2)["result"]["tools"];
  ASSERT_FALSE(tools.empty());
  for (const auto &tool : tools) {
    EXPECT_FALSE(tool.contains("annotations")) << tool;
    EXPECT_FALSE(tool.contains("outputSchema")) << tool;
    EXPECT_FALSE(tool.contains("title")) << tool;
  }
  // a structured result reaches it as the JSON of its text block, and only so
  h.send(request(3, "tools/call", {{"name", "slow"}, {"arguments", {{"steps", 1}}}}));
  json call = h.response(3)["result"];
  EXPECT_FALSE(call.contains("structuredContent"));
  EXPECT_EQ(json::parse(call["content"][0]["text"].get<std::string>()), json({{"steps", 1}}));

  StdioHarness current(server);
  init(current);
  current.send(request(2, "tools/call", {{"name", "slow"}, {"arguments", {{"steps", 1}}}}));
  EXPECT_EQ(current.response(2)["result"]["structuredContent"], json({{"steps", 1}}));
}

TEST_F(StdioTest, OversizedMessagesAreRefusedAndTheNextOneIsServed) {
  pgmcp::mcp::StdioOptions o;
  o.max_message_bytes = 1024;
  StdioHarness h(server, o);
  h.send_raw(std::string(5000, 'x') + "\n");
  json r = h.read();
  EXPECT_EQ(r["error"]["code"], -32600);
  EXPECT_THAT(r["error"]["message"].get<std::string>(), HasSubstr("larger than 1024 bytes"));
  EXPECT_EQ(init(h)["result"]["protocolVersion"], "2025-11-25");
}

TEST_F(StdioTest, ToolsListPaginatesAndRejectsABadCursor) {
  StdioHarness h(server);
  init(h);
  h.send(request(2, "tools/list"));
  json r = h.response(2);
  EXPECT_EQ(r["result"]["tools"].size(), 5u);
  EXPECT_FALSE(r["result"].contains("nextCursor"));
  for (const auto &t : r["result"]["tools"]) {
    EXPECT_TRUE(t.contains("description"));
    EXPECT_EQ(t["inputSchema"]["type"], "object");
    EXPECT_TRUE(t["annotations"].contains("readOnlyHint"));
  }
  h.send(request(3, "tools/list", {{"cursor", "garbage"}}));
  EXPECT_EQ(h.response(3)["error"]["code"], -32602);
}

TEST_F(StdioTest, ToolErrorsAreResultsAndUnknownToolsAreProtocolErrors) {
  StdioHarness h(server);
  init(h);
  h.send(request(2, "tools/call", {{"name", "nope"}}));
  EXPECT_EQ(h.response(2)["error"]["code"], -32602);
  h.send(request(3, "tools/call", {{"name", "fail"}}));
  json fail = h.response(3)["result"];
  EXPECT_EQ(fail["isError"], true);
  EXPECT_EQ(fail["content"][0]["text"], "no such table: users");
  h.send(request(4, "tools/call", {{"name", "crash"}}));
  json crash = h.response(4)["result"];
  EXPECT_EQ(crash["isError"], true);
  EXPECT_THAT(crash["content"][0]["text"].get<std::string>(),
              HasSubstr("Internal error in crash: bug"));
  h.send(request(5, "tools/call", {{"name", "slow"}, {"arguments", {{"steps", "three"}}}}));
  json bad = h.response(5)["result"];
  EXPECT_EQ(bad["isError"], true);
  EXPECT_THAT(bad["content"][0]["text"].get<std::string>(),
              HasSubstr("arguments.steps: expected integer, got string"));
  h.send(request(6, "tools/call", {{"name", "slow"}, {"arguments", {{"steps", 1}, {"extra", 1}}}}));
  EXPECT_THAT(h.response(6)["result"]["content"][0]["text"].get<std::string>(),
              HasSubstr("arguments.extra: is not a known argument (known: steps)"));
}

TEST_F(StdioTest, ProgressIsSentForATokenAndStrictlyIncreases) {
  StdioHarness h(server);
  init(h);
  h.send(request(
      2, "tools/call",
      {{"name", "slow"}, {"arguments", {{"steps", 5}}}, {"_meta", {{"progressToken", "tok"}}}}));
  std::vector<json> before;
  json r = h.response(2, &before);
  EXPECT_EQ(r["result"]["structuredContent"]["steps"], 5);
  std::vector<double> values;
  for (const auto &m : before) {
    ASSERT_EQ(m["method"], "notifications/progress");
    EXPECT_EQ(m["params"]["progressToken"], "tok");
    EXPECT_EQ(m["params"]["total"], 5);
    values.push_back(m["params"]["progress"].get<double>());
  }
  EXPECT_EQ(values, (std::vector<double>{1, 2, 3, 4, 5}));  // the repeats were dropped

  // No token, no progress.
  h.send(request(3, "tools/call", {{"name", "slow"}, {"arguments", {{"steps", 2}}}}));
  std::vector<json> none;
  h.response(3, &none);
  EXPECT_TRUE(none.empty());
}

TEST_F(StdioTest, CancellationStopsTheWorkAndSuppressesTheResponseWhilePingStillAnswers) {
  StdioHarness h(server);
  init(h);
  h.send(request(2, "tools/call", {{"name", "slow"}, {"arguments", {{"steps", 1000}}}}));
  for (int i = 0; i < 200 && !probe->slow_started; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(probe->slow_started);
  h.send(request(3, "ping"));
  EXPECT_EQ(h.response(3)["result"], json::object());  // served while the tool runs
  h.send({{"jsonrpc", "2.0"},
          {"method", "notifications/cancelled"},
          {"params", {{"requestId", 2}, {"reason", "user"}}}});
  for (int i = 0; i < 200 && !probe->cancel_seen; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(probe->cancel_seen);
  EXPECT_TRUE(h.response(2, nullptr, 500).is_null());  // no response to a cancelled request
  h.send(request(4, "ping"));
  EXPECT_EQ(h.response(4)["result"], json::object());
}

TEST_F(StdioTest, AToolCanAskTheClientAndGetsItsAnswer) {
  StdioHarness h(server);
  init(h, {{"sampling", json::object()}});
  h.send(request(2, "tools/call", {{"name", "ask_client"}}));
  json ask = h.read();
  ASSERT_EQ(ask["method"], "sampling/createMessage");
  h.send({{"jsonrpc", "2.0"},
          {"id", ask["id"]},
          {"result",
           {{"role", "assistant"},
            {"content", {{"type", "text"}, {"text", "SELECT 1"}}},
            {"model", "m"}}}});
  EXPECT_EQ(h.response(2)["result"]["content"][0]["text"], "SELECT 1");

  // A client error comes back as the tool's failure, not a hang.
  h.send(request(3, "tools/call", {{"name", "ask_client"}}));
  ask = h.read();
  h.send({{"jsonrpc", "2.0"},
          {"id", ask["id"]},
          {"error", {{"code", -1}, {"message", "user declined"}}}});
  json r = h.response(3);
  EXPECT_EQ(r["error"]["message"], "user declined");
}

TEST_F(StdioTest, LogNotificationsFollowTheSessionLevel) {
  StdioHarness h(server);
  init(h);
  h.send(request(2, "logging/setLevel", {{"level", "warning"}}));
  EXPECT_EQ(h.response(2)["result"], json::object());
  h.send(request(3, "tools/call", {{"name", "logs"}}));
  std::vector<json> before;
  h.response(3, &before);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0]["params"]["level"], "error");
  EXPECT_EQ(before[0]["params"]["data"], "error line");
  h.send(request(4, "logging/setLevel", {{"level", "loud"}}));
  EXPECT_EQ(h.response(4)["error"]["code"], -32602);
}

TEST_F(StdioTest, ModernRequestsAreServedStatelesslyBesideALegacySession) {
  StdioHarness h(server);
  h.send(request(1, "server/discover", {{"_meta", modern_meta()}}));
  json d = h.response(1)["result"];
  EXPECT_EQ(d["resultType"], "complete");
  EXPECT_EQ(d["supportedVersions"][0], "2026-07-28");
  EXPECT_TRUE(d.contains("ttlMs"));
  EXPECT_EQ(d["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "pg-mcp");

  h.send(request(2, "tools/list", {{"_meta", modern_meta()}}));
  json l = h.response(2)["result"];
  EXPECT_EQ(l["cacheScope"], "public");
  EXPECT_EQ(l["resultType"], "complete");

  h.send(request(3, "ping", {{"_meta", modern_meta()}}));
  EXPECT_EQ(h.response(3)["error"]["code"], -32601);

  h.send(request(4, "tools/list",
                 {{"_meta", {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"}}}}));
  EXPECT_EQ(h.response(4)["error"]["code"], -32602);

  h.send(request(
      5, "tools/list",
      {{"_meta", modern_meta({{"io.modelcontextprotocol/protocolVersion", "1900-01-01"}})}}));
  json unsupported = h.response(5)["error"];
  EXPECT_EQ(unsupported["code"], -32022);
  EXPECT_EQ(unsupported["data"]["requested"], "1900-01-01");
  EXPECT_EQ(unsupported["data"]["supported"][0], "2026-07-28");

  // Log notifications only when the request asks for them.
  h.send(request(6, "tools/call", {{"name", "logs"}, {"_meta", modern_meta()}}));
  std::vector<json> quiet;
  h.response(6, &quiet);
  EXPECT_TRUE(quiet.empty());
  h.send(request(
      7, "tools/call",
      {{"name", "logs"}, {"_meta", modern_meta({{"io.modelcontextprotocol/logLevel", "info"}})}}));
  std::vector<json> logged;
  h.response(7, &logged);
  EXPECT_EQ(logged.size(), 2u);

  // No server-to-client requests in this revision: the input-required flow.
  h.send(request(8, "tools/call", {{"name", "ask_client"}, {"_meta", modern_meta()}}));
  json need = h.response(8)["result"];
  EXPECT_EQ(need["resultType"], "input_required");
  EXPECT_EQ(need["inputRequests"]["r0"]["method"], "sampling/createMessage");
  ASSERT_TRUE(need["requestState"].is_string());
  json answer = {{"role", "assistant"},
                 {"content", {{"type", "text"}, {"text", "forty-two"}}},
                 {"model", "m"}};
  h.send(request(9, "tools/call",
                 {{"name", "ask_client"},
                  {"_meta", modern_meta()},
                  {"inputResponses", {{"r0", answer}}},
                  {"requestState", need["requestState"]}}));
  json done = h.response(9)["result"];
  EXPECT_EQ(done["resultType"], "complete");
  EXPECT_EQ(done["content"][0]["text"], "forty-two");
  // the state is bound to its call: another tool cannot use it
  h.send(request(
      10, "tools/call",
      {{"name", "logs"}, {"_meta", modern_meta()}, {"requestState", need["requestState"]}}));
  EXPECT_EQ(h.response(10)["error"]["code"], -32602);
  // nor the same tool with other arguments than it was sealed for
  h.send(request(11, "tools/call",
                 {{"name", "ask_client"},
                  {"arguments", {{"topic", "another"}}},
                  {"_meta", modern_meta()},
                  {"inputResponses", {{"r0", answer}}},
                  {"requestState", need["requestState"]}}));
  EXPECT_EQ(h.response(11)["error"]["code"], -32602);

  // And the legacy era still works on the same connection.
  EXPECT_EQ(init(h)["result"]["protocolVersion"], "2025-11-25");
}

TEST_F(StdioTest, PromptsAndCompletion) {
  StdioHarness h(server);
  init(h);
  h.send(request(2, "prompts/get", {{"name", "greet"}, {"arguments", {{"database", "sales"}}}}));
  EXPECT_EQ(h.response(2)["result"]["messages"][0]["content"]["text"], "hello sales");
  h.send(request(3, "prompts/get", {{"name", "greet"}}));
  EXPECT_THAT(h.response(3)["error"]["message"].get<std::string>(),
              HasSubstr("missing required argument 'database'"));
  h.send(request(4, "completion/complete",
                 {{"ref", {{"type", "ref/prompt"}, {"name", "greet"}}},
                  {"argument", {{"name", "database"}, {"value", "s"}}}}));
  json c = h.response(4)["result"]["completion"];
  EXPECT_EQ(c["values"], json({"sales", "staging", "support"}));
  EXPECT_EQ(c["hasMore"], false);
  h.send(request(5, "resources/read", {{"uri", "pgmcp://none/schema"}}));
  EXPECT_EQ(h.response(5)["error"]["code"], -32002);
  h.send(request(6, "resources/read", {{"uri", "pgmcp://none/schema"}, {"_meta", modern_meta()}}));
  EXPECT_EQ(h.response(6)["error"]["code"], -32602);  // 2026-07-28 moved "not found"
}

TEST_F(StdioTest, EndOfInputFinishesTheRequestsInFlight) {
  StdioHarness h(server);
  init(h);
  h.send(request(2, "tools/call", {{"name", "slow"}, {"arguments", {{"steps", 20}}}}));
  h.close_input();
  json r = h.response(2);
  EXPECT_EQ(r["result"]["structuredContent"]["steps"], 20);
  h.join();
  EXPECT_TRUE(h.finished());
}

}  // namespace
