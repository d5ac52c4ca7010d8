// Test helpers for the MCP core: tools that exercise progress, cancellation,
// logging and client requests, and a stdio client over pipes.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "mcp/registry.hpp"
#include "mcp/server.hpp"
#include "mcp/stdio_transport.hpp"

namespace pgmcp::test {

using pgmcp::json;

struct Probe {
  std::atomic<bool> cancel_seen{false};
  std::atomic<bool> slow_started{false};
};

inline std::shared_ptr<mcp::Registry> test_registry(std::shared_ptr<Probe> probe) {
  auto r = std::make_shared<mcp::Registry>();
  mcp::Tool slow;
  slow.name = "slow";
  slow.description = "counts to steps, 10 ms apart, reporting progress; stops when cancelled";
  slow.input_schema = {
      {"type", "object"},
      {"properties", {{"steps", {{"type", "integer"}, {"minimum", 1}, {"maximum", 10000}}}}},
      {"required", {"steps"}},
      {"additionalProperties", false}};
  slow.annotations = {true, false, true, false};
  slow.handler = [probe](const json &args, mcp::RequestContext &ctx) {
    probe->slow_started = true;
    ctx.on_cancel([probe] { probe->cancel_seen = true; });
    int steps = args["steps"].get<int>();
    for (int i = 1; i <= steps; ++i) {
      if (ctx.cancelled()) return mcp::text_result("stopped at " + std::to_string(i));
      ctx.progress(i, steps, "step " + std::to_string(i));
      ctx.progress(i, steps, "repeat is dropped");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return mcp::structured_result({{"steps", steps}});
  };
  r->add_tool(slow);

  mcp::Tool sample;
  sample.name = "ask_client";
  sample.description = "asks the client's model and returns its answer";
  sample.input_schema = {{"type", "object"},
                         {"properties", {{"topic", {{"type", "string"}}}}},
                         {"additionalProperties", false}};
  sample.handler = [](const json &, mcp::RequestContext &ctx) {
    json result = ctx.client_request("sampling/createMessage",
                                     {{"messages", json::array()}, {"maxTokens", 10}},
                                     std::chrono::milliseconds(5000));
    return mcp::text_result(result["content"]["text"].get<std::string>());
  };
  r->add_tool(sample);

  mcp::Tool fail;
  fail.name = "fail";
  fail.description = "fails the way a tool reports failure";
  fail.handler = [](const json &, mcp::RequestContext &) -> mcp::ToolResult {
    throw mcp::ToolError("no such table: users");
  };
  r->add_tool(fail);

  mcp::Tool crash;
  crash.name = "crash";
  crash.description = "throws an unexpected exception";
  crash.handler = [](const json &, mcp::RequestContext &) -> mcp::ToolResult {
    throw std::runtime_error("bug");
  };
  r->add_tool(crash);

  mcp::Tool logs;
  logs.name = "logs";
  logs.description = "logs at info and at error";
  logs.handler = [](const json &, mcp::RequestContext &ctx) {
    ctx.log(log::Level::info, "test", "info line");
    ctx.log(log::Level::error, "test", "error line");
    return mcp::text_result("logged");
  };
  r->add_tool(logs);

  mcp::Prompt p;
  p.name = "greet";
  p.description = "greets a database";
  p.arguments = {{"database", "which one", true, [](std::string_view prefix, const json &) {
                    std::vector<std::string> out;
                    for (std::string n : {"sales", "staging", "support"})
                      if (n.rfind(prefix, 0) == 0) out.push_back(n);
                    return out;
                  }}};
  p.render = [](const std::map<std::string, std::string> &args) {
    return json::array(
        {{{"role", "user"},
          {"content", {{"type", "text"}, {"text", "hello " + args.at("database")}}}}});
  };
  r->add_prompt(p);
  return r;
}

// Runs serve_stdio on pipes; the test writes requests and reads lines.
class StdioHarness {
 public:
  explicit StdioHarness(mcp::McpServer &server, mcp::StdioOptions options = {}) {
    if (::pipe(to_server_) != 0 || ::pipe(from_server_) != 0) throw std::runtime_error("pipe");
    thread_ = std::thread([&server, this, options] {
      mcp::serve_stdio(server, to_server_[0], from_server_[1], options);
      done_ = true;
    });
  }
  ~StdioHarness() {
    close_input();
    if (thread_.joinable()) thread_.join();
    ::close(to_server_[0]);
    ::close(from_server_[0]);
    ::close(from_server_[1]);
  }

  void send(const json &message) { send_raw(message.dump() + "\n"); }
  void send_raw(const std::string &text) {
    size_t off = 0;
    while (off < text.size()) {
      ssize_t n = ::write(to_server_[1], text.data() + off, text.size() - off);
      if (n <= 0) throw std::runtime_error("write");
      off += static_cast<size_t>(n);
    }
  }
  void close_input() {
    if (to_server_[1] >= 0) {
      ::close(to_server_[1]);
      to_server_[1] = -1;
    }
  }
  // The next line from the server, or null after the timeout.
  json read(int timeout_ms = 3000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return json::parse(line);
      }
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0) return nullptr;
      pollfd p{from_server_[0], POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) return nullptr;
      char chunk[4096];
      ssize_t n = ::read(from_server_[0], chunk, sizeof chunk);
      if (n <= 0) return nullptr;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  // Reads until the response with this id, collecting what came before.
  json response(const json &id, std::vector<json> *before = nullptr, int timeout_ms = 3000) {
    for (;;) {
      json m = read(timeout_ms);
      if (m.is_null()) return nullptr;
      if (m.contains("id") && m["id"] == id && !m.contains("method")) return m;
      if (before != nullptr) before->push_back(m);
    }
  }
  bool finished() const { return done_.load(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  int to_server_[2]{-1, -1};
  int from_server_[2]{-1, -1};
  std::string buffer_;
  std::thread thread_;
  std::atomic<bool> done_{false};
};

inline json initialize_request(int id = 1, const std::string &version = "2025-11-25",
                               json caps = json::object()) {
  return {{"jsonrpc", "2.0"},
          {"id", id},
          {"method", "initialize"},
          {"params",
           {{"protocolVersion", version},
            {"capabilities", caps},
            {"clientInfo", {{"name", "t"}, {"version", "1"}}}}}};
}

inline json request(const json &id, const std::string &method, json params = json::object()) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

inline json modern_meta(json extra = json::object()) {
  json m = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
            {"io.modelcontextprotocol/clientCapabilities", json::object()}};
  m.update(extra);
  return m;
}

}  // namespace pgmcp::test
