#include "plugins/loader.hpp"

#include "plugins/instances.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstring>
#include <fstream>

#include "log/log.hpp"
#include "pgmcp/driver.h"
#include "pgmcp/llm.h"
#include "pgmcp/ratelimit.h"
#include "plugins/host_services.hpp"

namespace pgmcp::plugins {

struct PluginLibrary::Impl {
  boost::dll::shared_library library;
  pgmcp_plugin descriptor{};  // copied, zero beyond the plugin's struct_size
  std::unique_ptr<HostTable> host;
  bool initialised = false;
};

namespace {

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!ok(id.front())) return false;
  return std::all_of(id.begin(), id.end(),
                     [&](char c) { return ok(c) || c == '-' || c == '_' || c == '.'; });
}

bool looks_like_elf(const std::filesystem::path &file) {
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::memcmp(magic,
                                         "\x7f"
                                         "ELF",
                                         4) == 0;
}

std::string kind_of(const std::string &capability) {
  if (capability == PGMCP_RATELIMIT_V1) return "rate limiter";
  if (capability == PGMCP_LLM_V1) return "llm";
  if (capability == PGMCP_DRIVER_V1) return "database driver";
  return capability;
}

}  // namespace

std::string PluginInfo::kinds() const {
  std::string s;
  for (const auto &c : capabilities) s += (s.empty() ? "" : ", ") + kind_of(c);
  return s;
}

const std::vector<std::string> &known_capabilities() {
  static const std::vector<std::string> ids = {PGMCP_RATELIMIT_V1, PGMCP_LLM_V1, PGMCP_DRIVER_V1};
  return ids;
}

PluginLibrary::PluginLibrary(std::unique_ptr<Impl> impl, PluginInfo info)
    : impl_(std::move(impl)), info_(std::move(info)) {}

PluginLibrary::~PluginLibrary() {
  if (impl_ && impl_->initialised && impl_->descriptor.deinit != nullptr) {
    impl_->descriptor.deinit();
  }
  // impl_ (and with it the library) goes after deinit.
}

const void *PluginLibrary::capability(std::string_view id) const {
  std::string key(id);
  return impl_->descriptor.get_capability(key.c_str());
}

const pgmcp_host *PluginLibrary::host() const { return &impl_->host->api; }

