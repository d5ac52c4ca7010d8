#include "config/names.hpp"

#include <cctype>
#include <stdexcept>

namespace pgmcp::config {

std::vector<std::string> split_name(std::string_view text, size_t max_parts) {
  std::vector<std::string> parts(1);
  bool quoted = false, was_quoted = false;
  std::string blanks;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c != '"') {
        parts.back() += c;
      } else if (i + 1 < text.size() && text[i + 1] == '"') {
        parts.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = was_quoted = true;
    } else if (c == '.') {
      if (parts.back().empty() && !was_quoted) break;
      parts.emplace_back();
      blanks.clear();
      was_quoted = false;
    } else if (c == ' ' || c == '\t') {
      if (!parts.back().empty()) blanks += c;
    } else {
      parts.back() += blanks;
      blanks.clear();
      parts.back() += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (quoted) throw std::invalid_argument("unterminated quote in '" + std::string(text) + "'");
  for (const auto &p : parts)
    if (p.empty()) throw std::invalid_argument("'" + std::string(text) + "' has an empty part");
  if (parts.size() > max_parts)
    throw std::invalid_argument("'" + std::string(text) + "' has more than " +
                                std::to_string(max_parts) + " dotted parts");
  return parts;
}

std::pair<std::string, std::string> parse_qualified_name(std::string_view text) {
  std::vector<std::string> parts;
  try {
    parts = split_name(text, 2);
  } catch (const std::invalid_argument &e) {
    if (std::string_view(e.what()).rfind("unterminated quote", 0) == 0) throw;
    throw std::invalid_argument("'" + std::string(text) +
                                "' is not a table name (write name or schema.name)");
  }
  if (parts.size() == 1) return {"", parts[0]};
  return {parts[0], parts[1]};
}

std::vector<NamePattern> name_patterns(const std::vector<std::string> &entries, const char *key,
                                       bool wildcard) {
  std::vector<NamePattern> out;
  for (const auto &e : entries) {
    try {
      std::string text = e;
      bool star = false;
      if (wildcard && text.size() > 2 && text.compare(text.size() - 2, 2, ".*") == 0) {
        star = true;
        text.resize(text.size() - 2);
      }
      auto parts = split_name(text, star ? 1 : 2);
      if (star)
        out.push_back({parts[0], "*"});
      else
        out.push_back(parts.size() == 1 ? NamePattern{"", parts[0]}
                                        : NamePattern{parts[0], parts[1]});
    } catch (const std::invalid_argument &ex) {
      throw std::invalid_argument(std::string(key) + ": " + ex.what() + "; write name" +
                                  (wildcard ? ", schema.name or schema.*" : " or schema.name"));
    }
  }
  return out;
}

std::vector<ColumnPattern> column_patterns(const std::vector<std::string> &entries, const char *key,
                                           size_t min_parts) {
  std::vector<ColumnPattern> out;
  for (const auto &e : entries) {
    try {
      auto parts = split_name(e, 3);
      if (parts.size() < min_parts) throw std::invalid_argument("'" + e + "' names no table");
      ColumnPattern c;
      c.column = parts.back();
      if (parts.size() >= 2) c.table = parts[parts.size() - 2];
      if (parts.size() == 3) c.schema = parts[0];
      out.push_back(std::move(c));
    } catch (const std::invalid_argument &ex) {
      throw std::invalid_argument(std::string(key) + ": " + ex.what() +
                                  (min_parts > 1 ? "; write table.column or schema.table.column"
                                                 : "; write column, table.column or "
                                                   "schema.table.column"));
    }
  }
  return out;
}

}  // namespace pgmcp::config
