// Fuzzes the config readers: INI and JSON parsing, ${VAR} expansion and
// settings validation. Any input must give settings or a ConfigError; never a
// crash, a hang or another exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config_file.hpp"
#include "config/settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the format, so one corpus covers both.
  std::string_view text(reinterpret_cast<const char *>(data) + 1, size - 1);
  auto env = [](const std::string &name) -> const char * {
    return name == "SET" ? "value" : nullptr;
  };
  try {
    auto file = (data[0] & 1) ? pgmcp::config::parse_json(text, "f.json")
                              : pgmcp::config::parse_ini(text, "f.ini");
    auto settings = pgmcp::config::load_settings(file, env);
    (void)settings;
  } catch (const pgmcp::config::ConfigError &) {
  }
  try {
    (void)pgmcp::config::expand_env(text, env);
  } catch (const std::invalid_argument &) {
  }
  return 0;
}
