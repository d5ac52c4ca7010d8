// The schema context of the query tool: which relations the model sees when
// the catalog is larger than its token budget, and in what order.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "pipeline/query.hpp"
#include "pipeline/words.hpp"
#include "sql/policy.hpp"

namespace pgmcp::pipeline {

namespace {

// How well a question word names an identifier word: the same stem, or one
// inside the other (run-together names: "sbcustomer", "superpowers").
double match(const std::string &q, const std::string &q_stem, const std::string &p) {
  if (p.size() < 2) return 0;
  if (q == p || q_stem == stem(p)) return 1;
  if (p.size() >= 4 && q.find(p) != std::string::npos) return 0.6;
  if (q_stem.size() >= 4 && p.find(q_stem) != std::string::npos) return 0.6;
  return 0;
}

struct Word {
  std::string text, stem;
};

double best_match(const Word &q, const std::vector<std::string> &parts) {
  double best = 0;
  for (const auto &p : parts) best = std::max(best, match(q.text, q.stem, p));
  return best;
}

// A relation as the ranking reads it, its words computed once.
struct Candidate {
  const db::Relation *rel;
  std::vector<std::string> name;                  // words of its name, and the name run together
  std::vector<std::vector<std::string>> columns;  // words of each column's name
  std::vector<std::string> comments;              // words of its and its columns' comments
  std::string lname, lname_stem;                  // its name in lower case, and that stemmed
  std::vector<std::string> lcolumns;              // its columns' names in lower case
  std::vector<std::string> keys;                  // of those, the ones named like keys (...id)
  std::vector<std::string> values;  // stems of its enum labels and sampled common values
  double score = 0;
};

// An enum type's labels, by the names a column's type may give it.
using EnumLabels = std::map<std::string, const std::string *>;

// What the model may be shown: what the policy lets a statement read, with
// every rule applied (the relatives of a blocked table, views and
// materialized views over refused data, foreign tables not allowed), as
// SqlPolicy::readable computes it from the catalog's policy facts; by the
// rules' names alone while those facts are not loaded.
class Visible {
 public:
  Visible(const db::Catalog &c, const sql::SqlPolicy *p) : policy_(p) {
    if (p == nullptr || c.facts.relations.empty()) return;
    complete_ = true;
    for (auto &r : p->readable(c)) {
      auto key = std::make_pair(r.schema, r.name);
      readable_.emplace(std::move(key), std::move(r));
    }
  }
  bool relation(const db::Relation &r) const {
    if (policy_ == nullptr) return true;
    if (!complete_) return !policy_->blocks_table(r.schema, r.name);
    return readable_.count({r.schema, r.name}) != 0;
  }
  bool column(const db::Relation &r, const std::string &column) const {
    if (policy_ == nullptr) return true;
    if (!complete_) return !policy_->blocks_column(r.schema, r.name, column);
    auto it = readable_.find({r.schema, r.name});
    if (it == readable_.end()) return false;
    const auto &cols = it->second.columns;
    return it->second.all_columns || std::find(cols.begin(), cols.end(), column) != cols.end();
  }

