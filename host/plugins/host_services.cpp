#include "plugins/host_services.hpp"

#include "pgmcp/llm.h"
#include "plugins/call.hpp"

#include "log/log.hpp"

std::string pgmcp_error::field(std::string_view name) const {
  for (const auto &[k, v] : fields)
    if (k == name) return v;
  return {};
}

namespace pgmcp::plugins {
namespace {

log::Level to_level(pgmcp_log_level level) {
  if (level <= PGMCP_LOG_TRACE) return log::Level::trace;
  if (level >= PGMCP_LOG_ERROR) return log::Level::error;
  return static_cast<log::Level>(level);
}

const HostTable *self(const pgmcp_host *host) {
  return static_cast<const HostTable *>(host->host_data);
}

void PGMCP_CALL host_log(const pgmcp_host *host, pgmcp_log_level level, const char *message) {
  if (host == nullptr || message == nullptr) return;
  log::write(to_level(level), self(host)->component, message);
}

int32_t PGMCP_CALL host_log_enabled(const pgmcp_host *, pgmcp_log_level level) {
  return log::enabled(to_level(level)) ? 1 : 0;
}

const char *PGMCP_CALL config_get(const pgmcp_config *config, const char *key) {
  if (config == nullptr || key == nullptr) return nullptr;
  for (const auto &[k, v] : config->values)
    if (k == key) return v.c_str();
  return nullptr;
}

void PGMCP_CALL config_each(const pgmcp_config *config,
                            void(PGMCP_CALL *visit)(void *, const char *, const char *),
                            void *user) {
  if (config == nullptr || visit == nullptr) return;
  for (const auto &[k, v] : config->values) visit(user, k.c_str(), v.c_str());
}

const char *PGMCP_CALL config_name(const pgmcp_config *config) {
  return config == nullptr ? "" : config->name.c_str();
}

void PGMCP_CALL error_set(pgmcp_error *err, const char *message) {
  if (err != nullptr) err->message = message != nullptr ? message : "";
}

void PGMCP_CALL error_set_field(pgmcp_error *err, const char *field, const char *value) {
  if (err == nullptr || field == nullptr) return;
  for (auto &[k, v] : err->fields) {
    if (k == field) {
      v = value != nullptr ? value : "";
      return;
    }
  }
  err->fields.emplace_back(field, value != nullptr ? value : "");
}

// Asks the connected client's model: sampling/createMessage (legacy revisions
// send it as a request; 2026-07-28 clients get it through the input-required
// flow, which RequestContext::client_request hides).
pgmcp_status sample(const pgmcp_call *call, const pgmcp_llm_request *req, const pgmcp_llm_sink *out,
                    pgmcp_error *err);

// A host service is called from a plugin's C code: nothing may escape it.
pgmcp_status PGMCP_CALL client_sample(const pgmcp_call *call, const pgmcp_llm_request *req,
                                      const pgmcp_llm_sink *out, pgmcp_error *err) noexcept {
  try {
    return sample(call, req, out, err);
  } catch (const std::exception &e) {
    error_set(err, (std::string("the MCP client's answer could not be read: ") + e.what()).c_str());
    return PGMCP_ERR_REMOTE;
  } catch (...) {
    error_set(err, "the MCP client's answer could not be read");
    return PGMCP_ERR_INTERNAL;
  }
}

pgmcp_status sample(const pgmcp_call *call, const pgmcp_llm_request *req, const pgmcp_llm_sink *out,
                    pgmcp_error *err) {
  if (call == nullptr || call->ctx == nullptr || req == nullptr || out == nullptr) {
    error_set(err,
              "no MCP client is attached to this call, so its model cannot be asked; configure "
              "an [llm.NAME] provider instead");
    return PGMCP_ERR_UNSUPPORTED;
  }
  core::RequestContext &ctx = *call->ctx;
  if (!ctx.client_capabilities().contains("sampling")) {
    error_set(err,
              "the MCP client did not declare the sampling capability, so pg-mcp cannot ask its "
              "model; configure an LLM provider in an [llm.NAME] section and set "
              "[tools] query.llm (see docs/llm.md)");
    return PGMCP_ERR_UNSUPPORTED;
  }
  json messages = json::array();
  const char *base = reinterpret_cast<const char *>(req->messages);
  for (size_t i = 0; i < req->message_count; ++i) {
    const auto *m =
        reinterpret_cast<const pgmcp_llm_message *>(base + i * req->message_struct_size);
    messages.push_back(
        {{"role", m->role == PGMCP_LLM_ASSISTANT ? "assistant" : "user"},
         {"content", {{"type", "text"}, {"text", m->text != nullptr ? m->text : ""}}}});
  }
  json params = {{"messages", std::move(messages)},
                 {"maxTokens", req->max_tokens > 0 ? req->max_tokens : 1024},
                 {"includeContext", "none"}};
  if (req->system_prompt != nullptr) params["systemPrompt"] = req->system_prompt;
  if (req->temperature >= 0) params["temperature"] = req->temperature;
  auto timeout = std::chrono::milliseconds(req->timeout_ms > 0 ? req->timeout_ms : 120000);
  json result;
  try {
    result = ctx.client_request("sampling/createMessage", params, timeout);
  } catch (const core::ClientTimeout &e) {
    error_set(err, (std::string("the MCP client's model did not answer: ") + e.what()).c_str());
    return ctx.cancelled() ? PGMCP_ERR_CANCELLED : PGMCP_ERR_TIMEOUT;
  } catch (const std::exception &e) {
    error_set(err, (std::string("the MCP client's model did not answer: ") + e.what()).c_str());
    return ctx.cancelled() ? PGMCP_ERR_CANCELLED : PGMCP_ERR_REMOTE;
  } catch (...) {
    // Not a failure: the request waits for the client (see core::RequestContext).
    const_cast<pgmcp_call *>(call)->deferred = std::current_exception();
    error_set(err, "the client must answer a request first");
    return PGMCP_ERR_UNSUPPORTED;
  }
  std::string text;
  auto string_at = [](const json &object, const char *key) -> const json * {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? &*it : nullptr;
  };
  static const json kNone;
  auto found = result.is_object() ? result.find("content") : result.end();
  const json &content = found != result.end() ? *found : kNone;
  auto take = [&](const json &block) {
    const json *type = string_at(block, "type");
    const json *t = string_at(block, "text");
    if (type != nullptr && *type == "text" && t != nullptr) text += t->get<std::string>();
  };
  if (content.is_array())
    for (const auto &b : content) take(b);
  else
    take(content);
  if (text.empty()) {
    error_set(err, "the MCP client's model answered without text");
    return PGMCP_ERR_REMOTE;
  }
  out->append_text(out->ctx, text.data(), text.size());
  if (const json *model = string_at(result, "model"))
    out->set_model(out->ctx, model->get<std::string>().c_str());
  if (const json *stop = string_at(result, "stopReason"))
    out->set_stop_reason(out->ctx, stop->get<std::string>().c_str());
  return PGMCP_OK;
}

int32_t PGMCP_CALL call_cancelled(const pgmcp_call *call) {
  return call != nullptr && call->ctx != nullptr && call->ctx->cancelled() ? 1 : 0;
}

}  // namespace

HostTable::HostTable(std::string plugin_id) : component("plugin:" + std::move(plugin_id)) {
  api.struct_size = sizeof(pgmcp_host);
  api.abi_major = PGMCP_ABI_MAJOR;
  api.abi_minor = PGMCP_ABI_MINOR;
  api.host_version = PGMCP_VERSION;
  api.host_data = this;
  api.log = &host_log;
  api.log_enabled = &host_log_enabled;
  api.config_get = &config_get;
  api.config_each = &config_each;
  api.config_name = &config_name;
  api.error_set = &error_set;
  api.error_set_field = &error_set_field;
  api.client_sample = &client_sample;
  api.call_cancelled = &call_cancelled;
}

}  // namespace pgmcp::plugins
