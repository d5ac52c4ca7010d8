#include "config/config_file.hpp"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace pgmcp::config {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

bool is_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_name_char(c)) return false;
  return s.front() != '.' && s.back() != '.' && s.find("..") == std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  const char *ws = " \t\r\f\v";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string at(const std::string &path, int line) { return path + ":" + std::to_string(line); }

// The value part of "key = value": a "quoted string" (with \" and \\), or
// plain text up to an inline comment (";" or "#" after white space).
std::string ini_value(std::string_view raw, const std::string &where) {
  raw = trim(raw);
  if (!raw.empty() && raw.front() == '"') {
    std::string out;
    size_t i = 1;
    for (; i < raw.size() && raw[i] != '"'; ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '"' || raw[i + 1] == '\\')) ++i;
      out += raw[i];
    }
    if (i >= raw.size()) throw ConfigError({where + ": unterminated quoted value"});
    std::string_view rest = trim(raw.substr(i + 1));
    if (!rest.empty() && rest.front() != ';' && rest.front() != '#') {
      throw ConfigError({where + ": unexpected text after the quoted value: '" +
                         std::string(rest.substr(0, 20)) + "'"});
    }
    return out;
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    if ((raw[i] == ';' || raw[i] == '#') && (i == 0 || raw[i - 1] == ' ' || raw[i - 1] == '\t')) {
      return std::string(trim(raw.substr(0, i)));
    }
  }
  return std::string(raw);
}

void flatten(const nlohmann::json &j, const std::string &prefix, ConfigFile &out,
             std::vector<std::string> &problems) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string &k = it.key();
    std::string key = prefix.empty() ? k : prefix + "." + k;
    if (!is_name(k)) {
      problems.push_back(out.path + ": '" + key +
                         "': a key is made of letters, digits, '_', '-' and '.'");
      continue;
    }
    const nlohmann::json &v = it.value();
    if (v.is_object()) {
      out.sections.emplace(key, 0);
      flatten(v, key, out, problems);
      continue;
    }
    std::string text;
    if (v.is_string()) {
      text = v.get<std::string>();
    } else if (v.is_boolean() || v.is_number()) {
      text = v.dump();
    } else if (v.is_null()) {
      text.clear();
    } else if (v.is_array()) {
      // Lists are comma-separated in INI; a JSON array of scalars means the same.
      bool ok = true;
      for (const auto &e : v) {
        if (!(e.is_string() || e.is_number() || e.is_boolean())) ok = false;
        if (!ok) break;
        if (!text.empty()) text += ',';
        text += e.is_string() ? e.get<std::string>() : e.dump();
      }
      if (!ok) {
        problems.push_back(out.path + ": " + key + ": a list may hold only strings and numbers");
        continue;
      }
    }
    out.values[key] = ConfigValue{std::move(text), 0};
  }
}

}  // namespace

static std::string join_lines(const std::vector<std::string> &problems) {
  std::string s;
  for (const auto &p : problems) s += (s.empty() ? "" : "\n") + p;
  return s;
}

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

std::string ConfigFile::where(const std::string &key) const {
  auto it = values.find(key);
  if (it != values.end() && it->second.line > 0) return at(path, it->second.line);
  return path;
}