 private:
  const sql::SqlPolicy *policy_;
  bool complete_ = false;
  std::map<std::pair<std::string, std::string>, sql::SqlPolicy::Readable> readable_;
};

Candidate read(const db::Relation &r, const EnumLabels &enums, const Visible &visible) {
  Candidate c{&r, name_words(r.name), {}, {}, lower(r.name), "", {}, {}, {}, 0};
  c.lname_stem = stem(c.lname);
  std::string joined;
  for (const auto &w : c.name) joined += w;
  if (c.name.size() > 1) c.name.push_back(joined);
  for (const auto &col : r.columns) {
    c.columns.push_back(name_words(col.name));
    c.lcolumns.push_back(lower(col.name));
    if (c.lcolumns.back().size() >= 3 && ends_with(c.lcolumns.back(), "id"))
      c.keys.push_back(c.lcolumns.back());
  }
  std::sort(c.keys.begin(), c.keys.end());
  auto comment_words = [&](const std::string &text) {
    for (const auto &w : question_words(text))
      if (w.size() >= 3) c.comments.push_back(stem(w));
  };
  comment_words(r.comment);
  for (const auto &col : r.columns) comment_words(col.comment);
  std::sort(c.comments.begin(), c.comments.end());
  c.comments.erase(std::unique(c.comments.begin(), c.comments.end()), c.comments.end());
  // What the data says: enum labels, and common values the operator lets us
  // sample (never a blocked column's).
  auto value_words = [&](const std::string &text) {
    for (const auto &w : question_words(text)) c.values.push_back(stem(w));
  };
  for (const auto &col : r.columns) {
    if (!visible.column(r, col.name)) continue;
    if (auto e = enums.find(col.type); e != enums.end()) value_words(*e->second);
    for (const auto &v : col.common_values) value_words(v);
  }
  std::sort(c.values.begin(), c.values.end());
  c.values.erase(std::unique(c.values.begin(), c.values.end()), c.values.end());
  return c;
}

// What the question's words say of a relation: its name counts most, then
// its best-matching column, then its comments (each word once).
double score(const Candidate &c, const std::vector<Word> &q) {
  double s = 0;
  for (const auto &w : q) {
    s += 3 * best_match(w, c.name);
    double col = 0;
    for (const auto &parts : c.columns) col = std::max(col, best_match(w, parts));
    s += col;
    if (std::binary_search(c.comments.begin(), c.comments.end(), w.stem)) s += 0.3;
    if (std::binary_search(c.values.begin(), c.values.end(), w.stem)) s += 0.5;
  }
  return s;
}

// Whether a column (its words, its lower-case name) names another relation
// of its schema, as columns that join do where no foreign key is declared:
// eye_colour_id names colour, hero_id superhero, team_api_id team,
// link_to_member member.
bool names_relation(const std::vector<std::string> &words, const std::string &column,
                    const Candidate &other) {
  if (words.size() < 2 && !(words.size() == 1 && ends_with(words[0], "id"))) return false;
  const std::string &o = other.lname;
  if (other.name.size() != 1)  // a relation of several words: the column spells it out
    return o.size() >= 4 && column.find(o) != std::string::npos && column != o;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string w = words[i];
    if (i + 1 == words.size() && ends_with(w, "id") && w.size() > 2) w.resize(w.size() - 2);
    if (w.size() < 2 || w == "id") continue;
    if (w == o || stem(w) == other.lname_stem || (w.size() >= 3 && ends_with(o, w))) return true;
  }
  return false;
}

// Whether `from` refers to `to`: a declared foreign key, or (in one schema)
// a column that names it, or a key column both have (customer_id,
// CustomerID, uuid), which they join on.
bool refers_to(const Candidate &from, const Candidate &to) {
  if (&from == &to) return false;
  const db::Relation &f = *from.rel, &t = *to.rel;
  for (const auto &k : f.constraints)
    if (k.type == "foreign_key" && k.ref_schema == t.schema && k.ref_table == t.name) return true;
  if (f.schema != t.schema) return false;
  for (size_t i = 0; i < from.columns.size(); ++i)
    if (names_relation(from.columns[i], from.lcolumns[i], to)) return true;
  for (const auto &k : from.keys)
    if (std::binary_search(to.keys.begin(), to.keys.end(), k)) return true;
  return false;
}

// A relation as the model sees it; with `only`, just those columns and a
// line saying how many more there are.
std::string render(const db::Relation &r, const db::Catalog &c, const Visible &visible,
                   const std::set<std::string> *only = nullptr) {
  std::string out = r.schema + "." + r.name;
  if (r.kind != "table") out += " (" + r.kind + ")";
  if (!r.comment.empty()) out += " -- " + r.comment;
  out += "\n";
  std::set<std::string> pk;
  for (const auto &k : r.constraints)
    if (k.type == "primary_key") pk.insert(k.columns.begin(), k.columns.end());
  size_t hidden = 0;
  for (const auto &col : r.columns) {
    if (!visible.column(r, col.name)) continue;
    if (only != nullptr && only->count(col.name) == 0) {
      ++hidden;
      continue;
    }
    out += "  " + col.name + " " + col.type;
    if (pk.count(col.name) != 0) out += " primary key";
    if (col.not_null && pk.count(col.name) == 0) out += " not null";
    for (const auto &e : c.enums) {
      if (col.type == e.name || col.type == e.schema + "." + e.name)
        out += " (one of: " + e.labels + ")";
    }
    if (!col.common_values.empty()) {
      out += " (common values:";
      for (size_t i = 0; i < col.common_values.size() && i < 10; ++i)
        out += (i == 0 ? " '" : ", '") + col.common_values[i] + "'";
      out += col.common_values.size() > 10 ? ", ...)" : ")";
    }
    if (!col.comment.empty()) out += " -- " + col.comment;
    out += "\n";
  }
  for (const auto &k : r.constraints) {
    if (k.type != "foreign_key") continue;
    std::string cols, refs;
    for (const auto &x : k.columns) cols += (cols.empty() ? "" : ", ") + x;
    for (const auto &x : k.ref_columns) refs += (refs.empty() ? "" : ", ") + x;
    out += "  foreign key (" + cols + ") references " + k.ref_schema + "." + k.ref_table + " (" +
           refs + ")\n";
  }
  if (hidden > 0)
    out += "  (" + std::to_string(hidden) + " more columns not shown: describe_table " + r.schema +
           "." + r.name + " lists them)\n";
  return out;
}

// The columns of a relation worth showing when it cannot be shown whole:
// those the question's words name, and its keys.
std::set<std::string> relevant_columns(const db::Relation &r, const std::vector<Word> &q) {
  std::set<std::string> out;
  for (const auto &k : r.constraints)
    if (k.type == "primary_key" || k.type == "foreign_key")
      out.insert(k.columns.begin(), k.columns.end());
  for (const auto &col : r.columns) {
    std::vector<std::string> parts = name_words(col.name);
    std::string n = lower(col.name);
    bool key = n == "id" || (n.size() >= 3 && ends_with(n, "id"));
    bool named = false;
    for (const auto &w : q) named = named || best_match(w, parts) > 0;
    if (!named && !col.comment.empty())
      for (const auto &cw : question_words(col.comment))
        for (const auto &w : q) named = named || (cw.size() >= 3 && stem(cw) == w.stem);
    if (key || named) out.insert(col.name);
  }
  return out;
}

size_t tokens(const std::string &s) { return s.size() / 4 + 1; }

}  // namespace

