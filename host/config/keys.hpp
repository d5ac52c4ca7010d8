// Every configuration key the host reads, in one table: what it accepts, its
// default, what it means, and whether a reload (SIGHUP) takes it. The table
// drives validation (load_settings), the defaults shown, `pg-mcp --help` and
// `pg-mcp --config-reference` (docs/configuration.md is its output, checked
// in CI to be current).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace pgmcp::config {

// What a key writes to: the settings for the fixed sections, the instance
// for [KIND.NAME] sections.
struct KeyTarget {
  Settings *settings = nullptr;
  InstanceSpec *instance = nullptr;
};

struct Key {
  std::string section;  // "http", or an instance kind ("database") for [database.NAME]
  std::string name;     // "listen", "query.llm"
  bool instance = false;
  std::string accepts;   // "a whole number from 1 to 1000"
  std::string help;      // what it means, for people
  bool restart = false;  // a reload keeps the running value; it takes a restart
  // Parses value into the target; throws std::invalid_argument saying why not.
  std::function<void(KeyTarget, const std::string &value)> set;
  // The value in the target as a file would write it ("" for none).
  std::function<std::string(KeyTarget)> get;
  // The default when it is not the value of a default-made target (""
  // shows that value).
  std::string default_text;

  std::string full_name() const {
    return instance ? section + ".NAME." + name : section + "." + name;
  }
};

// Every key, in the order the reference shows them.
const std::vector<Key> &keys();
// The key of [section] (or [section.NAME] for an instance kind) called name.
const Key *find_key(std::string_view section, std::string_view name, bool instance);
// The fixed sections and the instance kinds, in table order.
std::vector<std::string> fixed_sections();
std::vector<std::string> instance_kinds();
// "a, b, c": the keys of a section.
std::string key_names(std::string_view section, bool instance);

// The default of a key, as the reference shows it.
std::string default_of(const Key &key);

// The keys whose running value a reload cannot change that differ between a
// and b ("http.listen", ...).
std::vector<std::string> restart_keys_changed(const Settings &a, const Settings &b);

// The configuration reference (Markdown): docs/configuration.md.
std::string reference_markdown();
// The short list of sections and keys for --help.
std::string help_summary();

}  // namespace pgmcp::config
