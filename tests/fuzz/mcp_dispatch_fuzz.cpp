// Fuzzes JSON-RPC framing and MCP dispatch: each input is a sequence of
// newline-separated messages fed to one connection's session, as the stdio
// transport would. Any input must give responses or errors; never a crash, a
// hang, or an exception escaping the dispatcher. The "ask" tool asks the
// client's model through the very host service plugins call (client_sample),
// so the answers a client returns in inputResponses (or as responses) are
// fuzzed too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/settings.hpp"
#include "fake_plugins.hpp"
#include "mcp/server.hpp"
#include "pgmcp/llm.h"
#include "plugins/call.hpp"
#include "plugins/host_services.hpp"
#include "tools/tools.hpp"

namespace {

class Discard final : public pgmcp::mcp::Outbound {
 public:
  bool send(const pgmcp::json &) override { return true; }
};

pgmcp::mcp::McpServer &server() {
  static pgmcp::mcp::McpServer *s = [] {
    auto registry = std::make_shared<pgmcp::mcp::Registry>();
    pgmcp::config::Settings settings;
    pgmcp::config::InstanceSpec db;
    db.kind = "database";
    db.name = "sales";
    db.description = "orders";
    settings.databases.push_back(db);
    registry->add_tool(pgmcp::tools::list_databases_tool(settings));
    pgmcp::mcp::Tool echo;
    echo.name = "echo";
    echo.description = "echoes";
    echo.input_schema = {{"type", "object"},
                         {"properties",
                          {{"text", {{"type", "string"}, {"maxLength", 10}}},
                           {"n", {{"type", "integer"}, {"minimum", 0}}},
                           {"list", {{"type", "array"}, {"items", {{"type", "string"}}}}}}},
                         {"required", {"text"}},
                         {"additionalProperties", false}};
    echo.handler = [](const pgmcp::json &args, pgmcp::core::RequestContext &ctx) {
      ctx.progress(1, 2, "half");
      ctx.log(pgmcp::log::Level::info, "fuzz", args);
      return pgmcp::mcp::structured_result(args);
    };
    registry->add_tool(echo);
    pgmcp::mcp::Tool ask;
    ask.name = "ask";
    ask.description = "asks the client's model";
    ask.input_schema = {{"type", "object"}};
    ask.handler = [](const pgmcp::json &, pgmcp::core::RequestContext &ctx) {
      static pgmcp::plugins::HostTable host("fuzz");
      pgmcp_call call{&ctx, {}};
      pgmcp_llm_message message{sizeof(pgmcp_llm_message), PGMCP_LLM_USER, "question"};
      pgmcp_llm_request req{};
      req.struct_size = sizeof req;
      req.messages = &message;
      req.message_count = 1;
      req.message_struct_size = sizeof message;
      req.temperature = -1;
      req.timeout_ms = 1;  // a legacy request is never answered here: do not wait
      req.call = &call;
      std::string text;
      pgmcp_llm_sink sink = pgmcp::testing::text_sink(&text);
      pgmcp_error err;
      pgmcp_status st = host.api.client_sample(&call, &req, &sink, &err);
      if (call.deferred) std::rethrow_exception(call.deferred);
      return pgmcp::mcp::text_result(st == PGMCP_OK ? text : err.message);
    };
    registry->add_tool(ask);
    return new pgmcp::mcp::McpServer(pgmcp::mcp::ServerInfo{}, registry);
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace pgmcp::mcp;
  using pgmcp::json;
  pgmcp::log::configure(pgmcp::log::Level::error, pgmcp::log::Format::text);
  auto session = std::make_shared<Session>("fuzz");
  Discard out;
  std::string_view input(reinterpret_cast<const char *>(data), size);
  while (!input.empty()) {
    auto nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) continue;
    std::unique_ptr<Incoming> in;
    try {
      in = std::make_unique<Incoming>(std::move(doc));
    } catch (const ProtocolError &) {
      continue;
    }
    Exchange ex;
    ex.session = session;
    ex.peer = session.get();
    ex.out = &out;
    switch (in->kind()) {
      case Message::Kind::request: {
        // Every reply is one JSON-RPC response: a result or an error.
        auto reply = server().handle_request(*in, ex);
        if (reply) {
          json r = json::parse(reply->text, nullptr, false);
          if (r.is_discarded() || r.contains("result") == r.contains("error") ||
              r.contains("error") != reply->error.has_value())
            __builtin_trap();
        }
        break;
      }
      case Message::Kind::notification:
        server().handle_notification(*in, ex);
        break;
      case Message::Kind::response:
        server().handle_response(*in, *session);
        break;
    }
  }
  return 0;
}
