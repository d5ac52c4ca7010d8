// The analysis stage of the SQL policy: judges the server's own parse
// analysis of a statement (its rewritten query tree), so that scopes, aliases,
// set operations, NATURAL and USING joins, CTE shadowing, views, implicit casts
// and operators are resolved exactly as PostgreSQL resolves them. What is read
// comes from each range-table entry's selectedCols (the columns PostgreSQL
// checks privileges for); what is called comes from every function, operator,
// aggregate and type OID in the tree.
#include <algorithm>
#include <cctype>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "sql/builtin_functions.hpp"
#include "sql/catalog_rules.hpp"
#include "sql/policy.hpp"
#include "sql/query_tree.hpp"

namespace pgmcp::sql {

namespace {

// PostgreSQL's FirstNormalObjectId: OIDs below it were shipped with it.
constexpr uint32_t kFirstNormalOid = 16384;

// PostgreSQL's FirstLowInvalidHeapAttributeNumber: selectedCols holds
// attnum - this, so system columns fit in the set.
constexpr long long kAttnumOffset = -7;

// Query.commandType
constexpr long long kCmdSelect = 1, kCmdUtility = 6;
// RangeTblEntry.rtekind
constexpr long long kRteRelation = 0, kRteSubquery = 1;

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// Fields that name a function, an operator or a type by OID, whatever node
// they sit in: funcid, opfuncid, aggfnoid, winfnoid, tsmhandler, the window's
// in-range functions; opno, eqop, sortop, opnos; consttype, resulttype,
// coltypes, ... Most fields end otherwise: the last letter decides at once.
enum class OidField { none, function, op, type };

OidField oid_field_kind(std::string_view name) {
  if (name.empty()) return OidField::none;
  switch (name.back()) {
    case 'd':
      if (ends_with(name, "funcid") || ends_with(name, "fnoid")) return OidField::function;
      return ends_with(name, "typeid") || ends_with(name, "typid") ? OidField::type
                                                                   : OidField::none;
    case 'r':
      return name == "tsmhandler" ? OidField::function : OidField::none;
    case 'c':
      return ends_with(name, "InRangeFunc") ? OidField::function : OidField::none;
    case 'o':
      return name == "opno" ? OidField::op : OidField::none;
    case 'p':
      return name == "eqop" || name == "sortop" ? OidField::op : OidField::none;
    case 's':
      if (name == "opnos") return OidField::op;
      return ends_with(name, "types") ? OidField::type : OidField::none;
    case 'e':
      return ends_with(name, "type") ? OidField::type : OidField::none;
    default:
      return OidField::none;
  }
}

}  // namespace

// One judgement: walks the tree without recursion.
class Judge {
 public:
  Judge(const SqlPolicy &p, const db::Catalog &c, const QueryTree &t, Verdict &v)
      : p_(p), f_(c.facts), memo_(p.memo(c)), m_(*memo_), t_(t), v_(v) {}

