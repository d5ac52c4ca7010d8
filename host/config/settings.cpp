#include "config/settings.hpp"

#include "config/names.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

namespace pgmcp::config {
namespace {

// Keys of the fixed sections, with what each accepts (for "unknown key" hints).
const std::map<std::string, std::set<std::string>> kFixedSections = {
    {"server", {"transport", "plugin_dir", "log_level", "log_format", "shutdown_timeout_s"}},
    {"http",
     {"listen", "path", "allowed_origins", "allowed_hosts", "max_body_bytes",
      "session_idle_timeout_s", "max_sessions", "max_threads", "tls_cert", "tls_key",
      "max_connections", "max_connections_per_client", "max_queued", "header_timeout_ms",
      "body_timeout_ms", "idle_timeout_ms", "write_timeout_ms"}},
    {"auth",
     {"mode", "tokens", "issuer", "audience", "jwks_file", "jwks_url", "resource",
      "authorization_servers", "required_scopes", "leeway_s"}},
    {"observability", {"listen"}},
    {"tools",
     {"query.llm", "query.max_attempts", "query.verify", "query.min_confidence",
      "query.context_budget_tokens", "query.max_question_chars"}},
};

// Keys the host reads in plugin instance sections; everything else goes to the plugin.
const std::map<std::string, std::set<std::string>> kInstanceHostKeys = {
    {"rate_limiter", {"plugin"}},
    {"database",
     {"plugin",
      "rate_limiter",
      "description",
      "pool_min",
      "pool_max",
      "acquire_timeout_ms",
      "statement_timeout_ms",
      "role",
      "search_path",
      "max_rows",
      "max_result_bytes",
      "allow_explain_analyze",
      "row_guard",
      "schema_ttl_s",
      "schema_load",
      "rate_limit_wait_ms",
      "allow_write",
      "allow_explain",
      "blocked_tables",
      "blocked_columns",
      "blocked_functions",
      "allowed_functions",
      "allowed_tables",
      "allowed_columns"}},
    {"llm",
     {"plugin", "rate_limiter", "description", "max_retries", "retry_base_ms", "retry_max_ms",
      "breaker_failures", "breaker_reset_s", "rate_limit_wait_ms"}},
};

std::string join(const std::set<std::string> &names) {
  std::string s;
  for (const auto &n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string section_names() {
  std::set<std::string> names;
  for (const auto &[k, v] : kFixedSections) names.insert("[" + k + "]");
  for (const auto &[k, v] : kInstanceHostKeys) names.insert("[" + k + ".NAME]");
  return join(names);
}

bool is_instance_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return false;
  }
  return true;
}

long long whole_number(const std::string &value, long long min, long long max) {
  char *end = nullptr;
  errno = 0;
  long long n = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || errno != 0 || *end != '\0' || n < min || n > max) {
    throw std::invalid_argument("'" + value + "' is not a whole number from " +
                                std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

bool boolean(const std::string &value) {
  if (value == "true" || value == "yes" || value == "on" || value == "1") return true;
  if (value == "false" || value == "no" || value == "off" || value == "0") return false;
  throw std::invalid_argument("'" + value + "' is not a boolean (true or false)");
}

void database_option(DatabaseOptions &d, const std::string &key, const std::string &value) {
  if (key == "pool_min")
    d.pool_min = static_cast<int>(whole_number(value, 0, 1000));
  else if (key == "pool_max")
    d.pool_max = static_cast<int>(whole_number(value, 1, 1000));
  else if (key == "acquire_timeout_ms")
    d.acquire_timeout_ms = static_cast<int>(whole_number(value, 1, 600000));
  else if (key == "statement_timeout_ms")
    d.statement_timeout_ms = static_cast<int>(whole_number(value, 1, 86400000));
  else if (key == "role")
    d.role = value;
  else if (key == "search_path")
    d.search_path = value;
  else if (key == "max_rows")
    d.max_rows = whole_number(value, 1, 10000000);
  else if (key == "max_result_bytes")
    d.max_result_bytes = whole_number(value, 1024, 1LL << 31);
  else if (key == "allow_explain_analyze")
    d.allow_explain_analyze = boolean(value);
  else if (key == "row_guard")
    d.row_guard = boolean(value);
  else if (key == "allow_write")
    d.allow_write = boolean(value);
  else if (key == "allow_explain")
    d.allow_explain = boolean(value);
  else if (key == "blocked_tables")
    d.blocked_tables = split_list(value);
  else if (key == "blocked_columns")
    d.blocked_columns = split_list(value);
  else if (key == "blocked_functions")
    d.blocked_functions = split_list(value);
  else if (key == "allowed_functions")
    d.allowed_functions = split_list(value);
  else if (key == "allowed_tables")
    d.allowed_tables = split_list(value);
  else if (key == "allowed_columns")
    d.allowed_columns = split_list(value);
  else if (key == "schema_ttl_s")
    d.schema_ttl_s = static_cast<int>(whole_number(value, 1, 86400 * 7));
  else if (key == "schema_load") {
    if (value == "lazy")
      d.schema_at_startup = false;
    else if (value == "startup")
      d.schema_at_startup = true;
    else
      throw std::invalid_argument("'" + value + "' is not a schema_load mode (lazy or startup)");
  } else if (key == "rate_limit_wait_ms")
    d.rate_limit_wait_ms = static_cast<int>(whole_number(value, 0, 600000));
}

void llm_option(LlmOptions &o, const std::string &key, const std::string &value) {
  auto ms = [&](long long max) { return static_cast<int>(whole_number(value, 0, max)); };
  if (key == "max_retries")
    o.max_retries = ms(10);
  else if (key == "retry_base_ms")
    o.retry_base_ms = ms(600000);
  else if (key == "retry_max_ms")
    o.retry_max_ms = ms(600000);
  else if (key == "breaker_failures")
    o.breaker_failures = static_cast<int>(whole_number(value, 1, 1000));
  else if (key == "breaker_reset_s")
    o.breaker_reset_s = static_cast<int>(whole_number(value, 1, 86400));
  else if (key == "rate_limit_wait_ms")
    o.rate_limit_wait_ms = ms(600000);
}

}  // namespace

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string Endpoint::text() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool Endpoint::loopback() const {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Endpoint parse_endpoint(std::string_view text) {
  Endpoint e;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw std::invalid_argument("'" + std::string(text) + "' is not [ipv6]:port");
    }
    e.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      throw std::invalid_argument("'" + std::string(text) +
                                  "' is not host:port (e.g. 127.0.0.1:8765)");
    }
    e.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (e.host.find(':') != std::string::npos) {
      throw std::invalid_argument("'" + std::string(text) +
                                  "': write an IPv6 address in brackets, e.g. [::1]:8765");
    }
  }
  unsigned long n = 0;
  bool ok = !port.empty() && port.size() <= 5;
  for (char c : port) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) n = n * 10 + static_cast<unsigned long>(c - '0');
  }
  if (!ok || n > 65535) {
    throw std::invalid_argument("'" + std::string(port) + "' is not a port number (0 to 65535)");
  }
  e.port = static_cast<std::uint16_t>(n);
  return e;
}

