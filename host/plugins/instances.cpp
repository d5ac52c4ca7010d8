#include "plugins/instances.hpp"

#include <cstring>
#include <vector>

namespace pgmcp::plugins {
namespace {

// Copies a plugin's capability table into a zeroed host struct, trusting only
// struct_size bytes; refuses a table smaller than the v1 layout.
template <class Table>
bool copy_table(const void *raw, Table &out) {
  const auto *t = static_cast<const Table *>(raw);
  if (t == nullptr || t->struct_size < sizeof(Table)) return false;
  std::memset(&out, 0, sizeof out);
  std::memcpy(&out, t, sizeof(Table));
  return true;
}

template <class Table, class Handle>
std::unique_ptr<Instance<Table, Handle>> make(const config::InstanceSpec &spec,
                                              const PluginRegistry &registry,
                                              const char *capability, const char *what) {
  auto library = registry.find(spec.plugin);
  if (!library) {
    throw std::runtime_error("plugin '" + spec.plugin + "' is not loaded (loaded: " +
                             registry.ids() + "; see pg-mcp --list-plugins)");
  }
  Table table;
  const void *raw = library->capability(capability);
  if (raw == nullptr) {
    throw std::runtime_error("plugin '" + spec.plugin + "' is not " + what +
                             " (it offers: " + library->info().kinds() + ")");
  }
  if (!copy_table(raw, table)) {
    throw std::runtime_error("plugin '" + spec.plugin + "' has a malformed " + capability +
                             " table (struct_size too small)");
  }
  auto config = std::make_unique<pgmcp_config>();
  config->name = spec.section();
  config->values = spec.plugin_values;
  if (spec.kind == "database") {
    // The driver sets it on the connection too, a backstop under SET LOCAL.
    config->values.emplace_back("statement_timeout_ms",
                                std::to_string(spec.database.statement_timeout_ms));
  }
  pgmcp_error err;
  Handle *handle = nullptr;
  pgmcp_status status = table.create(library->host(), config.get(), &handle, &err);
  if (status != PGMCP_OK || handle == nullptr) {
    throw std::runtime_error(err.message.empty() ? "the plugin refused this section (status " +
                                                       std::to_string(status) + ")"
                                                 : err.message);
  }
  return std::make_unique<Instance<Table, Handle>>(std::move(library), table, std::move(config),
                                                   handle);
}

Admission to_admission(pgmcp_status status, const pgmcp_ratelimit_result &r,
                       const pgmcp_error &err) {
  Admission a;
  a.granted = status == PGMCP_OK;
  a.waited = std::chrono::microseconds(r.waited_us);
  a.retry_after = std::chrono::microseconds(r.retry_after_us);
  if (status != PGMCP_OK && status != PGMCP_ERR_RATE_LIMITED) {
    a.error = err.message.empty() ? "rate limiter failed (status " + std::to_string(status) + ")"
                                  : err.message;
  }
  return a;
}

}  // namespace

Admission RateLimiter::try_acquire(std::string_view key, std::uint32_t cost) {
  pgmcp_ratelimit_result r{};
  r.struct_size = sizeof r;
  pgmcp_error err;
  std::string k(key);
  auto status = instance_->table().try_acquire(instance_->handle(), k.c_str(), cost, &r, &err);
  return to_admission(status, r, err);
}

Admission RateLimiter::acquire(std::string_view key, std::uint32_t cost,
                               std::chrono::milliseconds max_wait) {
  pgmcp_ratelimit_result r{};
  r.struct_size = sizeof r;
  pgmcp_error err;
  std::string k(key);
  auto ms = static_cast<std::uint32_t>(std::max<long long>(0, max_wait.count()));
  auto status = instance_->table().acquire(instance_->handle(), k.c_str(), cost, ms, &r, &err);
  return to_admission(status, r, err);
}

Instances create_instances(const config::Settings &settings, const PluginRegistry &registry) {
  Instances out;
  std::vector<std::string> problems;
  auto each = [&](const std::vector<config::InstanceSpec> &specs, auto &&create) {
    for (const auto &spec : specs) {
      try {
        create(spec);
      } catch (const std::exception &e) {
        problems.push_back(spec.where + ": [" + spec.section() + "]: " + e.what());
      }
    }
  };
  each(settings.rate_limiters, [&](const config::InstanceSpec &spec) {
    out.rate_limiters[spec.name] =
        std::make_shared<RateLimiter>(make<pgmcp_ratelimit_v1, pgmcp_ratelimiter>(
            spec, registry, PGMCP_RATELIMIT_V1, "a rate limiter"));
  });
  each(settings.databases, [&](const config::InstanceSpec &spec) {
    out.databases[spec.name] =
        make<pgmcp_driver_v1, pgmcp_database>(spec, registry, PGMCP_DRIVER_V1, "a database driver");
  });
  each(settings.llms, [&](const config::InstanceSpec &spec) {
    out.llms[spec.name] =
        make<pgmcp_llm_v1, pgmcp_llm>(spec, registry, PGMCP_LLM_V1, "an LLM provider");
  });
  if (!problems.empty()) throw config::ConfigError(std::move(problems));
  return out;
}

}  // namespace pgmcp::plugins
