#include "plugins/instances.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace pgmcp::plugins {
namespace {

// What the host requires of each capability table: its ABI 1.0 size and the
// functions in it, which must not be NULL (plugin.h's growth rule).
struct Field {
  const char *name;
  std::size_t offset;
};
#define PGMCP_FIELD(table, name) \
  Field { #name, offsetof(table, name) }

template <class Table>
struct Required;
template <>
struct Required<pgmcp_ratelimit_v1> {
  static constexpr std::size_t size = PGMCP_RATELIMIT_V1_MIN_SIZE;
  static constexpr Field functions[] = {
      PGMCP_FIELD(pgmcp_ratelimit_v1, create), PGMCP_FIELD(pgmcp_ratelimit_v1, destroy),
      PGMCP_FIELD(pgmcp_ratelimit_v1, try_acquire), PGMCP_FIELD(pgmcp_ratelimit_v1, acquire)};
};
template <>
struct Required<pgmcp_driver_v1> {
  static constexpr std::size_t size = PGMCP_DRIVER_V1_MIN_SIZE;
  static constexpr Field functions[] = {
      PGMCP_FIELD(pgmcp_driver_v1, create),  PGMCP_FIELD(pgmcp_driver_v1, destroy),
      PGMCP_FIELD(pgmcp_driver_v1, connect), PGMCP_FIELD(pgmcp_driver_v1, disconnect),
      PGMCP_FIELD(pgmcp_driver_v1, healthy), PGMCP_FIELD(pgmcp_driver_v1, execute),
      PGMCP_FIELD(pgmcp_driver_v1, cancel),  PGMCP_FIELD(pgmcp_driver_v1, describe_schema)};
};
template <>
struct Required<pgmcp_llm_v1> {
  static constexpr std::size_t size = PGMCP_LLM_V1_MIN_SIZE;
  static constexpr Field functions[] = {PGMCP_FIELD(pgmcp_llm_v1, create),
                                        PGMCP_FIELD(pgmcp_llm_v1, destroy),
                                        PGMCP_FIELD(pgmcp_llm_v1, complete)};
};
#undef PGMCP_FIELD

// Copies a plugin's capability table into a zeroed host struct, trusting
// only struct_size bytes: a table from an older minor is shorter (what it
// lacks reads as zero), one from a newer minor longer (what this host does
// not know is not read). Returns what is wrong with it, or an empty string.
template <class Table>
std::string copy_table(const void *raw, Table &out) {
  const auto *t = static_cast<const Table *>(raw);
  if (t->struct_size < Required<Table>::size)
    return "struct_size " + std::to_string(t->struct_size) +
           " is smaller than the ABI 1.0 layout (" + std::to_string(Required<Table>::size) +
           " bytes)";
  std::memset(&out, 0, sizeof out);
  std::memcpy(&out, t, std::min<std::size_t>(t->struct_size, sizeof(Table)));
  for (const Field &f : Required<Table>::functions) {
    void (*fn)() = nullptr;  // every function pointer has one size and representation here
    std::memcpy(&fn, reinterpret_cast<const char *>(&out) + f.offset, sizeof fn);
    if (fn == nullptr) return std::string("its required function ") + f.name + " is NULL";
  }
  return "";
}

}  // namespace

std::string capability_problem(std::string_view id, const void *table) {
  if (table == nullptr) return "";
  if (id == PGMCP_RATELIMIT_V1) {
    pgmcp_ratelimit_v1 t;
    return copy_table(table, t);
  }
  if (id == PGMCP_DRIVER_V1) {
    pgmcp_driver_v1 t;
    return copy_table(table, t);
  }
  if (id == PGMCP_LLM_V1) {
    pgmcp_llm_v1 t;
    return copy_table(table, t);
  }
  return "";
}

namespace {

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
  if (std::string problem = copy_table(raw, table); !problem.empty()) {
    throw std::runtime_error("plugin '" + spec.plugin + "' has a malformed " + capability +
                             " table: " + problem + "; rebuild it against the pgmcp SDK");
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
  a.unenforced = a.granted && (r.flags & PGMCP_RATELIMIT_UNENFORCED) != 0;
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
    auto &replicas = out.replicas[spec.name];
    for (std::size_t i = 0; i < spec.database.replicas.size(); ++i) {
      config::InstanceSpec replica = spec;
      auto dsn = std::find_if(replica.plugin_values.begin(), replica.plugin_values.end(),
                              [](const auto &kv) { return kv.first == "dsn"; });
      if (dsn == replica.plugin_values.end())
        throw std::runtime_error(
            "replicas needs a driver configured by dsn; this section has none");
      dsn->second = spec.database.replicas[i];
      try {
        replicas.push_back(make<pgmcp_driver_v1, pgmcp_database>(replica, registry, PGMCP_DRIVER_V1,
                                                                 "a database driver"));
      } catch (const std::exception &e) {
        throw std::runtime_error("replica " + std::to_string(i + 1) + ": " + e.what());
      }
    }
  });
  each(settings.llms, [&](const config::InstanceSpec &spec) {
    out.llms[spec.name] =
        make<pgmcp_llm_v1, pgmcp_llm>(spec, registry, PGMCP_LLM_V1, "an LLM provider");
  });
  if (!problems.empty()) throw config::ConfigError(std::move(problems));
  return out;
}

}  // namespace pgmcp::plugins