Settings default_settings() { return Settings{}; }

Settings load_settings(const ConfigFile &file, const EnvLookup &env) {
  Settings s;
  s.config_path = file.path;
  std::vector<std::string> problems;
  std::map<std::string, InstanceSpec> instances;  // by "kind.name"

  auto problem = [&](const std::string &key, const std::string &reason) {
    problems.push_back(file.where(key) + ": " + key + ": " + reason);
  };
  auto instance = [&](const std::string &kind, const std::string &name,
                      int line) -> InstanceSpec & {
    auto [it, inserted] = instances.try_emplace(kind + "." + name);
    if (inserted) {
      it->second.kind = kind;
      it->second.name = name;
      it->second.where = line > 0 ? file.path + ":" + std::to_string(line) : file.path;
    }
    return it->second;
  };

  // Sections that exist even without keys must still be valid.
  for (const auto &[section, line] : file.sections) {
    auto dot = section.find('.');
    std::string head = section.substr(0, dot);
    std::string where = line > 0 ? file.path + ":" + std::to_string(line) : file.path;
    if (kFixedSections.count(head) != 0) {
      if (dot != std::string::npos && file.values.count(section) == 0) {
        // [server.x] style, or a nested JSON object where a value belongs.
        bool has_children = false;
        for (const auto &[k, v] : file.values) has_children |= k.rfind(section + ".", 0) == 0;
        if (has_children || line > 0)
          problems.push_back(where + ": [" + section + "] is not a section (did you mean [" + head +
                             "]?)");
      }
      continue;
    }
    if (kInstanceHostKeys.count(head) != 0) {
      if (dot == std::string::npos) continue;  // JSON parent object {"database": {...}}
      std::string name = section.substr(dot + 1);
      if (!is_instance_name(name)) {
        problems.push_back(where + ": [" + section +
                           "]: an instance name is letters, digits, '_' and '-'");
        continue;
      }
      instance(head, name, line);
      continue;
    }
    problems.push_back(where + ": unknown section [" + section + "] (known: " + section_names() +
                       ")");
  }

  for (const auto &[key, raw] : file.values) {
    auto dot = key.find('.');
    std::string head = key.substr(0, dot);
    std::string value;
    try {
      value = expand_env(raw.value, env);
    } catch (const std::invalid_argument &e) {
      problem(key, e.what());
      continue;
    }

    if (auto fixed = kFixedSections.find(head); fixed != kFixedSections.end()) {
      std::string sub = dot == std::string::npos ? "" : key.substr(dot + 1);
      if (fixed->second.count(sub) == 0) {
        problem(key, "unknown key (known in [" + head + "]: " + join(fixed->second) + ")");
        continue;
      }
      try {
        if (key == "server.transport") {
          if (value == "stdio")
            s.transport = Transport::stdio;
          else if (value == "http")
            s.transport = Transport::http;
          else
            throw std::invalid_argument("'" + value + "' is not a transport (stdio or http)");
        } else if (key == "server.plugin_dir") {
          s.plugin_dir = value;
        } else if (key == "server.shutdown_timeout_s") {
          s.shutdown_timeout_s = static_cast<int>(whole_number(value, 1, 600));
        } else if (key == "server.log_level") {
          auto level = log::parse_level(value);
          if (!level)
            throw std::invalid_argument(
                "'" + value + "' is not a log level (trace, debug, info, warning, error)");
          s.log_level = *level;
        } else if (key == "server.log_format") {
          if (value == "text")
            s.log_format = log::Format::text;
          else if (value == "json")
            s.log_format = log::Format::json;
          else
            throw std::invalid_argument("'" + value + "' is not a log format (text or json)");
        } else if (key == "http.listen") {
          s.http_listen = parse_endpoint(value);
        } else if (key == "http.path") {
          if (value.empty() || value.front() != '/' ||
              value.find_first_of(" ?#") != std::string::npos)
            throw std::invalid_argument("'" + value + "' is not a URL path (e.g. /mcp)");
          s.http_path = value;
        } else if (key == "http.allowed_origins") {
          s.http_allowed_origins = split_list(value);
        } else if (key == "http.allowed_hosts") {
          s.http_allowed_hosts = split_list(value);
        } else if (key == "http.max_body_bytes") {
          s.http_max_body_bytes = static_cast<std::size_t>(whole_number(value, 1024, 1LL << 30));
        } else if (key == "http.session_idle_timeout_s") {
          s.http_session_idle_timeout_s = static_cast<int>(whole_number(value, 1, 7 * 86400));
        } else if (key == "http.max_sessions") {
          s.http_max_sessions = static_cast<std::size_t>(whole_number(value, 1, 10000000));
        } else if (key == "http.max_threads") {
          s.http_max_threads = static_cast<int>(whole_number(value, 4, 10000));
        } else if (key == "http.max_connections") {
          s.http_max_connections = static_cast<std::size_t>(whole_number(value, 8, 1000000));
        } else if (key == "http.max_connections_per_client") {
          s.http_max_connections_per_client =
              static_cast<std::size_t>(whole_number(value, 1, 1000000));
        } else if (key == "http.max_queued") {
          s.http_max_queued = static_cast<std::size_t>(whole_number(value, 1, 1000000));
        } else if (key == "http.header_timeout_ms") {
          s.http_header_timeout_ms = static_cast<int>(whole_number(value, 100, 3600000));
        } else if (key == "http.body_timeout_ms") {
          s.http_body_timeout_ms = static_cast<int>(whole_number(value, 100, 3600000));
        } else if (key == "http.idle_timeout_ms") {
          s.http_idle_timeout_ms = static_cast<int>(whole_number(value, 100, 3600000));
        } else if (key == "http.write_timeout_ms") {
          s.http_write_timeout_ms = static_cast<int>(whole_number(value, 100, 3600000));
        } else if (key == "http.tls_cert") {
          s.http_tls_cert = value;
        } else if (key == "http.tls_key") {
          s.http_tls_key = value;
        } else if (key == "auth.mode") {
          if (value == "none")
            s.auth.mode = AuthMode::none;
          else if (value == "bearer")
            s.auth.mode = AuthMode::bearer;
          else if (value == "jwt")
            s.auth.mode = AuthMode::jwt;
          else
            throw std::invalid_argument("'" + value +
                                        "' is not an auth mode (none, bearer or jwt)");
        } else if (key == "auth.tokens") {
          s.auth.tokens = split_list(value);
        } else if (key == "auth.issuer") {
          s.auth.issuer = value;
        } else if (key == "auth.audience") {
          s.auth.audiences = split_list(value);
        } else if (key == "auth.jwks_file") {
          s.auth.jwks_file = value;
        } else if (key == "auth.jwks_url") {
          s.auth.jwks_url = value;
        } else if (key == "auth.resource") {
          s.auth.resource = value;
        } else if (key == "auth.authorization_servers") {
          s.auth.authorization_servers = split_list(value);
        } else if (key == "auth.required_scopes") {
          s.auth.required_scopes = split_list(value);
        } else if (key == "auth.leeway_s") {
          s.auth.leeway_s = static_cast<int>(whole_number(value, 0, 3600));
        } else if (key == "tools.query.llm") {
          s.query.llm = value;
        } else if (key == "tools.query.max_attempts") {
          s.query.max_attempts = static_cast<int>(whole_number(value, 1, 10));
        } else if (key == "tools.query.verify") {
          s.query.verify = boolean(value);
        } else if (key == "tools.query.min_confidence") {
          s.query.min_confidence = static_cast<int>(whole_number(value, 0, 100));
        } else if (key == "tools.query.context_budget_tokens") {
          s.query.context_budget_tokens = static_cast<int>(whole_number(value, 200, 1000000));
        } else if (key == "tools.query.max_question_chars") {
          s.query.max_question_chars = static_cast<int>(whole_number(value, 10, 100000));
        } else if (key == "observability.listen") {
          if (value.empty())
            s.observability_listen.reset();
          else
            s.observability_listen = parse_endpoint(value);
        }
      } catch (const std::invalid_argument &e) {
        problem(key, e.what());
      }
      continue;
    }

    if (auto host_keys = kInstanceHostKeys.find(head); host_keys != kInstanceHostKeys.end()) {
      auto dot2 = dot == std::string::npos ? std::string::npos : key.find('.', dot + 1);
      if (dot2 == std::string::npos) {
        problem(key, "belongs in a named section, e.g. [" + head + ".main]");
        continue;
      }
      std::string name = key.substr(dot + 1, dot2 - dot - 1);
      std::string sub = key.substr(dot2 + 1);
      if (!is_instance_name(name)) continue;  // reported with the section
      InstanceSpec &spec = instance(head, name, 0);
      if (sub == "plugin") {
        spec.plugin = value;
      } else if (sub == "rate_limiter" && host_keys->second.count(sub)) {
        spec.rate_limiter = value;
      } else if (sub == "description" && host_keys->second.count(sub)) {
        spec.description = value;
      } else if (head == "database" && host_keys->second.count(sub)) {
        try {
          database_option(spec.database, sub, value);
        } catch (const std::invalid_argument &e) {
          problem(key, e.what());
        }
      } else if (head == "llm" && host_keys->second.count(sub)) {
        try {
          llm_option(spec.llm, sub, value);
        } catch (const std::invalid_argument &e) {
          problem(key, e.what());
        }
      } else {
        spec.plugin_values.emplace_back(sub, value);
      }
      continue;
    }
    problem(key, "unknown section [" + head + "] (known: " + section_names() + ")");
  }

  // Cross-references between instances.
  for (auto &[id, spec] : instances) {
    if (spec.plugin.empty()) {
      problems.push_back(
          spec.where + ": [" + id +
          "]: 'plugin' is required (the id of the plugin to use, see pg-mcp --list-plugins)");
    }
    if (!spec.rate_limiter.empty() && instances.count("rate_limiter." + spec.rate_limiter) == 0) {
      std::set<std::string> defined;
      for (const auto &[k, v] : instances)
        if (v.kind == "rate_limiter") defined.insert(v.name);
      problems.push_back(spec.where + ": " + id + ".rate_limiter: '" + spec.rate_limiter +
                         "' names no [rate_limiter." + spec.rate_limiter +
                         "] section (defined: " + (defined.empty() ? "none" : join(defined)) + ")");
    }
    auto &list = spec.kind == "rate_limiter" ? s.rate_limiters
                 : spec.kind == "database"   ? s.databases
                                             : s.llms;
    list.push_back(spec);
  }

  // Sections and their plugin values keep file order (the maps above sort by key).
  auto line_of = [&](const InstanceSpec &spec) {
    auto it = file.sections.find(spec.section());
    return it == file.sections.end() ? 0 : it->second;
  };
  for (auto *list : {&s.rate_limiters, &s.databases, &s.llms}) {
    std::stable_sort(list->begin(), list->end(), [&](const InstanceSpec &a, const InstanceSpec &b) {
      return line_of(a) < line_of(b);
    });
  }
  for (auto *list : {&s.rate_limiters, &s.databases, &s.llms}) {
    for (auto &spec : *list) {
      std::stable_sort(spec.plugin_values.begin(), spec.plugin_values.end(),
                       [&](const auto &a, const auto &b) {
                         auto la = file.values.find(spec.section() + "." + a.first);
                         auto lb = file.values.find(spec.section() + "." + b.first);
                         return la->second.line < lb->second.line;
                       });
    }
  }

  // Rules that span keys.
  if (!s.query.llm.empty() && s.query.llm != kClientModel &&
      std::none_of(s.llms.begin(), s.llms.end(),
                   [&](const InstanceSpec &l) { return l.name == s.query.llm; })) {
    std::set<std::string> defined{std::string(kClientModel) + " (the client's model)"};
    for (const auto &l : s.llms) defined.insert(l.name);
    problems.push_back(file.where("tools.query.llm") + ": tools.query.llm: '" + s.query.llm +
                       "' names no [llm." + s.query.llm +
                       "] section (choose from: " + join(defined) + ")");
  }
  for (const auto &db : s.databases) {
    try {
      const DatabaseOptions &o = db.database;
      name_patterns(o.blocked_tables, "blocked_tables", false);
      name_patterns(o.blocked_functions, "blocked_functions", true);
      name_patterns(o.allowed_functions, "allowed_functions", true);
      name_patterns(o.allowed_tables, "allowed_tables", true);
      column_patterns(o.blocked_columns, "blocked_columns", 1);
      column_patterns(o.allowed_columns, "allowed_columns", 2);
    } catch (const std::invalid_argument &e) {
      problems.push_back(db.where + ": [" + db.section() + "]: " + e.what());
    }
    if (db.database.pool_min > db.database.pool_max) {
      problems.push_back(db.where + ": [" + db.section() + "]: pool_min (" +
                         std::to_string(db.database.pool_min) + ") is larger than pool_max (" +
                         std::to_string(db.database.pool_max) + ")");
    }
  }
  if (s.http_tls_cert.empty() != s.http_tls_key.empty()) {
    problems.push_back(
        file.path + ": http.tls_cert and http.tls_key go together: set both for HTTPS, or neither");
  }
  if (s.auth.mode == AuthMode::bearer && s.auth.tokens.empty()) {
    problems.push_back(
        file.path +
        ": auth.tokens: mode = bearer needs at least one token (e.g. tokens = ${PGMCP_TOKEN})");
  }
  if (s.auth.mode == AuthMode::jwt) {
    if (s.auth.issuer.empty())
      problems.push_back(file.path + ": auth.issuer: mode = jwt needs the token issuer");
    if (s.auth.jwks_file.empty() == s.auth.jwks_url.empty())
      problems.push_back(file.path +
                         ": auth: mode = jwt needs exactly one of jwks_file and jwks_url");
    if (s.auth.resource.empty())
      problems.push_back(file.path +
                         ": auth.resource: mode = jwt needs this server's canonical URL (e.g. "
                         "https://db.example.com/mcp)");
  }
  for (auto *f : {&s.http_tls_cert, &s.http_tls_key, &s.auth.jwks_file}) {
    if (!f->empty() && std::filesystem::path(*f).is_relative())
      *f = (std::filesystem::path(file.path).parent_path() / *f).lexically_normal().string();
  }

  if (!s.plugin_dir.empty() && std::filesystem::path(s.plugin_dir).is_relative()) {
    // Relative to the config file, not to wherever pg-mcp was started.
    auto base = std::filesystem::path(file.path).parent_path();
    s.plugin_dir = (base / s.plugin_dir).lexically_normal().string();
  }
  if (!problems.empty()) throw ConfigError(std::move(problems));
  return s;
}

}  // namespace pgmcp::config
