#include "sql/parse_tree.hpp"

#include <stdexcept>

namespace pgmcp::sql {

namespace {

constexpr size_t kMaxDepth = 4000;

void append_utf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint32_t hex4(std::string_view s, size_t at) {
  if (at + 4 > s.size()) throw std::invalid_argument("truncated \\u escape");
  uint32_t v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= static_cast<uint32_t>(c - 'A' + 10);
    else
      throw std::invalid_argument("bad \\u escape");
  }
  return v;
}

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= s.size()) throw std::invalid_argument("truncated escape");
    switch (s[i]) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        uint32_t cp = hex4(s, i + 1);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 2 < s.size() && s[i + 1] == '\\' &&
            s[i + 2] == 'u') {
          uint32_t lo = hex4(s, i + 3);
          if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        append_utf8(out, cp);
        break;
      }
      default:
        out += s[i];
        break;  // \" \\ \/
    }
  }
  return out;
}

}  // namespace

ParseTree::ParseTree(std::string_view json) : json_(json) {
  // libpg_query's compact JSON holds about one value or key per 6 bytes.
  nodes_.reserve(json.size() / 5 + 8);
  kids_.reserve(json.size() / 5 + 8);
  scratch_.reserve(256);
  parse_value(0);
  skip_blanks();
  if (pos_ != json_.size()) throw std::invalid_argument("trailing characters after the JSON value");
}

void ParseTree::skip_blanks() {
  while (pos_ < json_.size() &&
         (json_[pos_] == ' ' || json_[pos_] == '\n' || json_[pos_] == '\t' || json_[pos_] == '\r'))
    ++pos_;
}

std::string_view ParseTree::parse_string_body(bool &escaped) {
  // at the opening quote
  size_t start = ++pos_;
  escaped = false;
  while (pos_ < json_.size()) {
    char c = json_[pos_];
    if (c == '"') return json_.substr(start, pos_++ - start);
    if (c == '\\') {
      escaped = true;
      pos_ += 2;
      continue;
    }
    ++pos_;
  }
  throw std::invalid_argument("unterminated string");
}

uint32_t ParseTree::parse_value(size_t depth) {
  if (depth > kMaxDepth) throw std::invalid_argument("JSON nested too deeply");
  skip_blanks();
  if (pos_ >= json_.size()) throw std::invalid_argument("unexpected end of JSON");
  auto index = static_cast<uint32_t>(nodes_.size());
  char c = json_[pos_];
  if (c == '{' || c == '[') {
    bool object = c == '{';
    nodes_.push_back({object ? Value::Kind::object : Value::Kind::array, false, 0, 0, {}});
    ++pos_;
    size_t mark = scratch_.size();
    skip_blanks();
    char close = object ? '}' : ']';
    if (pos_ < json_.size() && json_[pos_] == close) {
      ++pos_;
    } else {
      for (;;) {
        if (object) {
          skip_blanks();
          if (pos_ >= json_.size() || json_[pos_] != '"')
            throw std::invalid_argument("expected a member name");
          bool escaped = false;
          auto key_index = static_cast<uint32_t>(nodes_.size());
          std::string_view key = parse_string_body(escaped);
          nodes_.push_back({Value::Kind::string, escaped, 0, 0, key});
          scratch_.push_back(key_index);
          skip_blanks();
          if (pos_ >= json_.size() || json_[pos_] != ':')
            throw std::invalid_argument("expected ':'");
          ++pos_;
        }
        scratch_.push_back(parse_value(depth + 1));
        skip_blanks();
        if (pos_ >= json_.size()) throw std::invalid_argument("unexpected end of JSON");
        if (json_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (json_[pos_] != close) throw std::invalid_argument("expected ',' or a closing bracket");
        ++pos_;
        break;
      }
    }
    size_t n = scratch_.size() - mark;
    nodes_[index].first = static_cast<uint32_t>(kids_.size());
    nodes_[index].count = static_cast<uint32_t>(object ? n / 2 : n);
    kids_.insert(kids_.end(), scratch_.begin() + static_cast<std::ptrdiff_t>(mark), scratch_.end());
    scratch_.resize(mark);
    return index;
  }
  if (c == '"') {
    bool escaped = false;
    std::string_view s = parse_string_body(escaped);
    nodes_.push_back({Value::Kind::string, escaped, 0, 0, s});
    return index;
  }
  size_t start = pos_;
  while (pos_ < json_.size() && json_[pos_] != ',' && json_[pos_] != '}' && json_[pos_] != ']' &&
         json_[pos_] != ' ' && json_[pos_] != '\n')
    ++pos_;
  std::string_view lit = json_.substr(start, pos_ - start);
  Value::Kind kind;
  if (lit == "null")
    kind = Value::Kind::null;
  else if (lit == "true" || lit == "false")
    kind = Value::Kind::boolean;
  else if (!lit.empty() && (lit[0] == '-' || (lit[0] >= '0' && lit[0] <= '9')))
    kind = Value::Kind::number;
  else
    throw std::invalid_argument("unexpected character in JSON");
  nodes_.push_back({kind, false, 0, 0, lit});
  return index;
}

Value::Kind Value::kind() const { return valid() ? tree_->nodes_[index_].kind : Kind::null; }

size_t Value::size() const {
  if (!valid()) return 0;
  const auto &n = tree_->nodes_[index_];
  return n.kind == Kind::array || n.kind == Kind::object ? n.count : 0;
}

Value Value::at(size_t i) const {
  if (!valid() || i >= size()) return {};
  const auto &n = tree_->nodes_[index_];
  if (n.kind == Kind::array) return {tree_, tree_->kids_[n.first + i]};
  if (n.kind == Kind::object) return {tree_, tree_->kids_[n.first + 2 * i + 1]};
  return {};
}

std::string_view Value::key(size_t i) const {
  if (!valid() || i >= size()) return {};
  const auto &n = tree_->nodes_[index_];
  if (n.kind != Kind::object) return {};
  return tree_->nodes_[tree_->kids_[n.first + 2 * i]].text;
}

Value Value::get(std::string_view name) const {
  if (!valid()) return {};
  const auto &n = tree_->nodes_[index_];
  if (n.kind != Kind::object) return {};
  for (uint32_t i = 0; i < n.count; ++i) {
    if (tree_->nodes_[tree_->kids_[n.first + 2 * i]].text == name)
      return {tree_, tree_->kids_[n.first + 2 * i + 1]};
  }
  return {};
}

std::string Value::str() const {
  if (!valid()) return {};
  const auto &n = tree_->nodes_[index_];
  return n.escaped ? unescape(n.text) : std::string(n.text);
}

bool Value::raw(std::string_view &out) const {
  if (!valid()) return false;
  const auto &n = tree_->nodes_[index_];
  if (n.escaped) return false;
  out = n.text;
  return true;
}

}  // namespace pgmcp::sql
