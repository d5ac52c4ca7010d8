// The Streamable HTTP transport on loopback with a real HTTP client: event
// streams, resumption with Last-Event-ID, cancellation and client requests in
// a legacy session, and idle expiry.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "mcp/http_transport.hpp"
#include "mcp/test_support.hpp"

using namespace pgmcp::test;
using testing::HasSubstr;

namespace {

struct Http {
  int status = 0;
  std::string session;
  std::string content_type;
  std::string body;
};

class HttpTest : public testing::Test {
 protected:
  void SetUp() override {
    pgmcp::mcp::HttpOptions o;
    o.listen = {"127.0.0.1", 0};
    o.session_idle_timeout = std::chrono::seconds(1);
    transport = std::make_unique<pgmcp::mcp::HttpTransport>(server, o, scheduler);
    transport->start();
  }
  void TearDown() override { transport->stop(); }

  Poco::Net::HTTPClientSession client() {
    return Poco::Net::HTTPClientSession("127.0.0.1", transport->port());
  }

  Http post(const json &body, const std::string &session = "",
            const std::map<std::string, std::string> &headers = {}) {
    auto c = client();
    return post_on(c, body, session, headers);
  }

  // Sends a POST and returns the response body as it arrives (an event stream can be read
  // part-way and abandoned).
  static std::istream &start_post(Poco::Net::HTTPClientSession &c, const json &body,
                                  const std::string &session, Poco::Net::HTTPResponse &resp,
                                  const std::map<std::string, std::string> &headers = {}) {
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, "/mcp",
                               Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType("application/json");
    req.set("Accept", "application/json, text/event-stream");
    if (!session.empty()) req.set("Mcp-Session-Id", session);
    for (const auto &[k, v] : headers) req.set(k, v);
    std::string text = body.dump();
    req.setContentLength(static_cast<std::streamsize>(text.size()));
    c.sendRequest(req) << text;
    return c.receiveResponse(resp);
  }

  static Http post_on(Poco::Net::HTTPClientSession &c, const json &body, const std::string &session,
                      const std::map<std::string, std::string> &headers = {}) {
    Poco::Net::HTTPResponse resp;
    std::istream &in = start_post(c, body, session, resp, headers);
    std::ostringstream ss;
    ss << in.rdbuf();
    return {resp.getStatus(), resp.get("Mcp-Session-Id", ""), resp.getContentType(), ss.str()};
  }

  std::string open_session(json caps = json::object()) {
    Http r = post(initialize_request(1, "2025-11-25", caps));
    EXPECT_EQ(r.status, 200);
    post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, r.session);
    return r.session;
  }

  // The data lines of an event stream, with their ids.
  static std::vector<std::pair<std::string, json>> events(const std::string &sse) {
    std::vector<std::pair<std::string, json>> out;
    std::istringstream in(sse);
    std::string line, id;
    while (std::getline(in, line)) {
      if (line.rfind("id: ", 0) == 0) id = line.substr(4);
      if (line.rfind("data: ", 0) == 0 && line.size() > 6)
        out.emplace_back(id, json::parse(line.substr(6)));
    }
    return out;
  }

  std::shared_ptr<Probe> probe = std::make_shared<Probe>();
  pgmcp::mcp::McpServer server{pgmcp::mcp::ServerInfo{}, test_registry(probe)};
  pgmcp::core::Scheduler scheduler;
  std::unique_ptr<pgmcp::mcp::HttpTransport> transport;
};

TEST_F(HttpTest, APlainCallIsJsonAndAStreamingOneBecomesAnEventStream) {
  std::string sid = open_session();
  Http plain =
      post(request(2, "tools/call", {{"name", "slow"}, {"arguments", {{"steps", 2}}}}), sid);
  EXPECT_EQ(plain.content_type, "application/json");
  EXPECT_EQ(json::parse(plain.body)["result"]["structuredContent"]["steps"], 2);

  Http streamed = post(
      request(3, "tools/call",
              {{"name", "slow"}, {"arguments", {{"steps", 3}}}, {"_meta", {{"progressToken", 9}}}}),
      sid);
  EXPECT_EQ(streamed.content_type, "text/event-stream");
  auto ev = events(streamed.body);
  ASSERT_EQ(ev.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ev[i].second["params"]["progress"], i + 1);
  EXPECT_EQ(ev[3].second["id"], 3);
  EXPECT_FALSE(ev[3].first.empty());  // legacy streams carry event ids
}

