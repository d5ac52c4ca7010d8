#include "db/values.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "core/json.hpp"
#include "core/json_text.hpp"

namespace pgmcp::db {
namespace {

ValueKind kind_by_name(std::string_view name) {
  for (std::string_view n : {"smallint", "integer", "bigint", "int2", "int4", "int8", "oid", "xid"})
    if (name == n) return ValueKind::integer;
  for (std::string_view n : {"real", "double precision", "float4", "float8"})
    if (name == n) return ValueKind::floating;
  if (name == "boolean" || name == "bool") return ValueKind::boolean;
  if (name == "json" || name == "jsonb") return ValueKind::json;
  return ValueKind::text;
}

// Built-in scalar types by OID, for a driver whose names say nothing.
bool kind_by_oid(std::uint32_t oid, ValueKind &kind) {
  switch (oid) {
    case 20:
    case 21:
    case 23:
    case 26:
    case 28:
      kind = ValueKind::integer;
      return true;
    case 700:
    case 701:
      kind = ValueKind::floating;
      return true;
    case 16:
      kind = ValueKind::boolean;
      return true;
    case 114:
    case 3802:
      kind = ValueKind::json;
      return true;
    default:
      return false;
  }
}

// Element types of the built-in array types whose elements are not text.
std::uint32_t element_of(std::uint32_t oid) {
  switch (oid) {
    case 1000:
      return 16;
    case 1005:
      return 21;
    case 1007:
      return 23;
    case 1016:
      return 20;
    case 1028:
      return 26;
    case 1021:
      return 700;
    case 1022:
      return 701;
    case 199:
      return 114;
    case 3807:
      return 3802;
    default:
      return 0;
  }
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// Whether t is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
// PostgreSQL's integer and float output is, except NaN and infinities.
bool plain_number(std::string_view t) {
  size_t i = 0, n = t.size();
  auto digits = [&] {
    size_t from = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
    return i > from;
  };
  if (i < n && t[i] == '-') ++i;
  if (i < n && t[i] == '0')
    ++i;
  else if (!digits())
    return false;
  if (i < n && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    size_t from = i;
    if (!digits() || i - from > 3) return false;  // no double has a longer exponent
    // near the ends of a double's range: only what a reader can hold
    if (i - from == 3 && t.substr(from, 3) > "300") {
      std::string copy(t);
      errno = 0;
      double d = std::strtod(copy.c_str(), nullptr);
      if (errno == ERANGE || !std::isfinite(d)) return false;
    }
  }
  return i == n;
}

bool plain_integer(std::string_view t) {
  return plain_number(t) && t.find_first_of(".eE") == std::string_view::npos;
}

// Whether a JavaScript client reads the integer exactly: |v| <= 2^53 - 1.
bool exact_in_javascript(std::string_view t) {
  std::string_view digits = !t.empty() && t.front() == '-' ? t.substr(1) : t;
  if (digits.size() < 16) return true;
  unsigned long long v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return ec == std::errc() && p == digits.data() + digits.size() && v <= 9007199254740991ULL;
}

// A json or jsonb value, embedded. Line breaks, which valid JSON has only
// between tokens, become blanks so that the message stays on one line
// (stdio frames messages by line).
void append_json_value(std::string &out, std::string_view text) {
  // (the JSON reader stops at a NUL byte, which PostgreSQL never sends, and
  // skips a byte order mark at the start, which is no JSON inside a message)
  if (text.find('\0') != std::string_view::npos || text.substr(0, 3) == "\xEF\xBB\xBF" ||
      !json::accept(text)) {
    core::append_json_string(out, text);
    return;
  }
  std::size_t first = text.find_first_not_of(" \t\r\n");
  std::size_t last = text.find_last_not_of(" \t\r\n");
  std::string_view bare = text.substr(first, last - first + 1);
  bool wrap = bare == "null";
  // An object whose one key is "$json" would read as a wrapped value: wrap it too.
  if (!wrap && bare.front() == '{' &&
      (bare.find("$json") != std::string_view::npos ||
       bare.find("\\u") != std::string_view::npos)) {
    json j = json::parse(bare, nullptr, false);
    wrap = j.is_object() && j.size() == 1 && j.contains("$json");
  }
  if (wrap) out += "{\"$json\":";
  std::size_t from = out.size();
  out.append(bare);
  for (std::size_t i = from; i < out.size(); ++i)
    if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
  if (wrap) out += '}';
}

void append_scalar(std::string &out, std::string_view text, ValueKind kind) {
  switch (kind) {
    case ValueKind::integer:
      if (plain_integer(text) && exact_in_javascript(text))
        out.append(text);
      else
        core::append_json_string(out, text);
      return;
    case ValueKind::floating:
      if (plain_number(text))
        out.append(text);
      else
        core::append_json_string(out, text);
      return;
    case ValueKind::boolean:
      out += (text == "t" || text == "true") ? "true" : "false";
      return;
    case ValueKind::json:
      append_json_value(out, text);
      return;
    case ValueKind::array:
    case ValueKind::text:
      core::append_json_string(out, text);
      return;
  }
}

// Writes PostgreSQL's array text form as JSON: {1,2,NULL}, {"a b","c\"d"},
// {{1,2},{3,4}}, and with bounds: [0:2]={1,2,3}.
class ArrayWriter {
 public:
  ArrayWriter(std::string &out, std::string_view s, const ColumnType &type)
      : out_(out), s_(s), type_(type) {}

  bool write() {
    std::string bounds;
    bool plain = true;
    if (!s_.empty() && s_[0] == '[') {
      // [l1:u1][l2:u2]=...: keep the lower bounds when one is not 1
      while (i_ < s_.size() && s_[i_] == '[') {
        std::size_t colon = s_.find(':', i_), close = s_.find(']', i_);
        if (colon == std::string_view::npos || close == std::string_view::npos || colon > close)
          return false;
        std::string_view lower = s_.substr(i_ + 1, colon - i_ - 1);
        long long v = 0;
        auto [p, ec] = std::from_chars(lower.data(), lower.data() + lower.size(), v);
        if (ec != std::errc() || p != lower.data() + lower.size()) return false;
        if (v != 1) plain = false;
        bounds += bounds.empty() ? "" : ",";
        bounds += std::to_string(v);
        i_ = close + 1;
      }
      if (i_ >= s_.size() || s_[i_] != '=') return false;
      ++i_;
    }
    if (!plain) out_ += "{\"lower_bounds\":[" + bounds + "],\"values\":";
    if (!level(0)) return false;
    if (!plain) out_ += '}';
    return i_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 6;  // PostgreSQL's MAXDIM

  bool level(int depth) {
    if (depth >= kMaxDepth || i_ >= s_.size() || s_[i_] != '{') return false;
    ++i_;
    out_ += '[';
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      out_ += ']';
      return true;
    }
    for (bool first = true;; first = false) {
      if (i_ >= s_.size()) return false;
      if (!first) out_ += ',';
      if (s_[i_] == '{') {
        if (!level(depth + 1)) return false;
      } else if (s_[i_] == '"') {
        ++i_;
        std::string v;
        while (i_ < s_.size() && s_[i_] != '"') {
          if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
          v += s_[i_++];
        }
        if (i_ >= s_.size()) return false;
        ++i_;
        append_scalar(out_, v, type_.element);
      } else {
        std::size_t start = i_;
        while (i_ < s_.size() && s_[i_] != type_.delimiter && s_[i_] != '}' && s_[i_] != '{' &&
               s_[i_] != '"')
          ++i_;
        std::string_view v = s_.substr(start, i_ - start);
        if (v.empty()) return false;
        if (v == "NULL")
          out_ += "null";
        else
          append_scalar(out_, v, type_.element);
      }
      if (i_ >= s_.size()) return false;
      if (s_[i_] == type_.delimiter) {
        ++i_;
        continue;
      }
      if (s_[i_] == '}') {
        ++i_;
        out_ += ']';
        return true;
      }
      return false;
    }
  }

  std::string &out_;
  std::string_view s_;
  const ColumnType &type_;
  std::size_t i_ = 0;
};

}  // namespace

ColumnType classify_type(std::uint32_t oid, std::string_view name) {
  ColumnType t;
  std::string_view element;
  if (ends_with(name, "[]")) {
    element = name.substr(0, name.size() - 2);
    while (ends_with(element, "[]")) element.remove_suffix(2);
  } else if (!name.empty() && name[0] == '_') {
    element = name.substr(1);
  } else if (std::uint32_t e = element_of(oid); e != 0) {
    t.kind = ValueKind::array;
    kind_by_oid(e, t.element);
    return t;
  } else {
    if (!kind_by_oid(oid, t.kind)) t.kind = kind_by_name(name);
    return t;
  }
  t.kind = ValueKind::array;
  t.element = kind_by_name(element);
  if (std::uint32_t e = element_of(oid); e != 0) kind_by_oid(e, t.element);
  if (element == "box") t.delimiter = ';';
  return t;
}

void append_json(std::string &out, std::string_view text, const ColumnType &type) {
  if (type.kind != ValueKind::array) {
    append_scalar(out, text, type.kind);
    return;
  }
  std::size_t mark = out.size();
  if (!ArrayWriter(out, text, type).write()) {
    out.resize(mark);  // an array the reader cannot follow stays PostgreSQL's text
    core::append_json_string(out, text);
  }
}

void append_cell_text(std::string &out, std::string_view s) {
  core::append_json_escaped(out, s, true);
}

void append_cell(std::string &out, std::string_view text, const ColumnType &type) {
  switch (type.kind) {
    case ValueKind::boolean:
      out += (text == "t" || text == "true") ? "true" : "false";
      return;
    case ValueKind::json:
    case ValueKind::array: {
      std::string value;
      append_json(value, text, type);
      append_cell_text(out, value);
      return;
    }
    case ValueKind::integer:
    case ValueKind::floating:
    case ValueKind::text:
      append_cell_text(out, text);
      return;
  }
}

}  // namespace pgmcp::db
