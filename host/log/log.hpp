// The host's logger: one line per message on stderr (stdout belongs to the
// stdio transport), as text or JSON. Thread-safe.
#pragma once

#include <atomic>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace pgmcp::log {

enum class Level { trace = 0, debug = 1, info = 2, warning = 3, error = 4 };
enum class Format { text, json };

std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);

void configure(Level level, Format format);
bool enabled(Level level);
// component: who speaks ("host", "plugin:token-bucket", "audit"). Never pass secrets.
void write(Level level, std::string_view component, std::string_view message);

// An audit record: one line, the fields as JSON members (json format) or as
// key=value pairs (text format), on standard error at level info; and, when
// an audit file is open, as one JSON line there whatever the level.
void audit(const nlohmann::json &fields);

// Appends audit records to path from now on (created 0600 if missing);
// empty: no file. Reopens it when called again (log rotation). Returns why it
// could not be opened, in which case the previous file stays.
std::optional<std::string> audit_to(const std::string &path);

inline void trace(std::string_view c, std::string_view m) { write(Level::trace, c, m); }
inline void debug(std::string_view c, std::string_view m) { write(Level::debug, c, m); }
inline void info(std::string_view c, std::string_view m) { write(Level::info, c, m); }
inline void warning(std::string_view c, std::string_view m) { write(Level::warning, c, m); }
inline void error(std::string_view c, std::string_view m) { write(Level::error, c, m); }

}  // namespace pgmcp::log
