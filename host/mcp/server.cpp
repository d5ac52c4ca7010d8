#include "mcp/server.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "log/log.hpp"
#include "mcp/call_context.hpp"
#include "mcp/request_state.hpp"

namespace pgmcp::mcp {

// ------------------------------------------------------------------ helpers

namespace {

std::string string_param(const json &params, const char *name) {
  auto it = params.find(name);
  if (it == params.end() || !it->is_string()) {
    throw ProtocolError(code::invalid_params,
                        std::string("Invalid params: \"") + name + "\" must be a string");
  }
  return it->get<std::string>();
}

// Cursors are opaque to clients; ours carry an offset.
constexpr std::string_view kCursorPrefix = "pgmcp.page.";
constexpr size_t kPageSize = 100;

size_t cursor_offset(const json &params, size_t total) {
  auto it = params.find("cursor");
  if (it == params.end() || it->is_null()) return 0;
  if (it->is_string()) {
    const auto &c = it->get_ref<const std::string &>();
    if (c.rfind(kCursorPrefix, 0) == 0) {
      std::string digits = c.substr(kCursorPrefix.size());
      if (!digits.empty() && digits.size() < 10 &&
          std::all_of(digits.begin(), digits.end(),
                      [](char ch) { return ch >= '0' && ch <= '9'; })) {
        size_t off = std::stoul(digits);
        if (off <= total) return off;
      }
    }
  }
  throw ProtocolError(code::invalid_params, "Invalid params: unknown or expired cursor");
}

template <class Items>
json page(const json &params, const Items &items, const char *key) {
  size_t off = cursor_offset(params, items.size());
  size_t end = std::min(items.size(), off + kPageSize);
  json list = json::array();
  for (size_t i = off; i < end; ++i) list.push_back(items[i]);
  json r = {{key, std::move(list)}};
  if (end < items.size()) r["nextCursor"] = std::string(kCursorPrefix) + std::to_string(end);
  return r;
}

}  // namespace

// ------------------------------------------------------------------ server

McpServer::McpServer(ServerInfo info, std::shared_ptr<Registry> registry)
    : info_(std::move(info)), registry_(std::move(registry)) {}

std::shared_ptr<const Registry> McpServer::current_registry() const {
  std::lock_guard lock(registry_mutex_);
  return registry_;
}

void McpServer::replace_registry(std::shared_ptr<Registry> registry) {
  {
    std::lock_guard lock(registry_mutex_);
    registry_ = std::move(registry);
  }
  broadcast(notification("notifications/tools/list_changed", nullptr));
  broadcast(notification("notifications/resources/list_changed", nullptr));
}

int McpServer::add_sink(Sink sink) {
  std::lock_guard lock(sinks_mutex_);
  sinks_[next_sink_] = std::move(sink);
  return next_sink_++;
}

void McpServer::remove_sink(int id) {
  std::lock_guard lock(sinks_mutex_);
  sinks_.erase(id);
}

// Under the lock, so that a transport that removed its sink is never called
// again (its connection may be gone). A sink must not add or remove sinks.
void McpServer::broadcast(const json &message) {
  std::lock_guard lock(sinks_mutex_);
  for (auto &[id, s] : sinks_) s(message);
}

std::string McpServer::handle_batch(json batch, const std::function<Exchange()> &exchange) {
  std::string replies;
  for (auto &item : batch) {
    json id = reply_id(item);
    std::string reply;
    try {
      Incoming in(std::move(item));
      Exchange ex = exchange();
      if (in.kind() == Message::Kind::response) {
        handle_response(in, *ex.session);
      } else if (in.kind() == Message::Kind::notification) {
        handle_notification(in, ex);
      } else if (in.method() == "initialize") {
        reply = error_response(in.id(), code::invalid_request,
                               "Invalid Request: initialize cannot be part of a batch")
                    .dump();
      } else if (auto r = handle_request(in, ex)) {
        reply = std::move(r->text);
      }
    } catch (const ProtocolError &e) {
      reply = error_response(id, e).dump();
    }
    if (reply.empty()) continue;
    replies += replies.empty() ? "[" : ",";
    replies += reply;
  }
  return replies.empty() ? replies : replies + "]";
}

json McpServer::capabilities() const {
  return {{"tools", {{"listChanged", true}}},
          {"resources", {{"subscribe", true}, {"listChanged", true}}},
          {"prompts", {{"listChanged", false}}},
          {"logging", json::object()},
          {"completions", json::object()}};
}

// Which era and revision a request is served under: its _meta (2026-07-28),
// else its session's negotiation. initialize is the one request before either.
void McpServer::establish(const Incoming &in, Exchange &ex) const {
  const auto &meta = in.meta();
  if (in.method() == "initialize" && ex.session && !meta) return;
  if (meta) {
    ex.modern = true;
    ex.protocol_version = meta->protocol_version;
    ex.client_capabilities = meta->client_capabilities;
    ex.log_level = meta->log_level;
  } else if (ex.session && ex.session->negotiated.load()) {
    ex.modern = false;
    ex.protocol_version = ex.session->protocol_version;
    ex.client_capabilities = ex.session->client_capabilities;
  } else {
    throw ProtocolError(code::invalid_params,
                        std::string("Invalid params: this request carries no _meta \"") +
                            kMetaProtocolVersion +
                            "\" and no session is established: send initialize first "
                            "(revisions up to 2025-11-25) or include per-request _meta "
                            "(revision 2026-07-28)",
                        nullptr, ErrorKind::bad_request);
  }
}

std::optional<McpServer::Reply> McpServer::handle_request(const Incoming &in, Exchange &ex) {
  const json &id = in.id();
  auto error = [&](const ProtocolError &e) {
    return Reply{error_response(id, e).dump(-1, ' ', false, json::error_handler_t::replace),
                 e.kind()};
  };
  std::shared_ptr<CallState> call;
  auto end_call = [&] {
    if (call) ex.peer->end_call(id);
    return call && call->cancelled();  // cancelled: no response at all
  };
  try {
    establish(in, ex);
    if (ex.peer != nullptr) call = ex.peer->begin_call(id);
    core::Payload result = dispatch(in, ex, call.get());
    if (end_call()) return std::nullopt;
    // The envelope goes in front of the result; a result that is text
    // already is not copied.
    return Reply{
        std::move(result).wrap("{\"jsonrpc\":\"2.0\",\"id\":" + id.dump() + ",\"result\":", "}"),
        std::nullopt};
  } catch (const ProtocolError &e) {
    if (end_call()) return std::nullopt;
    return error(e);
  } catch (const std::exception &e) {
    end_call();
    log::error("mcp", "internal error in " + in.method() + ": " + e.what());
    return error(ProtocolError(code::internal_error, std::string("Internal error: ") + e.what(),
                               nullptr, ErrorKind::internal));
  }
}

void McpServer::handle_notification(const Incoming &in, Exchange &ex) {
  const json &params = in.params();
  if (in.method() == "notifications/initialized") {
    if (ex.session) ex.session->initialized = true;
  } else if (in.method() == "notifications/cancelled") {
    auto id = params.find("requestId");
    if (id != params.end() && ex.peer != nullptr && ex.peer->cancel_call(*id)) {
      log::debug("mcp", "request " + id->dump() + " cancelled by the client" +
                            (params.contains("reason") ? ": " + params["reason"].dump() : ""));
    }
  }
  // Other notifications (roots/list_changed, progress) need no action.
}

void McpServer::handle_response(const Incoming &in, Peer &peer) {
  if (!peer.deliver_response(in.id(), in.doc())) {
    log::debug("mcp", "response to an unknown or expired request " + in.id().dump());
  }
}

json McpServer::server_meta() const {
  return {{kMetaServerInfo, {{"name", info_.name}, {"version", info_.version}}}};
}

json McpServer::finish(json result, const Exchange &ex, bool cacheable) const {
  if (!ex.modern) return for_revision(std::move(result), revision(ex.protocol_version));
  result["resultType"] = "complete";
  result["_meta"] = server_meta();
  if (cacheable) {
    if (!result.contains("ttlMs")) result["ttlMs"] = 300000;
    if (!result.contains("cacheScope")) result["cacheScope"] = "public";
  }
  return result;
}

// Leaves out of a legacy result what the session's revision lacks: titles,
// output schemas and tool annotations in the lists.
json McpServer::for_revision(json result, const Revision &r) {
  if (r.titles && r.structured_content && r.tool_annotations) return result;
  for (const char *list : {"tools", "resources", "resourceTemplates", "prompts"}) {
    auto items = result.find(list);
    if (items == result.end() || !items->is_array()) continue;
    for (auto &item : *items) {
      if (!item.is_object()) continue;
      if (!r.titles) item.erase("title");
      if (!r.structured_content) item.erase("outputSchema");
      if (!r.tool_annotations) item.erase("annotations");
    }
  }
  return result;
}

core::Payload McpServer::dispatch(const Incoming &in, Exchange &ex, CallState *call) {
  const json &params = in.params();
  const std::string &method = in.method();
  if (ex.modern ? legacy_only_method(method) : modern_only_method(method)) {
    throw ProtocolError(
        code::method_not_found,
        "Method not found: " + method + " is not part of revision " + ex.protocol_version, nullptr,
        ex.modern ? ErrorKind::not_found : ErrorKind::in_body);
  }
  if (method == "initialize") return initialize(params, ex);
  if (method == "ping") return json::object();
  if (method == "server/discover") return discover(ex);
  if (method == "tools/list") return list_tools(params, ex);
  if (method == "tools/call") return call_tool(in, ex, call);
  if (method == "prompts/list") return list_prompts(params, ex);
  if (method == "prompts/get") return get_prompt(params, ex);
  if (method == "resources/list") return list_resources(params, ex);
  if (method == "resources/templates/list") return list_resource_templates(params, ex);
  if (method == "resources/read") return read_resource(in, ex, call);
  if (method == "completion/complete") return complete(params, ex);
  if (method == "logging/setLevel") {
    int idx = log_level_index(string_param(params, "level"));
    if (idx < 0) throw ProtocolError(code::invalid_params, "Invalid params: unknown log level");
    ex.session->log_level = idx;
    return json::object();
  }
  if (method == "resources/subscribe") {
    ex.session->subscriptions.subscribe(string_param(params, "uri"));
    return json::object();
  }
  if (method == "resources/unsubscribe") {
    ex.session->subscriptions.unsubscribe(string_param(params, "uri"));
    return json::object();
  }
  throw ProtocolError(code::method_not_found, "Method not found: " + method, nullptr,
                      ex.modern ? ErrorKind::not_found : ErrorKind::in_body);
}

json McpServer::initialize(const json &params, Exchange &ex) {
  if (!ex.session) {
    throw ProtocolError(code::invalid_request, "Invalid Request: initialize is not allowed here",
                        nullptr, ErrorKind::bad_request);
  }
  auto requested = params.find("protocolVersion");
  if (requested == params.end() || !requested->is_string()) {
    throw ProtocolError(code::invalid_params,
                        "Invalid params: \"protocolVersion\" must be a string");
  }
  // Answer with the requested revision when we speak it, else our newest legacy one.
  std::string version = requested->get<std::string>();
  if (!is_legacy_version(version)) version = std::string(kLatestLegacyVersion);
  Session &s = *ex.session;
  s.protocol_version = version;
  if (auto c = params.find("capabilities"); c != params.end() && c->is_object())
    s.client_capabilities = *c;
  if (auto c = params.find("clientInfo"); c != params.end() && c->is_object()) s.client_info = *c;
  s.negotiated = true;
  ex.protocol_version = version;
  const Revision r = revision(version);
  json info = {{"name", info_.name}, {"version", info_.version}};
  if (r.titles) info["title"] = info_.title;
  json caps = capabilities();
  if (!r.completions) caps.erase("completions");
  json result = {{"protocolVersion", version}, {"capabilities", caps}, {"serverInfo", info}};
  if (!info_.instructions.empty()) result["instructions"] = info_.instructions;
  return result;
}

json McpServer::discover(Exchange &ex) {
  json result = {{"supportedVersions", supported_versions()}, {"capabilities", capabilities()}};
  if (!info_.instructions.empty()) result["instructions"] = info_.instructions;
  if (!ex.modern) {
    result["serverInfo"] = {{"name", info_.name}, {"version", info_.version}};
  }
  return finish(std::move(result), ex, true);
}

json McpServer::list_tools(const json &params, Exchange &ex) {
  const auto registry = current_registry();  // kept for the whole request
  return finish(page(params, registry->tool_descriptors(), "tools"), ex, true);
}

core::Payload McpServer::call_tool(const Incoming &in, Exchange &ex, CallState *call) {
  const json &params = in.params();
  const auto registry = current_registry();  // kept for the whole request
  std::string name = string_param(params, "name");
  const Tool *tool = registry->find_tool(name);
  if (tool == nullptr)
    throw ProtocolError(code::invalid_params, "Invalid params: unknown tool '" + name + "'");
  json args = json::object();
  if (auto a = params.find("arguments"); a != params.end() && !a->is_null()) {
    if (!a->is_object())
      throw ProtocolError(code::invalid_params, "Invalid params: \"arguments\" must be an object");
    args = without_null_optionals(tool->input_schema, *a);
  }
  if (std::string problem = validate_schema(tool->input_schema, args); !problem.empty()) {
    // An argument mistake is for the model to fix, so it is a tool error.
    return tool_result(error_result("Invalid arguments for " + name + ": " + problem), ex);
  }
  CallContext ctx(ex, call, in.progress_token());
  std::string digest;  // of the arguments: taken when a request state is opened or sealed
  if (ex.modern) {
    std::vector<json> answers;
    json notes = json::object();
    if (auto st = params.find("requestState"); st != params.end()) {
      digest = digest_arguments(args);
      auto state = st->is_string() ? open_request_state(st->get<std::string>()) : std::nullopt;
      if (!state || state->subject != ex.subject || state->tool != name ||
          state->args_digest != digest)
        throw ProtocolError(code::invalid_params,
                            "Invalid params: requestState failed verification (altered, expired, "
                            "or from another call); call the tool again without it");
      answers = std::move(state->answers);
      notes = std::move(state->notes);
    }
    auto responses = params.find("inputResponses");
    ctx.replay(std::move(answers),
               responses != params.end() && responses->is_object() ? &*responses : nullptr,
               std::move(notes));
  }
  try {
    return tool_result(tool->handler(args, ctx), ex);
  } catch (const InputRequired &need) {
    if (digest.empty() && ex.modern) digest = digest_arguments(args);
    return json{
        {"resultType", "input_required"},
        {"inputRequests", {{need.key, need.request}}},
        {"requestState", seal_request_state({ex.subject, name, digest, need.answers, need.notes},
                                            std::chrono::minutes(10))},
        {"_meta", server_meta()}};
  } catch (const core::CallerError &e) {
    return tool_result(error_result(e.what()), ex);
  } catch (const ProtocolError &) {
    throw;
  } catch (const std::exception &e) {
    log::error("mcp", "tool " + name + " failed: " + e.what());
    return tool_result(error_result("Internal error in " + name + ": " + e.what()), ex);
  }
}

// A tool's result as the protocol carries it. Structured content goes twice:
// as structuredContent and as the text of a content block, which carries the
// tool's own rendering when it has one and the same JSON otherwise. Text
// that is JSON already is spliced, never parsed.
core::Payload McpServer::tool_result(ToolResult r, const Exchange &ex) const {
  if (r.structured && !ex.modern && !revision(ex.protocol_version).structured_content) {
    // A revision before structuredContent: the text block carries the JSON,
    // its only machine-readable form.
    std::string text =
        r.structured->is_text()
            ? std::string(r.structured->text().view())
            : r.structured->value().dump(-1, ' ', false, json::error_handler_t::replace);
    json out = {{"content", json::array({{{"type", "text"}, {"text", std::move(text)}}})}};
    if (r.is_error) out["isError"] = true;
    return out;
  }
  if (!r.structured || !r.structured->is_text()) {
    json out = {{"content", std::move(r.content)}};
    if (r.structured) out["structuredContent"] = std::move(r.structured->value());
    if (r.is_error) out["isError"] = true;
    return finish(std::move(out), ex, false);
  }
  if (!r.escaped_text.empty()) {
    // The structured object becomes the result's first member where it lies
    // (a large result is never copied whole), and the text block's pieces
    // follow it.
    core::ObjectText out =
        core::ObjectText::nest(std::move(r.structured->text()), "structuredContent");
    r.structured.reset();
    std::string &content = out.member("content");
    content += "[{\"type\":\"text\",\"text\":\"";
    for (auto &piece : r.escaped_text) {
      content += piece;
      piece = std::string();
    }
    content += "\"}]";
    if (r.is_error) out.add("isError", true);
    if (ex.modern) out.add("resultType", "complete").add("_meta", server_meta());
    return out;
  }
  std::string_view data = r.structured->text().view();
  core::ObjectText out(2 * data.size() + 256);
  std::string &content = out.member("content");
  content += "[{\"type\":\"text\",\"text\":";
  core::append_json_string(content, data);
  content += "}]";
  out.add_json("structuredContent", data);
  r.structured.reset();  // its memory back before the response is sent
  if (r.is_error) out.add("isError", true);
  if (ex.modern) out.add("resultType", "complete").add("_meta", server_meta());
  return out;
}

json McpServer::list_prompts(const json &params, Exchange &ex) {
  const auto registry = current_registry();  // kept for the whole request
  std::vector<json> items;
  for (const auto &p : registry->prompts()) {
    json d = {{"name", p.name}, {"description", p.description}};
    if (!p.title.empty()) d["title"] = p.title;
    json args = json::array();
    for (const auto &a : p.arguments)
      args.push_back({{"name", a.name}, {"description", a.description}, {"required", a.required}});
    d["arguments"] = std::move(args);
    items.push_back(std::move(d));
  }
  return finish(page(params, items, "prompts"), ex, true);
}

json McpServer::get_prompt(const json &params, Exchange &ex) {
  const auto registry = current_registry();  // kept for the whole request
  std::string name = string_param(params, "name");
  const Prompt *p = registry->find_prompt(name);
  if (p == nullptr)
    throw ProtocolError(code::invalid_params, "Invalid params: unknown prompt '" + name + "'");
  std::map<std::string, std::string> args;
  if (auto a = params.find("arguments"); a != params.end() && a->is_object()) {
    for (auto it = a->begin(); it != a->end(); ++it) {
      if (!it.value().is_string())
        throw ProtocolError(code::invalid_params,
                            "Invalid params: argument '" + it.key() + "' must be a string");
      args[it.key()] = it.value().get<std::string>();
    }
  }
  for (const auto &a : p->arguments) {
    if (a.required && args.count(a.name) == 0)
      throw ProtocolError(code::invalid_params,
                          "Invalid params: missing required argument '" + a.name + "'");
  }
  json result = {{"description", p->description}, {"messages", p->render(args)}};
  return finish(std::move(result), ex, false);
}

json McpServer::list_resources(const json &params, Exchange &ex) {
  const auto registry = current_registry();  // kept for the whole request
  std::vector<json> items;
  for (const auto &provider : registry->resource_providers()) {
    auto l = provider->list();
    items.insert(items.end(), std::make_move_iterator(l.begin()), std::make_move_iterator(l.end()));
  }
  json r = page(params, items, "resources");
  r["ttlMs"] = 60000;
  return finish(std::move(r), ex, true);
}

json McpServer::list_resource_templates(const json &params, Exchange &ex) {
  const auto registry = current_registry();  // kept for the whole request
  std::vector<json> items;
  for (const auto &provider : registry->resource_providers()) {
    for (const auto &t : provider->templates()) {
      json d = {{"uriTemplate", t.uri_template}, {"name", t.name}, {"description", t.description}};
      if (!t.title.empty()) d["title"] = t.title;
      if (!t.mime_type.empty()) d["mimeType"] = t.mime_type;
      items.push_back(std::move(d));
    }
  }
  return finish(page(params, items, "resourceTemplates"), ex, true);
}

json McpServer::read_resource(const Incoming &in, Exchange &ex, CallState *call) {
  const auto registry = current_registry();  // kept for the whole request
  std::string uri = string_param(in.params(), "uri");
  CallContext ctx(ex, call, in.progress_token());
  for (const auto &provider : registry->resource_providers()) {
    if (auto contents = provider->read(uri, ctx)) {
      json r = {{"contents", std::move(*contents)}, {"ttlMs", 30000}, {"cacheScope", "private"}};
      return finish(std::move(r), ex, true);
    }
  }
  // 2026-07-28 moved "resource not found" to Invalid Params.
  throw ProtocolError(ex.modern ? code::invalid_params : code::resource_not_found_legacy,
                      "Resource not found: " + uri, {{"uri", uri}});
}

json McpServer::complete(const json &params, Exchange &ex) {
  const auto registry = current_registry();  // kept for the whole request
  auto ref = params.find("ref");
  auto arg = params.find("argument");
  if (ref == params.end() || !ref->is_object() || arg == params.end() || !arg->is_object()) {
    throw ProtocolError(code::invalid_params,
                        "Invalid params: \"ref\" and \"argument\" are required objects");
  }
  std::string type = string_param(*ref, "type");
  std::string arg_name = string_param(*arg, "name");
  std::string prefix = arg->value("value", std::string());
  json context_args = json::object();
  if (auto c = params.find("context"); c != params.end() && c->is_object())
    context_args = c->value("arguments", json::object());
  Completer completer;
  if (type == "ref/prompt") {
    const Prompt *p = registry->find_prompt(string_param(*ref, "name"));
    if (p == nullptr) throw ProtocolError(code::invalid_params, "Invalid params: unknown prompt");
    for (const auto &a : p->arguments)
      if (a.name == arg_name) completer = a.complete;
  } else if (type == "ref/resource") {
    std::string uri = string_param(*ref, "uri");
    bool found = false;
    for (const auto &provider : registry->resource_providers()) {
      for (const auto &t : provider->templates()) {
        if (t.uri_template != uri) continue;
        found = true;
        if (auto c = t.complete.find(arg_name); c != t.complete.end()) completer = c->second;
      }
    }
    if (!found)
      throw ProtocolError(code::invalid_params, "Invalid params: unknown resource template");
  } else {
    throw ProtocolError(code::invalid_params,
                        "Invalid params: ref.type must be ref/prompt or ref/resource");
  }
  std::vector<std::string> values;
  if (completer) values = completer(prefix, context_args);
  size_t total = values.size();
  if (values.size() > 100) values.resize(100);
  json result = {
      {"completion", {{"values", values}, {"total", total}, {"hasMore", total > values.size()}}}};
  return finish(std::move(result), ex, false);
}

}  // namespace pgmcp::mcp