  std::optional<Refusal> run() {
    const QueryTree::Item &root = t_.root();
    if (root.kind != QueryTree::Item::kList || root.count != 1 ||
        t_.at(t_.kids(root)[0]).text != "QUERY")
      return Refusal{"analysis", "",
                     "the server turned the statement into " + std::to_string(root.count) +
                         " queries; send one plain statement (rule analysis)"};
    // Each item with the user view whose body it belongs to (0: none), so a
    // refusal can say which view led to it, and whether it is code kept in
    // the catalog (a view's body, a row security policy) rather than the
    // statement's own.
    struct Todo {
      uint32_t index, view;
      bool from_catalog;
    };
    std::vector<Todo> todo{{t_.kids(root)[0], 0, false}};
    while (!todo.empty()) {
      auto [index, view, from_catalog] = todo.back();
      todo.pop_back();
      const QueryTree::Item &item = t_.at(index);
      if (item.kind == QueryTree::Item::kList) {
        for (uint32_t k = 0; k < item.count; ++k)
          todo.push_back({t_.kids(item)[k], view, from_catalog});
        continue;
      }
      if (item.kind != QueryTree::Item::kNode) continue;
      auto bad = item.text == "QUERY" ? query(item) : std::nullopt;
      if (!bad && !from_catalog && item.text == "FUNCEXPR") bad = setting_read(item);
      bool skip_subquery = false;
      uint32_t body_of = 0;
      if (!bad && item.text == "RANGETBLENTRY") bad = range_entry(item, skip_subquery, body_of);
      for (uint32_t k = 0; k < item.count && !bad; ++k) {
        std::string_view name = t_.field_name(item, k);
        const QueryTree::Item &value = t_.at(t_.kids(item)[k]);
        if (skip_subquery && name == "subquery") continue;
        bad = oid_field(name, value);
        if (value.kind == QueryTree::Item::kNode || value.kind == QueryTree::Item::kList) {
          bool body = name == "subquery" && body_of != 0;
          todo.push_back({t_.kids(item)[k], body ? body_of : view,
                          from_catalog || body || name == "securityQuals"});
        }
      }
      if (bad) {
        auto rel = f_.relations.find(view);
        if (view != 0 && rel != f_.relations.end()) {
          std::string kind = rel->second.kind == 'm' ? " materialized view " : " view ";
          auto at = bad->message.rfind(" (rule ");
          if (at != std::string::npos)
            bad->message.insert(
                at, " read through" + kind + join_name(rel->second.schema, rel->second.name));
        }
        return bad;
      }
    }
    if (utility_) return ddl_names();
    return std::nullopt;
  }

 private:
  // DDL runs what it names (a column default, a CHECK, an index expression,
  // a USING clause) without the server showing an analysis first: each
  // function, operator and type it names is judged as every object of that
  // name (in that schema, when qualified) would be, and it may not touch a
  // relation the policy refuses in whole or in part (renaming it, or a
  // column, would change what the rules' names mean).
  std::optional<Refusal> ddl_names() {
    auto named = [](const Verdict::Named &n, const std::string &schema, const std::string &name) {
      return name == n.name && (n.schema.empty() || n.schema == schema);
    };
    auto in_ddl = [](Refusal r, const Verdict::Named &n) {
      r.message.insert(r.message.rfind(" (rule "),
                       " (named in DDL as " + join_name(n.schema, n.name) +
                           ", which the server resolves only while running it)");
      return r;
    };
    for (const auto &n : v_.ddl_relations)
      for (const auto &[oid, rel] : f_.relations) {
        if (!named(n, rel.schema, rel.name)) continue;
        const Refusal *why = m_.refused_read(oid, 0);
        if (why == nullptr) continue;
        std::string full = join_name(rel.schema, rel.name);
        Refusal r = *why;
        r.message = "DDL names " + full + ", which the policy refuses in whole or in part (" +
                    why->message.substr(0, why->message.rfind(" (rule ")) +
                    "), and could change "
                    "what the rules' names mean (rule " +
                    why->rule + ")";
        r.object = full;
        return r;
      }
    for (const auto &n : v_.ddl_functions)
      for (const auto &[oid, fn] : f_.functions)
        if (named(n, fn.schema, fn.name))
          if (auto r = function(oid, "")) return in_ddl(*r, n);
    // An operator of that name applies to the DDL's values when its operands
    // are built-in types, or types the DDL shows: those it names, and those
    // of the named relations' columns (a row type shares its relation's name).
    std::unordered_set<uint32_t> shown;
    std::vector<uint32_t> todo;
    for (const auto *names : {&v_.ddl_types, &v_.ddl_relations})
      for (const auto &n : *names)
        for (const auto &[oid, name] : f_.type_names)
          if (named(n, name.first, name.second)) todo.push_back(oid);
    while (!todo.empty()) {
      uint32_t t = todo.back();
      todo.pop_back();
      if (!shown.insert(t).second) continue;
      auto parts = f_.type_types.find(t);
      if (parts != f_.type_types.end())
        todo.insert(todo.end(), parts->second.begin(), parts->second.end());
    }
    auto applies = [&](uint32_t op) {
      auto operands = f_.operator_operands.find(op);
      if (operands == f_.operator_operands.end()) return true;
      bool builtin = true, seen = false;
      for (uint32_t t : operands->second) {
        builtin = builtin && t < kFirstNormalOid;
        seen = seen || shown.count(t) != 0;
      }
      return builtin || seen;
    };
    for (const auto &n : v_.ddl_operators)
      for (const auto &[oid, name] : f_.operator_names)
        if (named(n, name.first, name.second) && applies(oid))
          if (auto r = operator_(oid)) return in_ddl(*r, n);
    for (const auto &n : v_.ddl_types) {
      for (const auto &[oid, name] : f_.type_names)
        if (named(n, name.first, name.second))
          if (auto r = type(oid)) return in_ddl(*r, n);
      // a column changed to the type, or a default assigned to it, casts
      for (const auto &cast : f_.casts)
        if (named(n, cast.schema, cast.name))
          for (uint32_t fn : cast.functions)
            if (auto r = function(fn, "a cast to " + join_name(cast.schema, cast.name)))
              return in_ddl(*r, n);
    }
    for (const auto &n : v_.ddl_operator_classes)
      for (const auto &opclass : f_.operator_classes)
        if (named(n, opclass.schema, opclass.name))
          for (uint32_t fn : opclass.functions)
            if (auto r = function(fn, "operator class " + join_name(opclass.schema, opclass.name)))
              return in_ddl(*r, n);
    return std::nullopt;
  }

