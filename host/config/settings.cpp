#include "config/settings.hpp"

#include "config/keys.hpp"
#include "config/names.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

namespace pgmcp::config {
namespace {

std::string join(const std::set<std::string> &names) {
  std::string s;
  for (const auto &n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string section_names() {
  std::set<std::string> names;
  for (const auto &k : fixed_sections()) names.insert("[" + k + "]");
  for (const auto &k : instance_kinds()) names.insert("[" + k + ".NAME]");
  return join(names);
}

bool is_fixed_section(const std::string &name) {
  auto all = fixed_sections();
  return std::find(all.begin(), all.end(), name) != all.end();
}

bool is_instance_kind(const std::string &name) {
  auto all = instance_kinds();
  return std::find(all.begin(), all.end(), name) != all.end();
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

bool is_loopback_host(std::string_view host) {
  std::string h(host);
  for (char &c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (h == "localhost" || h == "localhost." || h == "::1" || h == "[::1]") return true;
  // An IPv4 literal in 127.0.0.0/8: four numbers, nothing after them (a name
  // like 127.0.0.1.example.com is a name, and may resolve anywhere).
  in_addr a{};
  return inet_pton(AF_INET, h.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool Endpoint::loopback() const { return is_loopback_host(host); }

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

namespace {

// One pass over a file: sections, then values, then what spans them. Every
// problem is collected; load_settings throws them together.
class SettingsReader {
 public:
  SettingsReader(const ConfigFile &f, const EnvLookup &e) : file(f), env(e) {
    s.config_path = file.path;
  }

  Settings read() {
    read_sections();
    read_values();
    link_instances();
    keep_file_order();
    check_rules();
    resolve_paths();
    read_vocabulary();
    if (!problems.empty()) throw ConfigError(std::move(problems));
    return std::move(s);
  }

 private:
  void problem(const std::string &key, const std::string &reason) {
    problems.push_back(file.where(key) + ": " + key + ": " + reason);
  }

  InstanceSpec &instance(const std::string &kind, const std::string &name, int line) {
    auto [it, inserted] = instances.try_emplace(kind + "." + name);
    if (inserted) {
      it->second.kind = kind;
      it->second.name = name;
      it->second.where = line > 0 ? file.path + ":" + std::to_string(line) : file.path;
    }
    return it->second;
  }

  void read_sections() {
    // Sections that exist even without keys must still be valid.
    for (const auto &[section, line] : file.sections) {
      auto dot = section.find('.');
      std::string head = section.substr(0, dot);
      std::string where = line > 0 ? file.path + ":" + std::to_string(line) : file.path;
      if (is_fixed_section(head)) {
        if (dot != std::string::npos && file.values.count(section) == 0) {
          // [server.x] style, or a nested JSON object where a value belongs.
          bool has_children = false;
          for (const auto &[k, v] : file.values) has_children |= k.rfind(section + ".", 0) == 0;
          if (has_children || line > 0)
            problems.push_back(where + ": [" + section + "] is not a section (did you mean [" +
                               head + "]?)");
        }
        continue;
      }
      if (is_instance_kind(head)) {
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
  }

  void read_values() {
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

      if (is_fixed_section(head)) {
        std::string sub = dot == std::string::npos ? "" : key.substr(dot + 1);
        const Key *k = find_key(head, sub, false);
        if (k == nullptr) {
          problem(key, "unknown key (known in [" + head + "]: " + key_names(head, false) + ")");
          continue;
        }
        try {
          k->set({&s, nullptr}, value);
        } catch (const std::invalid_argument &e) {
          problem(key, e.what());
        }
        continue;
      }

      if (is_instance_kind(head)) {
        auto dot2 = dot == std::string::npos ? std::string::npos : key.find('.', dot + 1);
        if (dot2 == std::string::npos) {
          problem(key, "belongs in a named section, e.g. [" + head + ".main]");
          continue;
        }
        std::string name = key.substr(dot + 1, dot2 - dot - 1);
        std::string sub = key.substr(dot2 + 1);
        if (!is_instance_name(name)) continue;  // reported with the section
        InstanceSpec &spec = instance(head, name, 0);
        if (const Key *k = find_key(head, sub, true)) {
          try {
            k->set({nullptr, &spec}, value);
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
  }

  void link_instances() {
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
                           "] section (defined: " + (defined.empty() ? "none" : join(defined)) +
                           ")");
      }
      auto &list = spec.kind == "rate_limiter" ? s.rate_limiters
                   : spec.kind == "database"   ? s.databases
                                               : s.llms;
      list.push_back(spec);
    }
  }

  void keep_file_order() {
    // Sections and their plugin values keep file order (the maps above sort by key).
    auto line_of = [&](const InstanceSpec &spec) {
      auto it = file.sections.find(spec.section());
      return it == file.sections.end() ? 0 : it->second;
    };
    for (auto *list : {&s.rate_limiters, &s.databases, &s.llms}) {
      std::stable_sort(
          list->begin(), list->end(),
          [&](const InstanceSpec &a, const InstanceSpec &b) { return line_of(a) < line_of(b); });
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
  }

  void check_rules() {
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
        for (const auto &name : o.allowed_settings) {
          // a setting's name (parts of letters, digits, _ and $), or prefix.*
          bool ok = !name.empty() && name.front() != '.' && name.back() != '.';
          for (size_t i = 0; ok && i < name.size(); ++i) {
            unsigned char c = static_cast<unsigned char>(name[i]);
            bool star = c == '*' && i + 1 == name.size() && i > 1 && name[i - 1] == '.';
            ok = std::isalnum(c) != 0 || c == '_' || c == '$' || star ||
                 (c == '.' && name[i - 1] != '.');
          }
          if (!ok)
            throw std::invalid_argument("allowed_settings: '" + name +
                                        "' is not a setting's name (work_mem, app.tenant) or a "
                                        "prefix (app.*)");
        }
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
          file.path +
          ": http.tls_cert and http.tls_key go together: set both for HTTPS, or neither");
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
  }

  // Files named relative to the configuration file, not to wherever pg-mcp
  // was started.
  void read_vocabulary() {
    if (s.query.vocabulary_file.empty()) return;
    const std::string key = "tools.query.vocabulary_file";
    try {
      auto v = std::make_shared<Vocabulary>(load_vocabulary(s.query.vocabulary_file));
      auto known = [&](const std::string &db, const std::string &where) {
        if (db.empty() || std::any_of(s.databases.begin(), s.databases.end(),
                                      [&](const InstanceSpec &d) { return d.name == db; }))
          return;
        problem(key, s.query.vocabulary_file + ": " + where + ".database: '" + db +
                         "' names no [database." + db + "] section");
      };
      for (std::size_t i = 0; i < v->terms.size(); ++i)
        known(v->terms[i].database, "terms[" + std::to_string(i) + "]");
      for (std::size_t i = 0; i < v->examples.size(); ++i)
        known(v->examples[i].database, "examples[" + std::to_string(i) + "]");
      s.query.vocabulary = std::move(v);
    } catch (const std::invalid_argument &e) {
      problem(key, s.query.vocabulary_file + ": " + e.what());
    }
  }

  void resolve_paths() {
    for (auto *f : {&s.http_tls_cert, &s.http_tls_key, &s.auth.jwks_file, &s.audit_file,
                    &s.request_state_key_file, &s.query.vocabulary_file}) {
      if (!f->empty() && std::filesystem::path(*f).is_relative())
        *f = (std::filesystem::path(file.path).parent_path() / *f).lexically_normal().string();
    }

    if (!s.plugin_dir.empty() && std::filesystem::path(s.plugin_dir).is_relative()) {
      auto base = std::filesystem::path(file.path).parent_path();
      s.plugin_dir = (base / s.plugin_dir).lexically_normal().string();
    }
  }

  const ConfigFile &file;
  const EnvLookup &env;
  Settings s;
  std::vector<std::string> problems;
  std::map<std::string, InstanceSpec> instances;  // by "kind.name"
};

}  // namespace

Settings load_settings(const ConfigFile &file, const EnvLookup &env) {
  return SettingsReader(file, env).read();
}

}  // namespace pgmcp::config
