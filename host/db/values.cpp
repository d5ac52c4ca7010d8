#include "db/values.hpp"

#include "core/json_text.hpp"

#include <charconv>
#include <cstdlib>
#include <string>

namespace pgmcp::db {
namespace {

ValueKind scalar_kind(std::uint32_t oid) {
  switch (oid) {
    case 20:
    case 21:
    case 23:
    case 26:
    case 28:
      return ValueKind::integer;  // int8 int2 int4 oid xid
    case 700:
    case 701:
      return ValueKind::floating;
    case 16:
      return ValueKind::boolean;
    case 114:
    case 3802:
      return ValueKind::json;
    default:
      return ValueKind::text;
  }
}

// Element types of the common array types.
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

json scalar(std::string_view text, ValueKind kind) {
  switch (kind) {
    case ValueKind::integer: {
      long long v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && p == text.data() + text.size()) return v;
      unsigned long long u = 0;
      auto [p2, ec2] = std::from_chars(text.data(), text.data() + text.size(), u);
      if (ec2 == std::errc() && p2 == text.data() + text.size()) return u;
      return std::string(text);
    }
    case ValueKind::floating: {
      if (text == "NaN" || text == "Infinity" || text == "-Infinity") return std::string(text);
      std::string s(text);
      char *end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (end != s.c_str() && *end == '\0') return d;
      return s;
    }
    case ValueKind::boolean:
      return text == "t" || text == "true";
    case ValueKind::json: {
      json j = json::parse(text, nullptr, false);
      return j.is_discarded() ? json(std::string(text)) : j;
    }
    default:
      return std::string(text);
  }
}

// Parses PostgreSQL's array text form: {1,2,NULL}, {"a b","c\"d"}, {{1,2},{3,4}}.
struct ArrayParser {
  std::string_view s;
  size_t i = 0;
  ValueKind element;
  bool ok = true;

  json parse() {
    // Arrays with explicit bounds start with [1:2]={...}; skip the bounds.
    if (!s.empty() && s[0] == '[') {
      auto eq = s.find('=');
      if (eq == std::string_view::npos) return fail();
      i = eq + 1;
    }
    json out = level();
    return ok && i == s.size() ? out : fail();
  }

  json fail() {
    ok = false;
    return nullptr;
  }

  json level() {
    if (i >= s.size() || s[i] != '{') return fail();
    ++i;
    json arr = json::array();
    if (i < s.size() && s[i] == '}') {
      ++i;
      return arr;
    }
    while (ok && i < s.size()) {
      if (s[i] == '{') {
        arr.push_back(level());
      } else if (s[i] == '"') {
        ++i;
        std::string v;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size()) ++i;
          v += s[i++];
        }
        if (i >= s.size()) return fail();
        ++i;
        arr.push_back(scalar(v, element));
      } else {
        size_t start = i;
        while (i < s.size() && s[i] != ',' && s[i] != '}') ++i;
        std::string_view v = s.substr(start, i - start);
        arr.push_back(v == "NULL" ? json(nullptr) : scalar(v, element));
      }
      if (i >= s.size()) return fail();
      if (s[i] == ',') {
        ++i;
        continue;
      }
      if (s[i] == '}') {
        ++i;
        return arr;
      }
      return fail();
    }
    return fail();
  }
};

// By the type's name, for a driver that gives no OID (type_oid 0).
ValueKind scalar_kind(std::string_view name) {
  if (name == "int2" || name == "int4" || name == "int8" || name == "oid" || name == "xid")
    return ValueKind::integer;
  if (name == "float4" || name == "float8") return ValueKind::floating;
  if (name == "bool") return ValueKind::boolean;
  if (name == "json" || name == "jsonb") return ValueKind::json;
  return ValueKind::text;
}

}  // namespace

ColumnType classify_type(std::uint32_t oid, std::string_view name) {
  ColumnType t;
  if (oid == 0) {
    bool array = !name.empty() && name[0] == '_';
    t.kind = array ? ValueKind::array : scalar_kind(name);
    if (array) t.element = scalar_kind(name.substr(1));
    return t;
  }
  t.kind = scalar_kind(oid);
  if (std::uint32_t e = element_of(oid); e != 0) {
    t.kind = ValueKind::array;
    t.element = scalar_kind(e);
  } else if (t.kind == ValueKind::text && !name.empty() && name[0] == '_') {
    t.kind = ValueKind::array;  // other arrays: elements as text
  }
  return t;
}

json to_json(std::string_view text, const ColumnType &type) {
  if (type.kind != ValueKind::array) return scalar(text, type.kind);
  ArrayParser p{text, 0, type.element};
  json out = p.parse();
  return p.ok ? out : json(std::string(text));
}

namespace {
bool plain_number(std::string_view t) {
  // PostgreSQL's integer and float output is valid JSON except NaN/Infinity.
  if (t.empty()) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
      return false;
  return t.front() != '+' && t.front() != '.' &&
         !(t.size() > 1 && t[0] == '0' && t[1] >= '0' && t[1] <= '9');
}
}  // namespace

void append_json(std::string &out, std::string_view text, const ColumnType &type) {
  switch (type.kind) {
    case ValueKind::integer:
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
      // The server's json/jsonb output is JSON already; check rather than trust.
      // A json value keeps its source formatting: line breaks, which valid
      // JSON has only between tokens, become blanks so that the message stays
      // on one line (stdio frames messages by line).
      if (json::accept(text)) {
        size_t from = out.size();
        out.append(text);
        for (size_t i = from; i < out.size(); ++i)
          if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
      } else
        core::append_json_string(out, text);
      return;
    case ValueKind::array:
      out += to_json(text, type).dump(-1, ' ', false, json::error_handler_t::replace);
      return;
    case ValueKind::text:
      core::append_json_string(out, text);
      return;
  }
}

}  // namespace pgmcp::db
