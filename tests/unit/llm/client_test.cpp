// The host's side of an LLM provider: retries of what may pass, never of what
// will not, the Retry-After a provider asks for, the circuit breaker, metrics,
// and a request that must wait for its client passing through untouched.
#include "llm/client.hpp"

#include <gtest/gtest.h>

#include "fake_plugins.hpp"
#include "plugins/call.hpp"

using pgmcp::llm::Client;
using pgmcp::llm::LlmError;
using pgmcp::testing::FakeLlm;
using Reply = FakeLlm::Reply;

namespace {

pgmcp::llm::Request question(const std::string &text = "how many?") {
  pgmcp::llm::Request r;
  r.system = "be brief";
  r.messages.push_back({false, text});
  return r;
}

pgmcp::config::LlmOptions fast() {
  pgmcp::config::LlmOptions o;
  o.max_retries = 2;
  o.retry_base_ms = 1;
  o.retry_max_ms = 20;
  o.breaker_failures = 100;
  return o;
}

// The error a completion ends in (a test fails when it succeeds).
LlmError failure(Client &c, pgmcp::core::RequestContext *ctx = nullptr) {
  try {
    c.complete(question(), ctx);
  } catch (const LlmError &e) {
    return e;
  }
  ADD_FAILURE() << "the completion succeeded";
  return LlmError(PGMCP_OK, "");
}

}  // namespace

TEST(LlmClient, AnAnswerComesBackWithItsModelAndUsageCounted) {
  FakeLlm llm;
  llm.answer = [](const std::string &last, const pgmcp_llm_request &req) {
    EXPECT_STREQ(req.system_prompt, "be brief");
    return Reply{PGMCP_OK, "answer to " + last, "", -1};
  };
  pgmcp::observability::Metrics metrics;
  Client c("main", llm.instance(), nullptr, fast(), &metrics);
  auto out = c.complete(question(), nullptr);
  EXPECT_EQ(out.text, "answer to how many?");
  EXPECT_EQ(out.model, "fake-1");
  EXPECT_EQ(out.prompt_tokens, 10u);
  std::string text = metrics.text();
  EXPECT_NE(text.find(R"(pg_mcp_llm_calls_total{llm="main",status="ok"} 1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(pg_mcp_llm_tokens_total{llm="main",type="prompt"} 10)"),
            std::string::npos);
}

TEST(LlmClient, PassingFailuresAreRetriedThenReported) {
  FakeLlm llm;
  llm.answer = [&](const std::string &, const pgmcp_llm_request &) {
    return llm.calls.load() < 3 ? Reply{PGMCP_ERR_UNAVAILABLE, "", "503 from provider", -1}
                                : Reply{PGMCP_OK, "third time", "", -1};
  };
  Client c("main", llm.instance(), nullptr, fast(), nullptr);
  EXPECT_EQ(c.complete(question(), nullptr).text, "third time");
  EXPECT_EQ(llm.calls.load(), 3);

  FakeLlm down;
  down.answer = [](const std::string &, const pgmcp_llm_request &) {
    return Reply{PGMCP_ERR_TIMEOUT, "", "no answer in 30 s", -1};
  };
  Client d("down", down.instance(), nullptr, fast(), nullptr);
  {
    LlmError e = failure(d);
    EXPECT_EQ(e.status, PGMCP_ERR_TIMEOUT);
    EXPECT_NE(std::string(e.what()).find("after 3 tries"), std::string::npos) << e.what();
  }
  EXPECT_EQ(down.calls.load(), 3) << "max_retries = 2: three calls in all";
}

TEST(LlmClient, ARefusalIsNotRetried) {
  FakeLlm llm;
  llm.answer = [](const std::string &, const pgmcp_llm_request &) {
    return Reply{PGMCP_ERR_REMOTE, "", "401: invalid api key", -1};
  };
  Client c("main", llm.instance(), nullptr, fast(), nullptr);
  EXPECT_THROW(c.complete(question(), nullptr), LlmError);
  EXPECT_EQ(llm.calls.load(), 1);
}

