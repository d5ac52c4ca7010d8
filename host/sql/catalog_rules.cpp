#include "sql/catalog_rules.hpp"

#include <algorithm>

#include "sql/builtin_functions.hpp"

namespace pgmcp::sql {

namespace {

// The ancestors and descendants of a relation through inheritance and
// partitioning (not its siblings: they share no rows with it).
std::vector<uint32_t> relatives(const db::PolicyFacts &f, uint32_t start) {
  std::vector<uint32_t> out;
  std::unordered_set<uint32_t> seen{start};
  for (bool up : {true, false}) {
    std::vector<uint32_t> todo{start};
    while (!todo.empty()) {
      uint32_t oid = todo.back();
      todo.pop_back();
      auto it = f.relations.find(oid);
      if (it == f.relations.end()) continue;
      for (uint32_t r : up ? it->second.parents : it->second.children)
        if (seen.insert(r).second) {
          out.push_back(r);
          todo.push_back(r);
        }
    }
  }
  return out;
}

}  // namespace

const Refusal *SqlPolicy::Memo::refused_read(uint32_t oid, long long attnum) const {
  auto whole = relations.find(oid);
  if (whole != relations.end()) return &whole->second;
  auto view = tainted_views.find(oid);
  if (view != tainted_views.end()) return &view->second;
  auto cols = columns.find(oid);
  if (cols == columns.end()) return nullptr;
  auto c = attnum == 0 ? cols->second.begin() : cols->second.find(attnum);
  return c != cols->second.end() ? &c->second : nullptr;
}

std::shared_ptr<const SqlPolicy::Memo> SqlPolicy::memo(const db::Catalog &catalog) const {
  std::lock_guard lock(memo_mutex_);
  if (memo_ && memo_catalog_ == &catalog && memo_loaded_at_ == catalog.loaded_at) return memo_;
  auto m = std::make_shared<Memo>();
  const db::PolicyFacts &f = catalog.facts;

  // Blocked tables, and every inheritance relative and partition of them.
  for (const auto &entry : f.relations) {
    const auto &oid = entry.first;
    const auto &rel = entry.second;
    bool blocked = std::any_of(blocked_tables_.begin(), blocked_tables_.end(), [&](const Name &e) {
      return name_matches(e, rel.schema, rel.name);
    });
    if (!blocked) continue;
    std::string full = join_name(rel.schema, rel.name);
    m->relations[oid] = {"blocked_tables", full,
                         "blocked table " + full + " (rule blocked_tables)"};
    for (uint32_t r : relatives(f, oid)) {
      const auto &other = f.relations.at(r);
      std::string name = join_name(other.schema, other.name);
      m->relations.emplace(r, Refusal{"blocked_tables", name,
                                      name + " shares rows with blocked table " + full +
                                          " through inheritance or partitioning (rule "
                                          "blocked_tables)"});
    }
  }
  // Blocked columns by name, on the relation and its relatives (which share
  // column names, not positions).
  auto blocked_names = [&](const db::PolicyFacts::Rel &rel) {
    std::vector<std::string> out;
    for (const auto &e : blocked_columns_)
      if (e.table.empty() || name_matches({e.schema, e.table}, rel.schema, rel.name))
        out.push_back(e.column);
    return out;
  };
  for (const auto &entry : f.relations) {
    const auto &oid = entry.first;
    const auto &rel = entry.second;
    if (rel.columns.empty() || rel.builtin) continue;
    std::vector<std::string> names = blocked_names(rel);
    for (uint32_t r : relatives(f, oid))
      for (auto &n : blocked_names(f.relations.at(r))) names.push_back(std::move(n));
    if (names.empty()) continue;
    for (size_t i = 0; i < rel.columns.size(); ++i) {
      const std::string &col = rel.columns[i];
      if (col.empty() || std::find(names.begin(), names.end(), col) == names.end()) continue;
      std::string obj = rel.name + "." + col;
      m->columns[oid][static_cast<long long>(i + 1)] = {
          "blocked_columns", obj, "blocked column " + obj + " (rule blocked_columns)"};
    }
  }
  // Catalog relations and columns that hold other sessions' queries, sampled
  // values or secrets, unless lifted; trusted catalog views.
  for (const auto &entry : f.relations) {
    const auto &oid = entry.first;
    const auto &rel = entry.second;
    bool catalog_rel =
        rel.builtin || (!rel.extension.empty() && trusted_extension_view(rel.extension, rel.name));
    if (!catalog_rel) continue;
    if (rel.kind == 'v') m->trusted_views.insert(oid);
    bool lifted_whole =
        std::any_of(allowed_tables_.begin(), allowed_tables_.end(),
                    [&](const Name &e) { return name_matches(e, rel.schema, rel.name); });
    if (lifted_whole) continue;
    std::string full = join_name(rel.schema, rel.name);
    for (const auto &d : denied_catalog_columns()) {
      if (rel.name != d.relation) continue;
      if (d.column == nullptr) {
        m->relations[oid] = {"deny_list", full,
                             full + " " + d.why +
                                 " and is on the built-in deny list (rule "
                                 "deny_list); allowed_tables = " +
                                 rel.name + " would lift it"};
        continue;
      }
      bool lifted =
          std::any_of(allowed_columns_.begin(), allowed_columns_.end(), [&](const ColumnName &c) {
            return c.column == d.column && name_matches({c.schema, c.table}, rel.schema, rel.name);
          });
      if (lifted) continue;
      for (size_t i = 0; i < rel.columns.size(); ++i) {
        if (rel.columns[i] != d.column) continue;
        std::string obj = rel.name + "." + d.column;
        m->columns[oid][static_cast<long long>(i + 1)] = {
            "deny_list", obj,
            "column " + obj + " " + d.why +
                " and is on the built-in deny list (rule deny_list); allowed_columns = " + obj +
                " would lift it"};
      }
    }
  }
  // A materialized view stores what its query read: refused when that reaches
  // a refused relation or column, directly or through views.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto &entry : f.relations) {
      const auto &oid = entry.first;
      const auto &rel = entry.second;
      if (rel.reads.empty() || m->relations.count(oid) != 0 || m->tainted_views.count(oid) != 0)
        continue;
      for (auto [source, attnum] : rel.reads) {
        const Refusal *why = m->refused_read(source, attnum);
        if (why == nullptr) continue;
        Refusal r = *why;
        if (rel.kind == 'm') {
          r.message.insert(
              r.message.rfind(" (rule "),
              ", which materialized view " + join_name(rel.schema, rel.name) + " stores");
          m->relations[oid] = r;
        } else {
          m->tainted_views[oid] = r;  // read at query time through the view itself
        }
        changed = true;
        break;
      }
    }
  }
  // Functions: built-ins classified safe, plus what the operator allows.
  for (const auto &entry : f.functions) {
    const auto &oid = entry.first;
    const auto &fn = entry.second;
    std::string full = join_name(fn.schema, fn.name);
    auto matches = [&](const std::vector<Name> &list) {
      return std::any_of(list.begin(), list.end(),
                         [&](const Name &e) { return name_matches(e, fn.schema, fn.name); });
    };
    if (matches(blocked_functions_)) {
      m->functions[oid] = {"blocked_functions", full,
                           "blocked function " + full + " (rule blocked_functions)"};
      continue;
    }
    bool allowed = matches(allowed_functions_);
    if (fn.builtin && fn.schema == "pg_catalog" && fn.name == "current_setting")
      m->setting_readers.insert(oid);
    if (fn.builtin && (fn.schema == "pg_catalog" || fn.schema == "information_schema")) {
      // Where the database allows writes, defaults of serial columns advance
      // their sequences as a matter of course.
      bool sequence = fn.name == "nextval" || fn.name == "setval";
      if (const char *why = options_.allow_write && sequence ? nullptr : builtin_denied(fn.name)) {
        if (allowed)
          m->lifted.insert(oid);
        else
          m->functions[oid] = {"deny_list", full,
                               "function " + full + " " + why +
                                   " and is on the built-in deny list (rule deny_list); "
                                   "allowed_functions = " +
                                   fn.name + " would lift it"};
      } else if (!builtin_known(fn.name) && !allowed) {
        m->functions[oid] = {"functions", full,
                             "function " + full +
                                 " is a built-in pg-mcp has not classified (rule functions); "
                                 "allowed_functions = " +
                                 full + " would allow it"};
      }
      continue;
    }
    if (!allowed) {
      std::string what = fn.extension.empty()
                             ? "user-defined function "
                             : "function " + std::string("of extension ") + fn.extension + ", ";
      m->functions[oid] = {"functions", full,
                           what + full +
                               " is not on the allow-list (rule functions); allowed_functions "
                               "= " +
                               full + " (or " + fn.schema + ".*) would allow it"};
    }
  }
  memo_ = m;
  memo_catalog_ = &catalog;
  memo_loaded_at_ = catalog.loaded_at;
  return memo_;
}