std::optional<LoadProblem> PluginRegistry::load_file(const std::filesystem::path &file) {
  auto refuse = [&](std::string reason) { return LoadProblem{file, std::move(reason)}; };

  if (!looks_like_elf(file))
    return refuse("not a shared library (no ELF header); remove it from the plugin folder");

  auto impl = std::make_unique<PluginLibrary::Impl>();
  std::error_code ec;
  ::dlerror();
  impl->library.load(boost::dll::fs::path(file),
                     boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    const char *why = ::dlerror();
    return refuse(std::string("cannot be loaded: ") + (why != nullptr ? why : ec.message()));
  }
  if (!impl->library.has(PGMCP_ENTRY_SYMBOL)) {
    return refuse("no " PGMCP_ENTRY_SYMBOL
                  " symbol: not a pg-mcp plugin (build it with pgmcp_add_plugin and PGMCP_PLUGIN)");
  }
  auto entry = impl->library.template get<const pgmcp_plugin *(std::uint32_t)>(PGMCP_ENTRY_SYMBOL);
  const pgmcp_plugin *raw = nullptr;
  try {
    raw = entry(PGMCP_ABI_MAJOR);
  } catch (const std::exception &e) {
    return refuse(std::string("its entry function threw: ") + e.what());
  } catch (...) {
    return refuse("its entry function threw an exception");
  }
  if (raw == nullptr) {
    return refuse("does not support plugin ABI major " + std::to_string(PGMCP_ABI_MAJOR) +
                  " (rebuild it against this pg-mcp's SDK)");
  }
  // Trust nothing beyond struct_size; read the fixed head first.
  const std::uint32_t size = raw->struct_size;
  const size_t head = offsetof(pgmcp_plugin, abi_minor) + sizeof(std::uint32_t);
  if (size < head) {
    return refuse("malformed descriptor: struct_size " + std::to_string(size) +
                  " is smaller than the v1 minimum " + std::to_string(PGMCP_PLUGIN_V1_SIZE));
  }
  if (raw->abi_major != PGMCP_ABI_MAJOR) {
    return refuse("built for plugin ABI major " + std::to_string(raw->abi_major) +
                  ", but this pg-mcp speaks major " + std::to_string(PGMCP_ABI_MAJOR) +
                  " (rebuild it against this pg-mcp's SDK)");
  }
  if (size < PGMCP_PLUGIN_V1_SIZE) {
    return refuse("malformed descriptor: struct_size " + std::to_string(size) +
                  " is smaller than the v1 minimum " + std::to_string(PGMCP_PLUGIN_V1_SIZE));
  }
  std::memcpy(&impl->descriptor, raw, std::min<size_t>(size, sizeof(pgmcp_plugin)));
  const pgmcp_plugin &d = impl->descriptor;
  if (d.id == nullptr || !valid_id(d.id)) {
    return refuse(
        "malformed descriptor: the id must be 1-64 characters of a-z, 0-9, '-', '_', '.', starting "
        "with a letter or digit");
  }
  if (d.version == nullptr || d.init == nullptr || d.get_capability == nullptr) {
    return refuse(std::string("malformed descriptor of '") + d.id +
                  "': version, init and get_capability are required");
  }
  if (auto existing = by_id_.find(std::string_view(d.id)); existing != by_id_.end()) {
    return refuse(std::string("duplicate plugin id '") + d.id + "' (already loaded from " +
                  existing->second->info().file.string() + ")");
  }

  PluginInfo info;
  info.id = d.id;
  info.version = d.version;
  info.description = d.description != nullptr ? d.description : "";
  info.file = file;
  info.abi_major = d.abi_major;
  info.abi_minor = d.abi_minor;
  for (const auto &cap : known_capabilities()) {
    const void *table = d.get_capability(cap.c_str());
    if (table == nullptr) continue;
    if (std::string problem = capability_problem(cap, table); !problem.empty())
      return refuse("plugin '" + info.id + "' has a malformed " + cap + " table: " + problem +
                    " (rebuild it against the pgmcp SDK)");
    info.capabilities.push_back(cap);
  }
  if (info.capabilities.empty()) {
    return refuse("plugin '" + info.id + "' offers no capability this host knows (" +
                  PGMCP_RATELIMIT_V1 ", " PGMCP_LLM_V1 ", " PGMCP_DRIVER_V1 ")");
  }

  impl->host = std::make_unique<HostTable>(info.id);
  pgmcp_error err;
  pgmcp_status status = PGMCP_OK;
  try {
    status = d.init(&impl->host->api, &err);
  } catch (const std::exception &e) {
    return refuse("plugin '" + info.id + "' init threw: " + e.what());
  } catch (...) {
    return refuse("plugin '" + info.id + "' init threw an exception");
  }
  if (status != PGMCP_OK) {
    return refuse("plugin '" + info.id + "' init failed (status " + std::to_string(status) +
                  "): " + (err.message.empty() ? "no message given" : err.message));
  }
  impl->initialised = true;
  auto lib = std::shared_ptr<PluginLibrary>(new PluginLibrary(std::move(impl), std::move(info)));
  by_id_.emplace(lib->info().id, lib);
  log::debug("host", "loaded plugin " + lib->info().id + " " + lib->info().version + " from " +
                         file.string());
  return std::nullopt;
}

std::vector<LoadProblem> PluginRegistry::load_directory(const std::filesystem::path &dir) {
  std::vector<LoadProblem> problems;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    problems.push_back({dir, "plugin folder does not exist (set server.plugin_dir)"});
    return problems;
  }
  std::vector<std::filesystem::path> files;
  for (const auto &entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".so" && !entry.is_directory()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto &f : files) {
    if (auto p = load_file(f)) problems.push_back(std::move(*p));
  }
  return problems;
}

std::shared_ptr<PluginLibrary> PluginRegistry::find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<PluginLibrary>> PluginRegistry::list() const {
  std::vector<std::shared_ptr<PluginLibrary>> out;
  for (const auto &[id, lib] : by_id_) out.push_back(lib);
  return out;
}

std::string PluginRegistry::ids() const {
  std::string s;
  for (const auto &[id, lib] : by_id_) s += (s.empty() ? "" : ", ") + id;
  return s.empty() ? "none" : s;
}

std::filesystem::path default_plugin_dir() {
  auto exe = std::filesystem::path(boost::dll::program_location().string());
  return (exe.parent_path() / ".." / "lib" / "pg-mcp" / "plugins").lexically_normal();
}

}  // namespace pgmcp::plugins
