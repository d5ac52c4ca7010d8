// The services table the host hands every plugin: its configuration, error
// reporting, cancellation, and asking the client's own model.
#include "plugins/host_services.hpp"

#include <gtest/gtest.h>

#include "fake_plugins.hpp"
#include "pgmcp/llm.h"
#include "plugins/call.hpp"

using pgmcp::json;
using pgmcp::plugins::HostTable;
using pgmcp::testing::FakeContext;

namespace {

struct Sampled {
  std::string text, model, stop;
};

// Calls client_sample as a plugin would.
pgmcp_status sample(const pgmcp_call *call, Sampled &out, pgmcp_error &err) {
  static HostTable host("test");
  pgmcp_llm_message m{sizeof(pgmcp_llm_message), PGMCP_LLM_USER, "How many orders?"};
  pgmcp_llm_request req{};
  req.struct_size = sizeof req;
  req.system_prompt = "SQL only";
  req.messages = &m;
  req.message_count = 1;
  req.message_struct_size = sizeof m;
  req.temperature = -1;
  req.call = call;
  pgmcp_llm_sink sink{
      sizeof sink,
      &out,
      [](void *c, const char *d, size_t n) { static_cast<Sampled *>(c)->text.append(d, n); },
      [](void *, uint64_t, uint64_t) {},
      [](void *c, const char *name) { static_cast<Sampled *>(c)->model = name; },
      [](void *c, const char *r) { static_cast<Sampled *>(c)->stop = r; }};
  return host.api.client_sample(call, &req, &sink, &err);
}

}  // namespace

TEST(HostServices, APluginReadsItsOwnSectionAndReportsErrorsWithFields) {
  HostTable host("reader");
  EXPECT_EQ(host.api.struct_size, sizeof(pgmcp_host));
  EXPECT_EQ(host.api.abi_major, PGMCP_ABI_MAJOR);
  pgmcp_config config{"database.main", {{"dsn", "postgresql://x"}, {"timeout", "5"}}};
  EXPECT_STREQ(host.api.config_get(&config, "timeout"), "5");
  EXPECT_EQ(host.api.config_get(&config, "missing"), nullptr);
  EXPECT_EQ(host.api.config_get(nullptr, "dsn"), nullptr);
  EXPECT_STREQ(host.api.config_name(&config), "database.main");
  std::vector<std::string> seen;
  host.api.config_each(
      &config,
      [](void *u, const char *k, const char *v) {
        static_cast<std::vector<std::string> *>(u)->push_back(std::string(k) + "=" + v);
      },
      &seen);
  EXPECT_EQ(seen, (std::vector<std::string>{"dsn=postgresql://x", "timeout=5"}));
  pgmcp_error err;
  host.api.error_set(&err, "connection refused");
  host.api.error_set_field(&err, "sqlstate", "08001");
  host.api.error_set_field(&err, "sqlstate", "08006");  // the last value wins
  host.api.error_set_field(&err, "hint", nullptr);
  host.api.error_set(nullptr, "ignored");  // a NULL error is a no-op
  EXPECT_EQ(err.message, "connection refused");
  EXPECT_EQ(err.field("sqlstate"), "08006");
  EXPECT_EQ(err.fields.size(), 2u);
}

TEST(HostServices, CancellationReachesThePlugin) {
  HostTable host("c");
  FakeContext ctx;
  pgmcp_call call{&ctx, nullptr};
  EXPECT_EQ(host.api.call_cancelled(&call), 0);
  ctx.cancel = true;
  EXPECT_EQ(host.api.call_cancelled(&call), 1);
  EXPECT_EQ(host.api.call_cancelled(nullptr), 0);
}

TEST(HostServices, SamplingWithoutAClientOrItsCapabilitySaysWhatToConfigure) {
  Sampled out;
  pgmcp_error err;
  EXPECT_EQ(sample(nullptr, out, err), PGMCP_ERR_UNSUPPORTED);
  EXPECT_NE(err.message.find("[llm.NAME]"), std::string::npos) << err.message;
  FakeContext ctx;  // declares no sampling capability
  pgmcp_call call{&ctx, nullptr};
  pgmcp_error err2;
  EXPECT_EQ(sample(&call, out, err2), PGMCP_ERR_UNSUPPORTED);
  EXPECT_NE(err2.message.find("sampling capability"), std::string::npos) << err2.message;
}

TEST(HostServices, SamplingAsksTheClientAndReadsItsAnswer) {
  FakeContext ctx;
  ctx.capabilities = {{"sampling", json::object()}};
  json asked;
  ctx.client = [&](std::string_view method, const json &params) -> json {
    EXPECT_EQ(method, "sampling/createMessage");
    asked = params;
    return {{"role", "assistant"},
            {"content", {{"type", "text"}, {"text", "SELECT count(*) FROM orders"}}},
            {"model", "client-model"},
            {"stopReason", "endTurn"}};
  };
  pgmcp_call call{&ctx, nullptr};
  Sampled out;
  pgmcp_error err;
  ASSERT_EQ(sample(&call, out, err), PGMCP_OK) << err.message;
  EXPECT_EQ(out.text, "SELECT count(*) FROM orders");
  EXPECT_EQ(out.model, "client-model");
  EXPECT_EQ(out.stop, "endTurn");
  EXPECT_EQ(asked["systemPrompt"], "SQL only");
  EXPECT_EQ(asked["messages"][0]["content"]["text"], "How many orders?");
  EXPECT_EQ(asked["includeContext"], "none");
}

TEST(HostServices, AClientsFailureIsAStatusAndAnAnswerWithoutTextIsRemote) {
  FakeContext ctx;
  ctx.capabilities = {{"sampling", json::object()}};
  pgmcp_call call{&ctx, nullptr};
  Sampled out;
  ctx.client = [](std::string_view, const json &) -> json {
    throw pgmcp::core::ClientTimeout(
        "the client did not answer sampling/createMessage within 10 ms");
  };
  pgmcp_error timeout;
  EXPECT_EQ(sample(&call, out, timeout), PGMCP_ERR_TIMEOUT);
  ctx.client = [](std::string_view, const json &) -> json {
    throw std::runtime_error("the user declined; the request timed out in their mind");
  };
  pgmcp_error declined;
  EXPECT_EQ(sample(&call, out, declined), PGMCP_ERR_REMOTE) << "a timeout is a type, not a word";
  ctx.client = [](std::string_view, const json &) -> json {
    return {{"content", {{"type", "image"}, {"data", "..."}}}};
  };
  pgmcp_error empty;
  EXPECT_EQ(sample(&call, out, empty), PGMCP_ERR_REMOTE);
  EXPECT_NE(empty.message.find("without text"), std::string::npos);
  ctx.client = [](std::string_view, const json &) -> json { return json::array({1, 2}); };
  pgmcp_error odd;
  EXPECT_EQ(sample(&call, out, odd), PGMCP_ERR_REMOTE) << "a malformed answer is no crash";
  EXPECT_TRUE(call.deferred == nullptr);
}

TEST(HostServices, AnExceptionThatSuspendsTheRequestIsKeptForTheHost) {
  struct Suspend {};
  FakeContext ctx;
  ctx.capabilities = {{"sampling", json::object()}};
  ctx.client = [](std::string_view, const json &) -> json { throw Suspend{}; };
  pgmcp_call call{&ctx, nullptr};
  Sampled out;
  pgmcp_error err;
  EXPECT_NE(sample(&call, out, err), PGMCP_OK);  // the plugin sees an error, not an exception
  ASSERT_TRUE(call.deferred != nullptr);
  EXPECT_THROW(std::rethrow_exception(call.deferred), Suspend);
}
