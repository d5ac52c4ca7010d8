#include "plugins/host_services.hpp"

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

pgmcp_status PGMCP_CALL client_sample(const pgmcp_call *call, const pgmcp_llm_request *,
                                      const pgmcp_llm_sink *, pgmcp_error *err) {
  // Calls carry an MCP request once the protocol layer hands them out; without
  // one there is no client to ask.
  (void)call;
  error_set(err,
            "no MCP client is attached to this call, so its model cannot be asked; configure "
            "an [llm.NAME] provider instead");
  return PGMCP_ERR_UNSUPPORTED;
}

int32_t PGMCP_CALL call_cancelled(const pgmcp_call *) { return 0; }

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