ConfigFile parse_ini(std::string_view text, const std::string &path) {
  ConfigFile out;
  out.path = path;
  std::vector<std::string> problems;
  std::string section;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    line = trim(line);
    if (line.empty() || line.front() == ';' || line.front() == '#') continue;
    std::string where = at(path, line_no);
    try {
      if (line.front() == '[') {
        auto close = line.find(']');
        std::string_view rest = close == std::string_view::npos ? "" : trim(line.substr(close + 1));
        if (close == std::string_view::npos ||
            (!rest.empty() && rest.front() != ';' && rest.front() != '#')) {
          throw ConfigError({where + ": a section header is [name]"});
        }
        std::string_view name = trim(line.substr(1, close - 1));
        if (!is_name(name)) {
          throw ConfigError({where + ": '" + std::string(name) +
                             "' is not a section name (letters, digits, '_', '-', '.')"});
        }
        section = std::string(name);
        if (!out.sections.emplace(section, line_no).second) {
          throw ConfigError({where + ": section [" + section + "] appears twice (first on line " +
                             std::to_string(out.sections[section]) + ")"});
        }
        continue;
      }
      auto eq = line.find('=');
      if (eq == std::string_view::npos) {
        throw ConfigError({where + ": expected 'key = value', '[section]' or a comment"});
      }
      std::string_view key = trim(line.substr(0, eq));
      if (!is_name(key)) {
        throw ConfigError({where + ": '" + std::string(key) +
                           "' is not a key name (letters, digits, '_', '-', '.')"});
      }
      if (section.empty()) {
        throw ConfigError({where + ": key '" + std::string(key) + "' comes before any [section]"});
      }
      std::string full = section + "." + std::string(key);
      auto [it, inserted] = out.values.emplace(full, ConfigValue{"", line_no});
      if (!inserted) {
        throw ConfigError(
            {where + ": " + full + " is already set on line " + std::to_string(it->second.line)});
      }
      it->second.value = ini_value(line.substr(eq + 1), where + ": " + full);
    } catch (const ConfigError &e) {
      problems.insert(problems.end(), e.problems().begin(), e.problems().end());
    }
  }
  if (!problems.empty()) throw ConfigError(std::move(problems));
  return out;
}

ConfigFile parse_json(std::string_view text, const std::string &path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error &e) {
    // Turn the byte offset into line:column for the reader.
    size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    int line = 1, col = 1;
    for (size_t i = 0; i < byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    auto p = what.find("syntax error");
    throw ConfigError({path + ":" + std::to_string(line) + ":" + std::to_string(col) +
                       ": not valid JSON: " + (p == std::string::npos ? what : what.substr(p))});
  } catch (const nlohmann::json::exception &e) {
    // e.g. out_of_range for a number too large for a double.
    std::string what = e.what();
    auto p = what.find("] ");
    throw ConfigError(
        {path + ": not valid JSON: " + (p == std::string::npos ? what : what.substr(p + 2))});
  }
  if (!j.is_object()) throw ConfigError({path + ": the top level must be a JSON object"});
  ConfigFile out;
  out.path = path;
  std::vector<std::string> problems;
  flatten(j, "", out, problems);
  if (!problems.empty()) throw ConfigError(std::move(problems));
  return out;
}

ConfigFile load_config_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError({path + ": cannot open the config file (does it exist and is it readable?)"});
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto dot = path.find_last_of('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  if (ext == "json") return parse_json(text, path);
  if (ext == "ini" || ext == "conf" || ext == "cfg") return parse_ini(text, path);
  throw ConfigError({path + ": unknown config format: name the file *.ini or *.json"});
}

EnvLookup process_environment() {
  return [](const std::string &name) -> const char * { return std::getenv(name.c_str()); };
}

std::string expand_env(std::string_view value, const EnvLookup &env) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    if (value.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (value.compare(i, 2, "${") != 0) {
      out += value[i++];
      continue;
    }
    auto close = value.find('}', i + 2);
    if (close == std::string_view::npos) {
      throw std::invalid_argument("unterminated '${' (write $${ for a literal ${)");
    }
    std::string_view inner = value.substr(i + 2, close - i - 2);
    auto sep = inner.find(":-");
    std::string name(inner.substr(0, sep));
    bool valid = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
    for (char c : name) {
      valid = valid && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_');
    }
    if (!valid) {
      throw std::invalid_argument("'${" + std::string(inner.substr(0, 40)) +
                                  "}' is not a variable reference (write ${NAME} or "
                                  "${NAME:-default})");
    }
    const char *v = env(name);
    if (sep != std::string_view::npos) {
      out += (v != nullptr && *v != '\0') ? std::string_view(v) : inner.substr(sep + 2);
    } else if (v != nullptr) {
      out += v;
    } else {
      throw std::invalid_argument("environment variable " + name +
                                  " is not set (set it, or write ${" + name +
                                  ":-default} to give a default)");
    }
    i = close + 1;
  }
  return out;
}

}  // namespace pgmcp::config