TEST_F(HttpTest, AStreamCutShortIsResumedWithLastEventId) {
  std::string sid = open_session();
  std::string first_id;
  {
    // Read the first progress event, then drop the connection.
    auto c = client();
    Poco::Net::HTTPResponse resp;
    std::istream &in = start_post(c,
                                  request(7, "tools/call",
                                          {{"name", "slow"},
                                           {"arguments", {{"steps", 30}}},
                                           {"_meta", {{"progressToken", "p"}}}}),
                                  sid, resp);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("id: ", 0) == 0) first_id = line.substr(4);
      if (line.rfind("data: {", 0) == 0) break;
    }
    c.reset();
  }
  ASSERT_FALSE(first_id.empty());
  // Reconnect: the rest of that stream, then its response, arrive on the GET.
  auto c = client();
  Poco::Net::HTTPRequest get(Poco::Net::HTTPRequest::HTTP_GET, "/mcp",
                             Poco::Net::HTTPMessage::HTTP_1_1);
  get.set("Accept", "text/event-stream");
  get.set("Mcp-Session-Id", sid);
  get.set("Last-Event-ID", first_id);
  c.sendRequest(get);
  Poco::Net::HTTPResponse resp;
  std::istream &in = c.receiveResponse(resp);
  EXPECT_EQ(resp.getStatus(), 200);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto ev = events(ss.str());
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().second["id"], 7);
  EXPECT_EQ(ev.back().second["result"]["structuredContent"]["steps"], 30);
  double last = 0;
  for (size_t i = 0; i + 1 < ev.size(); ++i) {
    double p = ev[i].second["params"]["progress"].get<double>();
    EXPECT_GT(p, last);  // nothing replayed twice, nothing out of order
    last = p;
  }
  EXPECT_GT(last, 1);
}

TEST_F(HttpTest, CancellationInASessionStopsTheTool) {
  std::string sid = open_session();
  std::thread call([&] {
    Http r =
        post(request(5, "tools/call", {{"name", "slow"}, {"arguments", {{"steps", 1000}}}}), sid);
    EXPECT_EQ(r.status, 202);  // ended without a response
  });
  for (int i = 0; i < 200 && !probe->slow_started; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Http n = post(
      {{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 5}}}},
      sid);
  EXPECT_EQ(n.status, 202);
  call.join();
  EXPECT_TRUE(probe->cancel_seen);
}

TEST_F(HttpTest, AToolAsksTheClientOnItsStreamAndTheAnswerArrivesByPost) {
  std::string sid = open_session({{"sampling", json::object()}});
  auto c = client();
  Poco::Net::HTTPResponse resp;
  std::istream &in = start_post(c, request(8, "tools/call", {{"name", "ask_client"}}), sid, resp);
  std::string line;
  json ask;
  while (std::getline(in, line)) {
    if (line.rfind("data: {", 0) == 0) {
      ask = json::parse(line.substr(6));
      break;
    }
  }
  ASSERT_EQ(ask["method"], "sampling/createMessage");
  Http answer = post(
      {{"jsonrpc", "2.0"},
       {"id", ask["id"]},
       {"result",
        {{"role", "assistant"}, {"content", {{"type", "text"}, {"text", "42"}}}, {"model", "m"}}}},
      sid);
  EXPECT_EQ(answer.status, 202);
  std::ostringstream rest;
  rest << in.rdbuf();
  auto ev = events(rest.str());
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().second["result"]["content"][0]["text"], "42");
}

TEST_F(HttpTest, IdleSessionsExpire) {
  std::string sid = open_session();
  EXPECT_EQ(post(request(2, "ping"), sid).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(post(request(3, "ping"), sid).status, 404);
}

TEST_F(HttpTest, ChangeNotificationsReachSessionStreamsAndListeners) {
  std::string sid = open_session();
  post(request(2, "resources/subscribe", {{"uri", "pgmcp://sales/schema"}}), sid);
  auto c = client();
  Poco::Net::HTTPRequest get(Poco::Net::HTTPRequest::HTTP_GET, "/mcp",
                             Poco::Net::HTTPMessage::HTTP_1_1);
  get.set("Accept", "text/event-stream");
  get.set("Mcp-Session-Id", sid);
  c.sendRequest(get);
  Poco::Net::HTTPResponse resp;
  std::istream &in = c.receiveResponse(resp);
  ASSERT_EQ(resp.getStatus(), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.broadcast(pgmcp::mcp::notification("notifications/resources/updated",
                                            {{"uri", "pgmcp://other/schema"}}));
  server.broadcast(pgmcp::mcp::notification("notifications/resources/updated",
                                            {{"uri", "pgmcp://sales/schema"}}));
  server.broadcast(pgmcp::mcp::notification("notifications/tools/list_changed", nullptr));
  std::vector<json> got;
  std::string line;
  while (got.size() < 2 && std::getline(in, line)) {
    if (line.rfind("data: {", 0) == 0) got.push_back(json::parse(line.substr(6)));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["params"]["uri"], "pgmcp://sales/schema");  // only the subscribed resource
  EXPECT_EQ(got[1]["method"], "notifications/tools/list_changed");
}

}  // namespace
