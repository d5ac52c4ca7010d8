#include "config/vocabulary.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pgmcp::config {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxEntries = 10000;
constexpr std::size_t kMaxText = 20000;

[[noreturn]] void bad(const std::string &where, const std::string &why) {
  throw std::invalid_argument(where + ": " + why);
}

void only_keys(const json &o, const std::string &where, std::initializer_list<const char *> known) {
  for (const auto &[k, v] : o.items()) {
    bool ok = false;
    for (const char *n : known) ok = ok || k == n;
    if (ok) continue;
    std::string list;
    for (const char *n : known) list += (list.empty() ? "" : ", ") + std::string(n);
    bad(where + "." + k, "is not a known key (known: " + list + ")");
  }
}

std::string text(const json &o, const char *key, const std::string &where, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) bad(where + "." + key, "is required");
    return "";
  }
  if (!it->is_string()) bad(where + "." + key, "must be a string");
  std::string s = it->get<std::string>();
  if (required && s.find_first_not_of(" \t\r\n") == std::string::npos)
    bad(where + "." + key, "must not be empty");
  if (s.size() > kMaxText)
    bad(where + "." + key, "is longer than " + std::to_string(kMaxText) + " characters");
  return s;
}

std::vector<std::string> texts(const json &o, const char *key, const std::string &where) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return out;
  if (it->is_string()) return {it->get<std::string>()};
  if (!it->is_array()) bad(where + "." + key, "must be a string or an array of strings");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json &v = (*it)[i];
    std::string at = where + "." + key + "[" + std::to_string(i) + "]";
    if (!v.is_string() || v.get<std::string>().empty()) bad(at, "must be a non-empty string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

const json &entries(const json &root, const char *key) {
  static const json none = json::array();
  auto it = root.find(key);
  if (it == root.end()) return none;
  if (!it->is_array()) bad(key, "must be an array");
  if (it->size() > kMaxEntries)
    bad(key,
        "has " + std::to_string(it->size()) + " entries; at most " + std::to_string(kMaxEntries));
  return *it;
}

}  // namespace

Vocabulary parse_vocabulary(const std::string &text_in, const std::string &path) {
  Vocabulary v;
  v.path = path;
  json root = json::parse(text_in, nullptr, false);
  if (root.is_discarded())
    throw std::invalid_argument(
        "is not JSON (the vocabulary file is a JSON object with "
        "\"terms\" and \"examples\" arrays)");
  if (!root.is_object())
    throw std::invalid_argument("must be a JSON object with \"terms\" and \"examples\" arrays");
  for (const auto &[k, val] : root.items())
    if (k != "terms" && k != "examples") bad(k, "is not a known key (known: terms, examples)");
  const json &terms = entries(root, "terms");
  for (std::size_t i = 0; i < terms.size(); ++i) {
    std::string where = "terms[" + std::to_string(i) + "]";
    const json &o = terms[i];
    if (!o.is_object()) bad(where, "must be an object with \"term\" and \"means\"");
    only_keys(o, where, {"term", "also", "means", "database", "tables", "columns"});
    Term t;
    t.term = text(o, "term", where, true);
    t.also = texts(o, "also", where);
    t.means = text(o, "means", where, true);
    t.database = text(o, "database", where, false);
    t.tables = texts(o, "tables", where);
    t.columns = texts(o, "columns", where);
    for (std::size_t c = 0; c < t.columns.size(); ++c)
      if (t.columns[c].find('.') == std::string::npos)
        bad(where + ".columns[" + std::to_string(c) + "]",
            "'" + t.columns[c] + "' must name its table: table.column or schema.table.column");
    v.terms.push_back(std::move(t));
  }
  const json &examples = entries(root, "examples");
  for (std::size_t i = 0; i < examples.size(); ++i) {
    std::string where = "examples[" + std::to_string(i) + "]";
    const json &o = examples[i];
    if (!o.is_object()) bad(where, "must be an object with \"question\" and \"sql\"");
    only_keys(o, where, {"question", "sql", "database"});
    Example e;
    e.question = text(o, "question", where, true);
    e.sql = text(o, "sql", where, true);
    e.database = text(o, "database", where, false);
    v.examples.push_back(std::move(e));
  }
  return v;
}

Vocabulary load_vocabulary(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot be read (is the path right?)");
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.size() > kMaxBytes)
    throw std::invalid_argument("is larger than " + std::to_string(kMaxBytes) + " bytes");
  return parse_vocabulary(text, path);
}

}  // namespace pgmcp::config
