// A read-only view of the parse tree libpg_query prints as JSON. The tree is
// parsed into one flat array of nodes whose strings point into the JSON text,
// so a 20-line query costs a few microseconds rather than a general-purpose
// JSON document with a map per node.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgmcp::sql {

class ParseTree;

// One JSON value in a ParseTree. Cheap to copy; valid while its tree lives.
// Every accessor is safe on an invalid Value (a missing member): it yields
// nothing, so lookups chain without checks.
class Value {
 public:
  enum class Kind : uint8_t { null, boolean, number, string, array, object };

  Value() = default;
  Kind kind() const;
  bool valid() const { return tree_ != nullptr; }
  bool is_object() const { return valid() && kind() == Kind::object; }
  bool is_array() const { return valid() && kind() == Kind::array; }
  bool is_string() const { return valid() && kind() == Kind::string; }

  // Arrays and objects: the number of elements or members.
  size_t size() const;
  // Arrays: element i. Objects: the value of member i.
  Value at(size_t i) const;
  // Objects: the name of member i (member names in this tree never need unescaping).
  std::string_view key(size_t i) const;
  // Objects: the member called name, or an invalid Value.
  Value get(std::string_view name) const;
  // Strings: the unescaped text. Numbers and booleans: their literal text.
  std::string str() const;
  // Strings without escapes, as a view; false when the string needs unescaping.
  bool raw(std::string_view &out) const;
  // Identifies this value within its tree.
  uint32_t id() const { return index_; }

 private:
  friend class ParseTree;
  Value(const ParseTree *tree, uint32_t index) : tree_(tree), index_(index) {}
  const ParseTree *tree_ = nullptr;
  uint32_t index_ = 0;
};

class ParseTree {
 public:
  // Parses JSON text, which must outlive the tree. Throws std::invalid_argument
  // on malformed input (libpg_query never prints any; the fuzzer checks this).
  explicit ParseTree(std::string_view json);
  Value root() const { return Value(this, 0); }

 private:
  friend class Value;
  struct Node {
    Value::Kind kind;
    bool escaped;           // strings: contains a backslash escape
    uint32_t first;         // arrays/objects: index into kids_
    uint32_t count;         // arrays/objects: elements or members
    std::string_view text;  // strings: between the quotes; scalars: the literal
  };
  uint32_t parse_value(size_t depth);
  void skip_blanks();
  std::string_view parse_string_body(bool &escaped);

  std::string_view json_;
  size_t pos_ = 0;
  std::vector<Node> nodes_;
  // For arrays: element node indices. For objects: key node, value node pairs.
  std::vector<uint32_t> kids_;
  std::vector<uint32_t> scratch_;
};

}  // namespace pgmcp::sql