TEST(LlmClient, ARetryAfterLongerThanTheCapIsNotWaitedFor) {
  FakeLlm llm;
  llm.answer = [](const std::string &, const pgmcp_llm_request &) {
    return Reply{PGMCP_ERR_RATE_LIMITED, "", "429", 60000};
  };
  Client c("main", llm.instance(), nullptr, fast(), nullptr);
  auto start = std::chrono::steady_clock::now();
  {
    LlmError e = failure(c);
    EXPECT_NE(std::string(e.what()).find("retry after 60 s"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(llm.calls.load(), 1);
}

TEST(LlmClient, TheCircuitOpensAfterFailuresInARowAndFailsFast) {
  FakeLlm llm;
  llm.answer = [](const std::string &, const pgmcp_llm_request &) {
    return Reply{PGMCP_ERR_UNAVAILABLE, "", "connection refused", -1};
  };
  auto o = fast();
  o.max_retries = 0;
  o.breaker_failures = 3;
  o.breaker_reset_s = 60;
  pgmcp::observability::Metrics metrics;
  Client c("main", llm.instance(), nullptr, o, &metrics);
  for (int i = 0; i < 3; ++i) EXPECT_THROW(c.complete(question(), nullptr), LlmError);
  EXPECT_EQ(llm.calls.load(), 3);
  {
    LlmError e = failure(c);
    EXPECT_EQ(e.status, PGMCP_ERR_UNAVAILABLE);
    EXPECT_NE(std::string(e.what()).find("circuit is open"), std::string::npos) << e.what();
  }
  EXPECT_EQ(llm.calls.load(), 3) << "an open circuit sends nothing";
  EXPECT_NE(metrics.text().find(R"(status="circuit_open"} 1)"), std::string::npos);
}

TEST(LlmClient, ACancelledRequestStopsRetrying) {
  FakeLlm llm;
  pgmcp::testing::FakeContext ctx;
  llm.answer = [&](const std::string &, const pgmcp_llm_request &) {
    ctx.cancel = true;  // the client gives up during the first call
    return Reply{PGMCP_ERR_UNAVAILABLE, "", "503", -1};
  };
  Client c("main", llm.instance(), nullptr, fast(), nullptr);
  {
    LlmError e = failure(c, &ctx);
    EXPECT_EQ(e.status, PGMCP_ERR_CANCELLED);
  }
  EXPECT_EQ(llm.calls.load(), 1);
}

namespace {
// Not a std::exception: what a transport throws to suspend a request until
// its client has answered (the 2026-07-28 input-required flow).
struct Suspend {
  int round;
};
}  // namespace

TEST(LlmClient, ARequestThatMustWaitForItsClientPassesThroughThePlugin) {
  // The provider asks the client's model through the host service, as the
  // sampling plugin does; the client cannot answer yet.
  static pgmcp::plugins::HostTable host("fake");
  FakeLlm llm;
  llm.answer = [](const std::string &, const pgmcp_llm_request &req) {
    std::string text;
    pgmcp_llm_sink sink = pgmcp::testing::text_sink(&text);
    pgmcp_error err;
    pgmcp_status st = host.api.client_sample(req.call, &req, &sink, &err);
    return Reply{st, text, err.message, -1};
  };
  pgmcp::testing::FakeContext ctx;
  ctx.capabilities = {{"sampling", pgmcp::json::object()}};
  ctx.client = [](std::string_view, const pgmcp::json &) -> pgmcp::json { throw Suspend{2}; };
  Client c("sampling", llm.instance(), nullptr, fast(), nullptr);
  try {
    c.complete(question(), &ctx);
    FAIL() << "the suspension was lost";
  } catch (const Suspend &s) {
    EXPECT_EQ(s.round, 2);
  } catch (const std::exception &e) {
    FAIL() << "the suspension became a failure: " << e.what();
  }
  EXPECT_EQ(llm.calls.load(), 1) << "a suspension is not retried";
}
