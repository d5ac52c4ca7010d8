// Reads a config file (INI or JSON) into one flat map of dotted keys, so both
// formats share every rule after this point. JSON nesting maps to dotted keys:
// {"rate_limiter": {"default": {"rate": "10/min"}}} is
// [rate_limiter.default] rate = 10/min.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pgmcp::config {

// One or more problems, each naming file, key and reason, one per line.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string> &problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

struct ConfigValue {
  std::string value;  // raw: ${VAR} not yet expanded
  int line = 0;       // 1-based; 0 when the format has no lines to give (JSON)
};

struct ConfigFile {
  std::string path;                           // as given; used in messages
  std::map<std::string, ConfigValue> values;  // "section.key" -> value
  std::map<std::string, int> sections;        // every section named, even empty ones -> line
  // "file:line" (or "file") for messages about key.
  std::string where(const std::string &key) const;
};

ConfigFile parse_ini(std::string_view text, const std::string &path);
ConfigFile parse_json(std::string_view text, const std::string &path);
// Chooses the format by extension: .json is JSON; .ini, .conf and .cfg are INI.
ConfigFile load_config_file(const std::string &path);

// Looks up an environment variable; nullptr when unset.
using EnvLookup = std::function<const char *(const std::string &name)>;
EnvLookup process_environment();

// Expands ${VAR} and ${VAR:-default}; "$${" is a literal "${". Throws
// std::invalid_argument with the reason (never the value) when a variable is
// unset and has no default, or the syntax is wrong.
std::string expand_env(std::string_view value, const EnvLookup &env);

}  // namespace pgmcp::config
