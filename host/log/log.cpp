#include "log/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

namespace pgmcp::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};
std::atomic<Format> g_format{Format::text};
std::mutex g_mutex;
std::FILE *g_audit_file = nullptr;  // under g_mutex
bool g_audit_failed = false;        // a write failed: said once

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  if (name == "trace") return Level::trace;
  if (name == "debug") return Level::debug;
  if (name == "info") return Level::info;
  if (name == "warning") return Level::warning;
  if (name == "error") return Level::error;
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::trace:
      return "trace";
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warning:
      return "warning";
    case Level::error:
      return "error";
  }
  return "info";
}

void configure(Level level, Format format) {
  g_level.store(static_cast<int>(level));
  g_format.store(format);
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void write(Level level, std::string_view component, std::string_view message) {
  if (!enabled(level)) return;
  std::string line;
  if (g_format.load() == Format::json) {
    nlohmann::json j = {{"time", timestamp()},
                        {"level", level_name(level)},
                        {"component", component},
                        {"message", message}};
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = timestamp();
    line += ' ';
    line += level_name(level);
    line += " [";
    line += component;
    line += "] ";
    line += message;
  }
  line += '\n';
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::optional<std::string> audit_to(const std::string &path) {
  std::FILE *f = nullptr;
  if (!path.empty()) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || (f = ::fdopen(fd, "a")) == nullptr) {
      std::string why = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return "cannot open the audit file " + path + ": " + why;
    }
  }
  std::lock_guard lock(g_mutex);
  if (g_audit_file != nullptr) std::fclose(g_audit_file);
  g_audit_file = f;
  g_audit_failed = false;
  return std::nullopt;
}

void audit(const nlohmann::json &fields) {
  nlohmann::json j = {{"time", timestamp()}, {"level", "info"}, {"component", "audit"}};
  j.update(fields);
  std::string json_line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  {
    std::lock_guard lock(g_mutex);
    if (g_audit_file != nullptr &&
        (std::fwrite(json_line.data(), 1, json_line.size(), g_audit_file) != json_line.size() ||
         std::fflush(g_audit_file) != 0) &&
        !g_audit_failed) {
      g_audit_failed = true;
      std::string warn = timestamp() +
                         " warning [audit] writing the audit file failed: " + std::strerror(errno) +
                         "\n";
      std::fwrite(warn.data(), 1, warn.size(), stderr);
    }
  }
  if (!enabled(Level::info)) return;
  std::string line;
  if (g_format.load() == Format::json) {
    line = std::move(json_line);
    line.pop_back();
  } else {
    line = timestamp() + " info [audit]";
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      line += ' ';
      line += it.key();
      line += '=';
      line += it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  line += '\n';
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace pgmcp::log
