// A reader for PostgreSQL's node text: the form in which the server prints a
// parse, query or plan tree ({QUERY :commandType 1 :rtable (...) ...}), as
// debug_print_rewritten shows it. The SQL policy reads the server's own
// analysis of a statement this way. Iterative, so a deep tree cannot exhaust
// the stack; bounded in size.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pgmcp::sql {

class QueryTree {
 public:
  // An item: a node ({TYPE :field value ...}), a list ((...), with an
  // optional "b", "i", "o" or "x" marker as its first atom), an atom (a
  // number, a bare word, a string, a datum's bytes) or null (<>).
  struct Item {
    enum Kind : uint8_t { kNull, kAtom, kNode, kList } kind = kNull;
    std::string_view text;  // the atom, or the node's type
    uint32_t first = 0;     // children in kids(): a node's values, a list's elements
    uint32_t count = 0;
  };

  // Parses text, which must outlive the tree (items point into it); throws
  // std::invalid_argument on malformed input or when it holds more than
  // max_items items.
  explicit QueryTree(std::string_view text, size_t max_items = 4'000'000);

  const Item &root() const { return items_[root_]; }
  const Item &at(uint32_t i) const { return items_[i]; }
  uint32_t root_index() const { return root_; }
  // Children of a node or list, as item indexes.
  const uint32_t *kids(const Item &i) const { return kids_.data() + i.first; }
  // A node's field names, parallel to its kids.
  std::string_view field_name(const Item &node, uint32_t k) const { return names_[node.first + k]; }
  // The value of a node's field, or nullptr.
  const Item *field(const Item &node, std::string_view name) const;
  size_t size() const { return items_.size(); }

  // An atom as a whole number, if it is one.
  static std::optional<long long> number(const Item &i);

 private:
  std::string_view text_;
  std::vector<Item> items_;
  std::vector<uint32_t> kids_;
  std::vector<std::string_view> names_;  // for node kids: the field name; "" for list elements
  uint32_t root_ = 0;
};

}  // namespace pgmcp::sql
