// JSON as text, for the paths that must not build JSON values: rows arrive
// from the database already serialised, and a large result is spliced into
// its response rather than parsed and written again. Every such splice goes
// through ObjectText; a result is a Payload, a value or text alike.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "core/json.hpp"

namespace pgmcp::core {

// Appends s as a JSON string literal (quotes, escapes, control characters).
void append_json_string(std::string &out, std::string_view s);
// Appends s escaped as the inside of a JSON string (no quotes). With
// copy_text, s is first escaped as a cell of PostgreSQL's COPY text format
// (\\, \n, \r and \t with a backslash), then as JSON.
void append_json_escaped(std::string &out, std::string_view s, bool copy_text = false);

// One JSON object, written member by member. Blanks are left in front of it
// so that an envelope ({"jsonrpc":"2.0","id":1,"result": ...}) can later be
// written there without copying the object.
class ObjectText {
 public:
  static constexpr std::size_t kGap = 128;

  explicit ObjectText(std::size_t reserve = 0);

  // A new object whose first member is `key`: inner, closed. The new
  // object's head is written into inner's blanks, so nothing is copied (when
  // the key is short); the object stays open for more members.
  static ObjectText nest(ObjectText inner, std::string_view key);

  ObjectText &add(std::string_view key, const json &value);
  // A member whose value is JSON text already (not checked: it must be one
  // JSON value).
  ObjectText &add_json(std::string_view key, std::string_view json_text);
  // A member whose value is s as a JSON string.
  ObjectText &add_string(std::string_view key, std::string_view s);
  // Writes a member's key and returns the text to append its value to, for
  // a value written piece by piece; exactly one JSON value must follow.
  std::string &member(std::string_view key);

  // The object so far, closed ("{...}").
  std::string_view view();
  // head, the object, tail: written in place when head fits the gap.
  std::string wrap(std::string_view head, std::string_view tail) &&;

 private:
  std::string text_;
  std::size_t start_ = kGap;  // where the object begins; blanks before it
  bool closed_ = false;
};

// A result: a JSON value, or a JSON object already written as text.
class Payload {
 public:
  Payload(json value = json::object()) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Payload(ObjectText text) : v_(std::move(text)) {}               // NOLINT

  bool is_text() const { return std::holds_alternative<ObjectText>(v_); }
  // The value; only when !is_text().
  json &value() { return std::get<json>(v_); }
  const json &value() const { return std::get<json>(v_); }
  ObjectText &text() { return std::get<ObjectText>(v_); }

  // head, the payload, tail, as text (invalid UTF-8 in values is replaced).
  std::string wrap(std::string_view head, std::string_view tail) &&;
  std::string dump() && { return std::move(*this).wrap({}, {}); }

 private:
  std::variant<json, ObjectText> v_;
};

}  // namespace pgmcp::core