  // current_setting(name) in the statement itself: the name must be a
  // constant naming a setting that holds no secret. Custom settings are
  // where applications keep keys; a computed name could be any of them.
  std::optional<Refusal> setting_read(const QueryTree::Item &call) {
    const QueryTree::Item *id = t_.field(call, "funcid");
    auto oid = id != nullptr ? QueryTree::number(*id) : std::nullopt;
    if (!oid || m_.setting_readers.count(static_cast<uint32_t>(*oid)) == 0) return std::nullopt;
    const QueryTree::Item *args = t_.field(call, "args");
    std::optional<std::string> name;
    if (args != nullptr && args->kind == QueryTree::Item::kList && args->count > 0)
      name = text_constant(t_.at(t_.kids(*args)[0]));
    if (!name)
      return Refusal{"secret_settings", "current_setting",
                     "current_setting with a name computed while the statement runs: pg-mcp "
                     "cannot tell which setting it reads, and custom settings hold secrets "
                     "(rule secret_settings); write the setting's name as a constant"};
    if (auto why = p_.refuses_setting(*name)) return Refusal{"secret_settings", *name, *why};
    return std::nullopt;
  }

  // The value of a text constant (a CONST node of type text), from the bytes
  // the server prints: a varlena with a 4-byte or a 1-byte header.
  std::optional<std::string> text_constant(const QueryTree::Item &node) {
    constexpr long long kTextOid = 25;
    if (node.kind != QueryTree::Item::kNode || node.text != "CONST") return std::nullopt;
    const QueryTree::Item *type = t_.field(node, "consttype");
    const QueryTree::Item *null = t_.field(node, "constisnull");
    if (type == nullptr || QueryTree::number(*type) != kTextOid || null == nullptr ||
        null->text != "false")
      return std::nullopt;
    std::string_view datum;
    for (uint32_t k = 0; k < node.count; ++k) {
      const QueryTree::Item &v = t_.at(t_.kids(node)[k]);
      if (t_.field_name(node, k) == "constvalue" && v.kind == QueryTree::Item::kAtom &&
          !v.text.empty() && v.text.front() == '[')
        datum = v.text;
    }
    // "[ 48 0 0 0 84 105 ... ]", broken into lines like the rest of the tree
    auto gap = [](char c) { return c == ']' || std::isspace(static_cast<unsigned char>(c)) != 0; };
    std::string bytes;
    for (size_t i = 1; i < datum.size();) {
      while (i < datum.size() && gap(datum[i])) ++i;
      if (i >= datum.size()) break;
      size_t end = i;
      while (end < datum.size() && !gap(datum[end])) ++end;
      auto n = QueryTree::number({QueryTree::Item::kAtom, datum.substr(i, end - i)});
      if (!n || *n < -128 || *n > 255) return std::nullopt;
      bytes.push_back(static_cast<char>(*n));
      i = end;
    }
    if (bytes.empty()) return std::nullopt;
    // The header as a little-endian server writes it, else as a big-endian
    // one: whichever gives the length printed. Anything else (compressed,
    // stored elsewhere) is not read.
    auto byte = [&](size_t i) {
      return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i]));
    };
    const size_t size = bytes.size();
    uint32_t b0 = byte(0);
    if ((b0 & 0x01) != 0 && b0 != 0x01 && (b0 >> 1) == size) return bytes.substr(1);
    if (size >= 4 && (b0 & 0x03) == 0 &&
        ((b0 | byte(1) << 8 | byte(2) << 16 | byte(3) << 24) >> 2) == size)
      return bytes.substr(4);
    if ((b0 & 0x80) != 0 && b0 != 0x80 && (b0 & 0x7F) == size) return bytes.substr(1);
    if (size >= 4 && (b0 & 0xC0) == 0 &&
        ((b0 << 24 | byte(1) << 16 | byte(2) << 8 | byte(3)) & 0x3FFFFFFF) == size)
      return bytes.substr(4);
    return std::nullopt;
  }

  std::optional<Refusal> query(const QueryTree::Item &q) {
    auto number = [&](const char *field) -> long long {
      const QueryTree::Item *i = t_.field(q, field);
      return i != nullptr ? QueryTree::number(*i).value_or(-1) : -1;
    };
    long long command = number("commandType");
    const QueryTree::Item *utility = t_.field(q, "utilityStmt");
    const QueryTree::Item *modifying = t_.field(q, "hasModifyingCTE");
    const QueryTree::Item *marks = t_.field(q, "rowMarks");
    bool writes = command != kCmdSelect || (modifying != nullptr && modifying->text == "true");
    bool locks = marks != nullptr && marks->kind != QueryTree::Item::kNull;
    if (command == kCmdUtility || (utility != nullptr && utility->kind != QueryTree::Item::kNull)) {
      // The server prints a utility command as "?": the text stage decided
      // (SHOW, or DDL that runs no query where the database allows writes).
      if (v_.kind == "VariableShowStmt") return std::nullopt;
      if (!v_.writes)
        return Refusal{"read_only", "utility",
                       "the server reads the statement as a utility command, which is not "
                       "allowed here (rule read_only); send a SELECT"};
      utility_ = true;
      return std::nullopt;
    }
    if ((writes || locks) && !v_.writes)
      return Refusal{"read_only", writes ? "write" : "FOR UPDATE / FOR SHARE",
                     "the server reads the statement as one that writes or locks rows, which is "
                     "not allowed here (rule read_only); send a plain SELECT"};
    return std::nullopt;
  }

  // A relation the statement reads (or a view it expands), with the columns
  // PostgreSQL checks privileges for.
  std::optional<Refusal> range_entry(const QueryTree::Item &rte, bool &skip_subquery,
                                     uint32_t &body_of) {
    const QueryTree::Item *kind_item = t_.field(rte, "rtekind");
    long long kind = kind_item != nullptr ? QueryTree::number(*kind_item).value_or(-1) : -1;
    if (kind == kRteSubquery) {
      // A view expanded by the rewriter: its body's first entry is the view
      // itself ("old"). A catalog view is judged by the columns read from it.
      const QueryTree::Item *sub = t_.field(rte, "subquery");
      const QueryTree::Item *rtable = sub != nullptr ? t_.field(*sub, "rtable") : nullptr;
      if (rtable != nullptr && rtable->kind == QueryTree::Item::kList && rtable->count > 0) {
        const QueryTree::Item &first = t_.at(t_.kids(*rtable)[0]);
        const QueryTree::Item *relid = t_.field(first, "relid");
        const QueryTree::Item *relkind = t_.field(first, "relkind");
        if (relid != nullptr && relkind != nullptr && relkind->text == "v") {
          auto oid = QueryTree::number(*relid);
          if (oid && m_.trusted_views.count(static_cast<uint32_t>(*oid)) != 0) {
            skip_subquery = true;
            return relation(first);
          }
          if (oid) body_of = static_cast<uint32_t>(*oid);
        }
      }
      return std::nullopt;
    }
    if (kind != kRteRelation) return std::nullopt;
    return relation(rte);
  }

  std::optional<Refusal> relation(const QueryTree::Item &rte) {
    const QueryTree::Item *relid_item = t_.field(rte, "relid");
    auto relid = relid_item != nullptr ? QueryTree::number(*relid_item) : std::nullopt;
    if (!relid) return Refusal{"analysis", "", "a relation without an OID (rule analysis)"};
    uint32_t oid = static_cast<uint32_t>(*relid);
    auto it = f_.relations.find(oid);
    if (it == f_.relations.end())
      return Refusal{"relations", "OID " + std::to_string(oid),
                     "the statement reads a relation (OID " + std::to_string(oid) +
                         ") that is not in pg-mcp's catalog: a temporary table or one created "
                         "since the catalog was loaded (rule relations)",
                     true};
    const auto &rel = it->second;
    std::string full = join_name(rel.schema, rel.name);
    if (rel.kind == 't' || rel.schema == "pg_toast")
      return Refusal{"relations", full,
                     full +
                         " is a TOAST table, which holds other tables' values out of line "
                         "(rule relations)"};
    if (rel.kind == 'f' && !std::any_of(p_.allowed_tables_.begin(), p_.allowed_tables_.end(),
                                        [&](const SqlPolicy::Name &e) {
                                          return name_matches(e, rel.schema, rel.name);
                                        }))
      return Refusal{"foreign_tables", full,
                     "foreign table " + full +
                         " reads another server or file (rule foreign_tables); allowed_tables = " +
                         full + " would allow it"};
    auto whole = m_.relations.find(oid);
    if (whole != m_.relations.end()) return whole->second;
    const QueryTree::Item *relkind = t_.field(rte, "relkind");
    const QueryTree::Item *in_from = t_.field(rte, "inFromCl");
    if (utility_ && relkind != nullptr && relkind->text == "v" && !rel.builtin &&
        in_from != nullptr && in_from->text == "true")
      return Refusal{"views", full,
                     "view " + full +
                         " inside a utility command is not expanded by the server "
                         "and cannot be checked (rule views); name its tables"};
    auto cols = m_.columns.find(oid);
    if (cols == m_.columns.end()) return std::nullopt;
    // What the statement reads, and where writes are allowed, what it writes.
    for (const char *field : {"selectedCols", "insertedCols", "updatedCols"}) {
      const QueryTree::Item *set = t_.field(rte, field);
      if (set == nullptr || set->kind != QueryTree::Item::kList) {
        if (field[0] != 's') continue;
        return Refusal{"analysis", full,
                       "the columns read from " + full +
                           " are not in the server's analysis "
                           "(rule analysis)"};
      }
      for (uint32_t k = 0; k < set->count; ++k) {
        auto bit = QueryTree::number(t_.at(t_.kids(*set)[k]));
        if (!bit) continue;  // the "b" marker
        long long attnum = *bit + kAttnumOffset;
        if (attnum == 0) {  // the whole row: every column
          Refusal r = cols->second.begin()->second;
          r.message.insert(r.message.rfind(" (rule "), ", which a whole-row reference reads");
          return r;
        }
        auto c = cols->second.find(attnum);
        if (c != cols->second.end()) return c->second;
      }
    }
    return std::nullopt;
  }

  std::optional<Refusal> function(uint32_t oid, const std::string &via) {
    if (oid == 0) return std::nullopt;
    if (f_.functions.count(oid) == 0)
      return Refusal{"functions", "OID " + std::to_string(oid),
                     "the statement calls a function (OID " + std::to_string(oid) +
                         ") that is not in pg-mcp's catalog (rule functions)",
                     true};
    auto bad = m_.functions.find(oid);
    if (bad != m_.functions.end()) {
      Refusal r = bad->second;
      if (!via.empty()) r.message.insert(r.message.find(" (rule "), " (called by " + via + ")");
      return r;
    }
    if (m_.lifted.count(oid) != 0) v_.discard_connection = true;
    auto agg = f_.aggregate_functions.find(oid);
    if (agg != f_.aggregate_functions.end() && checked_aggregates_.insert(oid).second) {
      const auto &fn = f_.functions.at(oid);
      for (uint32_t support : agg->second)
        if (auto r = function(support, "aggregate " + join_name(fn.schema, fn.name))) return r;
    }
    return std::nullopt;
  }

  std::optional<Refusal> type(uint32_t oid) {
    if (f_.type_functions.count(oid) == 0) return std::nullopt;  // shipped with PostgreSQL
    std::vector<uint32_t> todo{oid};
    while (!todo.empty()) {
      uint32_t t = todo.back();
      todo.pop_back();
      if (!checked_types_.insert(t).second) continue;
      auto fns = f_.type_functions.find(t);
      if (fns == f_.type_functions.end()) continue;  // shipped with PostgreSQL
      for (uint32_t fn : fns->second)
        if (auto r = function(fn, "a value of type OID " + std::to_string(t))) return r;
      auto more = f_.type_types.find(t);
      if (more == f_.type_types.end()) continue;
      for (uint32_t part : more->second) {
        // what the array, range or row compares and hashes its parts with
        auto compare = f_.type_compare.find(part);
        if (compare != f_.type_compare.end())
          for (uint32_t fn : compare->second)
            if (auto r = function(fn, "comparing values of type OID " + std::to_string(part) +
                                          " inside type OID " + std::to_string(t)))
              return r;
        todo.push_back(part);
      }
    }
    return std::nullopt;
  }

  // An operator: its function, and what a sort or a hash through it calls.
  std::optional<Refusal> operator_(uint32_t oid) {
    auto code = f_.operator_function.find(oid);
    if (code == f_.operator_function.end())
      return Refusal{"functions", "operator OID " + std::to_string(oid),
                     "the statement uses an operator (OID " + std::to_string(oid) +
                         ") that is not in pg-mcp's catalog (rule functions)",
                     true};
    if (auto r = function(code->second, "an operator")) return r;
    auto support = f_.operator_support.find(oid);
    if (support != f_.operator_support.end())
      for (uint32_t proc : support->second)
        if (auto r = function(proc, "the sort or hash support of an operator")) return r;
    return std::nullopt;
  }

  // Any field that names a function, an operator or a type by OID, whatever
  // node it sits in: funcid, opfuncid, aggfnoid, winfnoid, tsmhandler, the
  // window's in-range functions; opno, eqop, sortop, opnos; consttype,
  // resulttype, coltypes, ...
  std::optional<Refusal> oid_field(std::string_view name, const QueryTree::Item &value) {
    if (value.kind == QueryTree::Item::kNull) return std::nullopt;
    OidField kind = oid_field_kind(name);
    if (kind == OidField::none) return std::nullopt;
    bool fn = kind == OidField::function, op = kind == OidField::op;
    auto each = [&](auto &&check) -> std::optional<Refusal> {
      if (value.kind == QueryTree::Item::kAtom) {
        if (auto n = QueryTree::number(value); n && *n > 0) return check(static_cast<uint32_t>(*n));
      } else if (value.kind == QueryTree::Item::kList) {
        for (uint32_t k = 0; k < value.count; ++k) {
          const auto &e = t_.at(t_.kids(value)[k]);
          if (auto n = QueryTree::number(e); n && *n > 0)
            if (auto r = check(static_cast<uint32_t>(*n))) return r;
        }
      }
      return std::nullopt;
    };
    if (fn) return each([&](uint32_t oid) { return function(oid, ""); });
    if (op) return each([&](uint32_t oid) { return operator_(oid); });
    return each([&](uint32_t oid) { return type(oid); });
  }

  const SqlPolicy &p_;
  const db::PolicyFacts &f_;
  std::shared_ptr<const SqlPolicy::Memo> memo_;
  const SqlPolicy::Memo &m_;
  const QueryTree &t_;
  Verdict &v_;
  bool utility_ = false;
  std::unordered_set<uint32_t> checked_types_, checked_aggregates_;
};

Verdict SqlPolicy::judge(std::string_view analysis, const Verdict &passed,
                         const db::Catalog &catalog) const {
  Verdict v = passed;
  std::optional<Refusal> bad;
  try {
    QueryTree tree(analysis);
    bad = Judge(*this, catalog, tree, v).run();
  } catch (const std::exception &e) {
    bad = Refusal{"analysis", "", std::string(e.what()) + " (rule analysis)"};
  }
  if (bad) {
    v.allowed = false;
    v.rule = bad->rule;
    v.object = bad->object;
    v.message = bad->message;
    v.unknown_object = bad->unknown;
  }
  return v;
}

}  // namespace pgmcp::sql