std::string schema_context(const db::Catalog &catalog, const std::string &question,
                           int budget_tokens, const sql::SqlPolicy *policy,
                           const std::vector<std::string> &pinned) {
  const Visible visible(catalog, policy);
  std::vector<const db::Relation *> rels;
  for (const auto &r : catalog.relations)
    if (r.kind != "sequence" && visible.relation(r)) rels.push_back(&r);
  std::string all;
  for (const auto *r : rels) all += render(*r, catalog, visible);
  if (tokens(all) <= static_cast<size_t>(budget_tokens)) return all;

  // Too large: rank by what the question says.
  std::vector<Word> q;
  for (const auto &w : question_words(question)) q.push_back({w, stem(w)});
  std::vector<Candidate> cands;
  cands.reserve(rels.size());
  EnumLabels enums;
  for (const auto &e : catalog.enums) {
    enums[e.name] = &e.labels;
    enums[e.schema + "." + e.name] = &e.labels;
  }
  double top = 0;
  for (const auto *r : rels) {
    cands.push_back(read(*r, enums, visible));
    cands.back().score = score(cands.back(), q);
    top = std::max(top, cands.back().score);
  }
  std::vector<size_t> ranked(cands.size());
  for (size_t i = 0; i < ranked.size(); ++i) ranked[i] = i;
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](size_t a, size_t b) { return cands[a].score > cands[b].score; });

  std::vector<const db::Relation *> order;
  std::set<const db::Relation *> seen;
  auto add = [&](const db::Relation *r) {
    if (r != nullptr && seen.insert(r).second) order.push_back(r);
  };
  // The relations the question points at: near the best score, and no more
  // than a context could show (a word every name shares must not make the
  // whole catalog "pointed at").
  constexpr size_t kMaxDirect = 24;
  const double threshold = std::max(1.0, top * 0.3);
  std::vector<size_t> direct;
  std::set<size_t> taken;
  // What the operator's vocabulary points at comes first, whatever the words say.
  if (!pinned.empty())
    for (size_t i = 0; i < cands.size(); ++i) {
      const std::string full = lower(cands[i].rel->schema) + "." + cands[i].lname;
      if (std::binary_search(pinned.begin(), pinned.end(), full) ||
          std::binary_search(pinned.begin(), pinned.end(), cands[i].lname))
        if (direct.size() < kMaxDirect && taken.insert(i).second) direct.push_back(i);
    }
  for (size_t i : ranked)
    if (cands[i].score >= threshold && direct.size() < kMaxDirect && taken.insert(i).second)
      direct.push_back(i);
  for (size_t i : direct) add(cands[i].rel);
  // What they refer to, and what joins two of them (link tables, declared or
  // named by their ..._id columns), or refers to one of them and is named.
  for (size_t i : direct)
    for (const auto &other : cands)
      if (refers_to(cands[i], other)) add(other.rel);
  for (const auto &c : cands) {
    int links = 0;
    for (size_t i : direct) links += refers_to(c, cands[i]) ? 1 : 0;
    if (links >= 2 || (links == 1 && c.score > 0)) add(c.rel);
  }
  const size_t core = order.size();  // what the question needs; partial blocks only for these
  // Then the rest of the schema the question is about, then everything else,
  // best score first: never catalog order.
  std::map<std::string, double> schema_weight;
  for (size_t i : direct) schema_weight[cands[i].rel->schema] += cands[i].score;
  std::string home;
  double heaviest = 0;
  for (const auto &[schema, w] : schema_weight)
    if (w > heaviest) heaviest = w, home = schema;
  for (size_t i : ranked)
    if (cands[i].rel->schema == home) add(cands[i].rel);
  for (size_t i : ranked) add(cands[i].rel);

  std::string out;
  size_t budget = static_cast<size_t>(budget_tokens);
  std::vector<std::string> left;
  for (size_t i = 0; i < order.size(); ++i) {
    const db::Relation *r = order[i];
    if (tokens(out) + 8 > budget * 9 / 10) {  // full: the rest are names
      left.push_back(r->schema + "." + r->name);
      continue;
    }
    std::string block = render(*r, catalog, visible);
    if (tokens(out) + tokens(block) <= budget * 9 / 10) {
      out += block;
      continue;
    }
    // Too large whole: its keys and the columns the question names, rather
    // than only its name.
    std::set<std::string> some = i < core ? relevant_columns(*r, q) : std::set<std::string>();
    if (!some.empty() && some.size() < r->columns.size()) {
      block = render(*r, catalog, visible, &some);
      if (tokens(out) + tokens(block) <= budget * 9 / 10) {
        out += block;
        continue;
      }
    }
    left.push_back(r->schema + "." + r->name);
  }
  if (!left.empty()) {
    std::string names = "Other relations (columns not shown): ";
    for (size_t i = 0; i < left.size(); ++i) {
      std::string item = (i == 0 ? "" : ", ") + left[i];
      if (tokens(out) + tokens(names) + tokens(item) > budget) {
        names += ", and " + std::to_string(left.size() - i) + " more";
        break;
      }
      names += item;
    }
    out += names + "\n";
  }
  return out;
}

}  // namespace pgmcp::pipeline
