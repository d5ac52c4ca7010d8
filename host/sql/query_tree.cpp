#include "sql/query_tree.hpp"

#include <cctype>

namespace pgmcp::sql {

namespace {

// Character classes: 1 blank, 2 bracket; a token ends at either.
struct Classes {
  uint8_t of[256] = {};
  constexpr Classes() {
    for (char c : {' ', '\n', '\t', '\r'}) of[static_cast<uint8_t>(c)] = 1;
    for (char c : {'(', ')', '{', '}'}) of[static_cast<uint8_t>(c)] = 2;
  }
};
constexpr Classes kClasses;
bool blank(char c) { return kClasses.of[static_cast<uint8_t>(c)] == 1; }
bool delimiter(char c) { return kClasses.of[static_cast<uint8_t>(c)] != 0; }

}  // namespace

QueryTree::QueryTree(std::string_view text, size_t max_items) : text_(text) {
  // Open containers, each with where its kids start in the shared pending
  // lists; a closed container moves its kids to kids_ in one piece.
  struct Open {
    uint32_t item;
    size_t first_kid;
    std::string_view pending_name;  // a node's ":field" waiting for its value
    std::string_view last_name;     // a node's latest field, for values of several items
  };
  std::vector<Open> stack;
  std::vector<uint32_t> pending_kids, top;
  std::vector<std::string_view> pending_names;
  size_t guess = text.size() / 6;  // about one item per 6 bytes
  items_.reserve(guess + 16);
  kids_.reserve(guess + 16);
  names_.reserve(guess + 16);
  auto fail = [](const std::string &why) {
    throw std::invalid_argument("the server's query tree could not be read: " + why);
  };
  auto is_node = [&](const Open &o) { return items_[o.item].kind == Item::kNode; };
  auto add = [&](Item item) -> uint32_t {
    if (items_.size() >= max_items) fail("it is larger than allowed");
    items_.push_back(item);
    uint32_t index = static_cast<uint32_t>(items_.size() - 1);
    if (stack.empty()) {
      top.push_back(index);
      return index;
    }
    Open &o = stack.back();
    if (is_node(o)) {
      // ":constvalue 4 [ 1 0 0 0 ]": a field's value may take several items
      if (o.pending_name.empty() && o.last_name.empty()) fail("a node value has no field name");
      pending_names.push_back(o.pending_name.empty() ? o.last_name : o.pending_name);
      o.pending_name = {};
    } else {
      pending_names.push_back({});
    }
    pending_kids.push_back(index);
    return index;
  };
  auto close = [&](Item::Kind kind) {
    if (stack.empty() || items_[stack.back().item].kind != kind) fail("unbalanced brackets");
    Open o = stack.back();
    stack.pop_back();
    if (!o.pending_name.empty()) fail("a field has no value");
    Item &it = items_[o.item];
    it.first = static_cast<uint32_t>(kids_.size());
    it.count = static_cast<uint32_t>(pending_kids.size() - o.first_kid);
    kids_.insert(kids_.end(), pending_kids.begin() + static_cast<std::ptrdiff_t>(o.first_kid),
                 pending_kids.end());
    names_.insert(names_.end(), pending_names.begin() + static_cast<std::ptrdiff_t>(o.first_kid),
                  pending_names.end());
    pending_kids.resize(o.first_kid);
    pending_names.resize(o.first_kid);
  };

  const std::string_view s = text_;
  size_t i = 0, n = s.size();
  while (i < n) {
    char c = s[i];
    if (blank(c)) {
      ++i;
    } else if (c == '{') {
      size_t start = ++i;
      while (i < n && !delimiter(s[i])) ++i;
      if (i == start) fail("a node without a type");
      uint32_t index = add({Item::kNode, s.substr(start, i - start)});
      stack.push_back({index, pending_kids.size(), {}, {}});
    } else if (c == '}') {
      close(Item::kNode);
      ++i;
    } else if (c == '(') {
      uint32_t index = add({Item::kList});
      stack.push_back({index, pending_kids.size(), {}, {}});
      ++i;
    } else if (c == ')') {
      close(Item::kList);
      ++i;
    } else if (c == ':' && !stack.empty() && is_node(stack.back()) &&
               stack.back().pending_name.empty()) {
      size_t start = ++i;
      while (i < n && !delimiter(s[i])) ++i;
      Open &o = stack.back();
      o.pending_name = o.last_name = s.substr(start, i - start);
      if (o.pending_name.empty()) fail("an empty field name");
    } else if (c == '<' && i + 1 < n && s[i + 1] == '>') {
      add({Item::kNull});
      i += 2;
    } else if (c == '[') {
      size_t start = i;
      while (i < n && s[i] != ']') ++i;
      if (i == n) fail("an unterminated datum");
      ++i;
      add({Item::kAtom, s.substr(start, i - start)});
    } else if (c == '"') {
      size_t start = ++i;
      while (i < n && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
      if (i >= n) fail("an unterminated string");
      add({Item::kAtom, s.substr(start, i - start)});
      ++i;
    } else {
      size_t start = i;
      while (i < n && !delimiter(s[i])) i += s[i] == '\\' ? 2 : 1;
      if (i > n) i = n;
      add({Item::kAtom, s.substr(start, i - start)});
    }
  }
  if (!stack.empty()) fail("unbalanced brackets");
  if (top.size() != 1) fail("it holds " + std::to_string(top.size()) + " trees instead of one");
  root_ = top[0];
}

const QueryTree::Item *QueryTree::field(const Item &node, std::string_view name) const {
  if (node.kind != Item::kNode) return nullptr;
  for (uint32_t k = 0; k < node.count; ++k)
    if (names_[node.first + k] == name) return &items_[kids_[node.first + k]];
  return nullptr;
}

std::optional<long long> QueryTree::number(const Item &i) {
  if (i.kind != Item::kAtom || i.text.empty() || i.text.size() > 18) return std::nullopt;
  long long v = 0;
  size_t p = 0;
  bool negative = i.text[0] == '-';
  if (negative) p = 1;
  if (p == i.text.size()) return std::nullopt;
  for (; p < i.text.size(); ++p) {
    if (!std::isdigit(static_cast<unsigned char>(i.text[p]))) return std::nullopt;
    v = v * 10 + (i.text[p] - '0');
  }
  return negative ? -v : v;
}

}  // namespace pgmcp::sql
