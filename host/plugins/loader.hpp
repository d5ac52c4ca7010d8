// Loads plugin libraries, checks them against the ABI and keeps each loaded
// as long as anything it created is alive.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgmcp/plugin.h"

namespace pgmcp::plugins {

struct PluginInfo {
  std::string id;
  std::string version;
  std::string description;
  std::filesystem::path file;
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  std::vector<std::string> capabilities;  // the ones this host knows that it offers
  std::string kinds() const;              // "rate limiter", "llm, database driver", ...
};

// One loaded and initialised plugin library. Objects it creates hold a
// shared_ptr to it; deinit runs and the library unloads when the last goes.
class PluginLibrary {
 public:
  ~PluginLibrary();
  PluginLibrary(const PluginLibrary &) = delete;
  PluginLibrary &operator=(const PluginLibrary &) = delete;

  const PluginInfo &info() const { return info_; }
  // The capability table for id, or nullptr.
  const void *capability(std::string_view id) const;
  // The services table this plugin was initialised with.
  const pgmcp_host *host() const;

 private:
  friend class PluginRegistry;
  struct Impl;
  explicit PluginLibrary(std::unique_ptr<Impl> impl, PluginInfo info);
  std::unique_ptr<Impl> impl_;
  PluginInfo info_;
};

// Why a file was refused.
struct LoadProblem {
  std::filesystem::path file;
  std::string reason;
  std::string message() const { return file.string() + ": " + reason; }
};

class PluginRegistry {
 public:
  // Loads every "*.so" in dir (sorted by name). Returns the files refused, each
  // with its reason; the rest are registered. A missing dir is one problem.
  std::vector<LoadProblem> load_directory(const std::filesystem::path &dir);
  // Loads one file; nullopt on success.
  std::optional<LoadProblem> load_file(const std::filesystem::path &file);

  std::shared_ptr<PluginLibrary> find(std::string_view id) const;
  std::vector<std::shared_ptr<PluginLibrary>> list() const;  // by id
  std::string ids() const;                                   // "a, b, c" or "none"

 private:
  std::map<std::string, std::shared_ptr<PluginLibrary>, std::less<>> by_id_;
};

// The capability ids this host knows, in the order kinds are listed.
const std::vector<std::string> &known_capabilities();

// Where plugins live when server.plugin_dir is not set: ../lib/pg-mcp/plugins
// relative to the running executable.
std::filesystem::path default_plugin_dir();

}  // namespace pgmcp::plugins
