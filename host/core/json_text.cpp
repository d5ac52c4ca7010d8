#include "core/json_text.hpp"

namespace pgmcp::core {

namespace {
std::string text_of(const json &v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}
}  // namespace

namespace {

// The length of the valid UTF-8 sequence at s[i] (a byte >= 0x80), 0 when
// it is not one: a stray continuation byte, a truncated or overlong sequence,
// a surrogate, or past U+10FFFF.
size_t utf8_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((at(i + k) & 0xC0) != 0x80) return 0;
  unsigned char c1 = at(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
      (c == 0xF4 && c1 > 0x8F))
    return 0;
  return n;
}

}  // namespace

void append_json_escaped(std::string &out, std::string_view s, bool copy_text) {
  static const char *hex = "0123456789abcdef";
  size_t run = 0;  // copy unescaped stretches whole
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Text that is not UTF-8 (a SQL_ASCII database sends bytes as stored)
      // becomes U+FFFD, so that the message stays valid JSON.
      size_t n = utf8_length(s, i);
      if (n > 0) {
        i += n - 1;
        continue;
      }
      out.append(s.data() + run, i - run);
      run = i + 1;
      out += "\\ufffd";
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    // A COPY text cell escapes \ and line breaks with a backslash first:
    // the JSON then carries that backslash escaped too.
    const char *backslash = copy_text ? "\\\\\\\\" : "\\\\";
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += backslash;
        break;
      case '\n':
        out += copy_text ? "\\\\n" : "\\n";
        break;
      case '\r':
        out += copy_text ? "\\\\r" : "\\r";
        break;
      case '\t':
        out += copy_text ? "\\\\t" : "\\t";
        break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
}

void append_json_string(std::string &out, std::string_view s) {
  out += '"';
  append_json_escaped(out, s);
  out += '"';
}

ObjectText::ObjectText(std::size_t reserve) {
  text_.reserve(kGap + reserve + 64);
  text_.assign(kGap, ' ');
  text_ += '{';
}

std::string &ObjectText::member(std::string_view name) {
  if (closed_) {
    text_.pop_back();  // reopen: drop the closing brace view() wrote
    closed_ = false;
  }
  if (text_.size() > start_ + 1) text_ += ',';
  append_json_string(text_, name);
  text_ += ':';
  return text_;
}

ObjectText &ObjectText::add(std::string_view name, const json &value) {
  member(name) += text_of(value);
  return *this;
}

ObjectText &ObjectText::add_json(std::string_view name, std::string_view json_text) {
  member(name).append(json_text);
  return *this;
}

ObjectText &ObjectText::add_string(std::string_view name, std::string_view s) {
  append_json_string(member(name), s);
  return *this;
}

std::string_view ObjectText::view() {
  if (!closed_) {
    text_ += '}';
    closed_ = true;
  }
  return std::string_view(text_).substr(start_);
}

ObjectText ObjectText::nest(ObjectText inner, std::string_view key) {
  inner.view();
  std::string head = "{";
  append_json_string(head, key);
  head += ':';
  ObjectText out;
  if (head.size() + 48 <= inner.start_) {  // and still room for an envelope in front
    out.text_ = std::move(inner.text_);
    out.start_ = inner.start_ - head.size();
    out.text_.replace(out.start_, head.size(), head);
  } else {
    out.text_ += head.substr(1);
    out.text_.append(inner.text_, inner.start_, std::string::npos);
  }
  return out;
}

std::string ObjectText::wrap(std::string_view head, std::string_view tail) && {
  view();
  std::string out = std::move(text_);
  if (head.size() <= start_) {
    // Blanks stay between head and object, as JSON allows: nothing moves.
    out.replace(0, head.size(), head);
    if (head.empty()) out.erase(0, start_);
  } else {
    out = std::string(head) + out.substr(start_);
  }
  out += tail;
  return out;
}

std::string Payload::wrap(std::string_view head, std::string_view tail) && {
  if (is_text()) return std::move(text()).wrap(head, tail);
  std::string out(head);
  out += text_of(value());
  out += tail;
  return out;
}

}  // namespace pgmcp::core