std::vector<SqlPolicy::Readable> SqlPolicy::readable(const db::Catalog &catalog) const {
  auto memo_ptr = memo(catalog);
  const Memo &m = *memo_ptr;
  std::vector<Readable> out;
  for (const auto &entry : catalog.facts.relations) {
    const auto &oid = entry.first;
    const auto &rel = entry.second;
    if (rel.builtin || !rel.extension.empty() || rel.schema == "pg_toast") continue;
    if (rel.kind != 'r' && rel.kind != 'p' && rel.kind != 'v' && rel.kind != 'm' && rel.kind != 'f')
      continue;
    if (m.relations.count(oid) != 0 || m.tainted_views.count(oid) != 0) continue;
    if (rel.kind == 'f' &&
        !std::any_of(allowed_tables_.begin(), allowed_tables_.end(),
                     [&](const Name &e) { return name_matches(e, rel.schema, rel.name); }))
      continue;
    Readable r{oid, rel.schema, rel.name, rel.kind, true, {}};
    auto cols = m.columns.find(oid);
    if (cols != m.columns.end()) {
      r.all_columns = false;
      for (size_t i = 0; i < rel.columns.size(); ++i)
        if (!rel.columns[i].empty() && cols->second.count(static_cast<long long>(i + 1)) == 0)
          r.columns.push_back(rel.columns[i]);
    }
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const Readable &a, const Readable &b) {
    return std::tie(a.schema, a.name) < std::tie(b.schema, b.name);
  });
  return out;
}

std::vector<SqlPolicy::Refused> SqlPolicy::refused(const db::Catalog &catalog) const {
  auto memo_ptr = memo(catalog);
  std::vector<Refused> out;
  // The operator's own objects: catalog and extension relations are granted
  // to PUBLIC by PostgreSQL and judged by the policy alone.
  auto own = [](const db::PolicyFacts::Rel &rel) { return !rel.builtin && rel.extension.empty(); };
  for (const auto &entry : memo_ptr->relations) {
    const auto &oid = entry.first;
    const auto &rel = catalog.facts.relations.at(oid);
    if (own(rel)) out.push_back({oid, 0, join_name(rel.schema, rel.name)});
  }
  for (const auto &entry : memo_ptr->columns) {
    const auto &oid = entry.first;
    const auto &cols = entry.second;
    const auto &rel = catalog.facts.relations.at(oid);
    if (!own(rel)) continue;
    for (const auto &column : cols) {
      long long attnum = column.first;
      out.push_back(
          {oid, attnum,
           join_name(rel.schema, rel.name) + "." + rel.columns[static_cast<size_t>(attnum - 1)]});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Refused &a, const Refused &b) { return a.name < b.name; });
  return out;
}

}  // namespace pgmcp::sql
