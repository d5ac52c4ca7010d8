#include "pipeline/vocabulary.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <set>

#include "pipeline/words.hpp"
#include "sql/gate.hpp"

namespace pgmcp::pipeline {

namespace {

// Every word of text, lower case, stemmed, stop words kept (a term may be
// "cost of goods sold").
std::vector<std::string> stems(const std::string &text) {
  std::vector<std::string> out;
  each_word(text, [&](const std::string &w) { out.push_back(stem(w)); });
  return out;
}

bool contains_phrase(const std::vector<std::string> &text, const std::vector<std::string> &phrase) {
  if (phrase.empty() || phrase.size() > text.size()) return false;
  return std::search(text.begin(), text.end(), phrase.begin(), phrase.end()) != text.end();
}

bool applies(const std::string &entry_db, const std::string &database) {
  return entry_db.empty() || entry_db == database;
}

// The names a SQL text mentions that could be relations: identifiers and
// dotted names, lower case ("shop.customers", "customers").
void sql_names(const std::string &sql, std::vector<std::string> &out) {
  std::string cur;
  auto flush = [&] {
    if (!cur.empty() && cur.front() != '.' && cur.back() != '.') {
      out.push_back(cur);
      auto dot = cur.rfind('.');
      if (dot != std::string::npos) out.push_back(cur.substr(dot + 1));
    }
    cur.clear();
  };
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'') {  // a string literal names nothing
      flush();
      for (++i; i < sql.size() && !(sql[i] == '\'' && (i + 1 >= sql.size() || sql[i + 1] != '\''));
           ++i)
        if (sql[i] == '\'') ++i;
      continue;
    }
    if (c == '"') continue;  // "Quoted" names: their text, lower case like the rest
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '$')
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else
      flush();
  }
  flush();
}

std::string table_of(const std::string &column) {
  auto dot = column.rfind('.');
  return dot == std::string::npos ? "" : lower(column.substr(0, dot));
}

}  // namespace

Guidance guidance(const config::Vocabulary *vocabulary, const std::string &database,
                  const std::string &question, std::size_t max_examples) {
  Guidance g;
  if (vocabulary == nullptr || vocabulary->empty()) return g;
  const std::vector<std::string> q = stems(question);
  std::string terms;
  for (const auto &t : vocabulary->terms) {
    if (!applies(t.database, database)) continue;
    bool used = contains_phrase(q, stems(t.term));
    for (const auto &a : t.also) used = used || contains_phrase(q, stems(a));
    if (!used) continue;
    terms += "- " + t.term;
    if (!t.also.empty()) {
      std::string also;
      for (const auto &a : t.also) also += (also.empty() ? "" : ", ") + a;
      terms += " (also: " + also + ")";
    }
    terms += ": " + t.means;
    std::string where;
    for (const auto &x : t.tables) where += (where.empty() ? "" : ", ") + x;
    for (const auto &x : t.columns) where += (where.empty() ? "" : ", ") + x;
    if (!where.empty()) terms += " [see " + where + "]";
    terms += "\n";
    g.linking_words += t.means + " ";
    for (const auto &x : t.tables) g.relations.push_back(lower(x));
    for (const auto &x : t.columns) g.relations.push_back(table_of(x));
  }
  // The closest examples: the most question words in common, shorter
  // questions first among equals.
  std::set<std::string> mine;
  for (const auto &w : question_words(question)) mine.insert(stem(w));
  std::vector<std::pair<double, const config::Example *>> ranked;
  for (const auto &e : vocabulary->examples) {
    if (!applies(e.database, database)) continue;
    std::set<std::string> theirs;
    for (const auto &w : question_words(e.question)) theirs.insert(stem(w));
    size_t shared = 0;
    for (const auto &w : theirs) shared += mine.count(w);
    if (shared == 0) continue;
    ranked.push_back({shared / std::sqrt(static_cast<double>(theirs.size())), &e});
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto &a, const auto &b) { return a.first > b.first; });
  if (ranked.size() > max_examples) ranked.resize(max_examples);
  std::string examples;
  for (const auto &[score, e] : ranked) {
    examples += "Question: " + e->question + "\nSQL: " + e->sql + "\n";
    sql_names(e->sql, g.relations);
  }
  if (!terms.empty()) g.prompt += "Terms (the operator's definitions):\n" + terms;
  if (!examples.empty())
    g.prompt +=
        "Examples of questions on this database and the SQL that answers them:\n" + examples;
  std::sort(g.relations.begin(), g.relations.end());
  g.relations.erase(std::unique(g.relations.begin(), g.relations.end()), g.relations.end());
  g.relations.erase(std::remove(g.relations.begin(), g.relations.end(), ""), g.relations.end());
  return g;
}

std::vector<std::string> check_examples(const config::Vocabulary &vocabulary,
                                        const Databases &databases) {
  std::vector<std::string> problems;
  std::vector<bool> up;  // whether each database answers now: then the server analyses too
  for (const auto &d : databases.entries) {
    bool any =
        std::any_of(vocabulary.examples.begin(), vocabulary.examples.end(),
                    [&](const config::Example &e) { return applies(e.database, d.db->name()); });
    up.push_back(any && !d.db->check(std::chrono::milliseconds(2000)).has_value());
  }
  for (size_t i = 0; i < vocabulary.examples.size(); ++i) {
    const auto &e = vocabulary.examples[i];
    for (size_t k = 0; k < databases.entries.size(); ++k) {
      const DatabaseEntry &d = databases.entries[k];
      if (!applies(e.database, d.db->name())) continue;
      std::string what = vocabulary.path + ": examples[" + std::to_string(i) + "] (\"" +
                         e.question.substr(0, 60) + (e.question.size() > 60 ? "..." : "") +
                         "\") on database '" + d.db->name() + "': ";
      sql::Verdict v = d.policy->check(e.sql);
      if (!v.allowed) {
        problems.push_back(what + "the policy refuses its SQL: " + v.message +
                           ". Fix the example or remove it.");
        continue;
      }
      if (v.writes) {
        problems.push_back(what + "its SQL writes; examples are read-only queries.");
        continue;
      }
      if (!up[k]) continue;  // the text stage only; the model's SQL is judged in full on use
      try {
        sql::Gate::run(e.sql, {}, {1, 1024}, *d.db, *d.schema, *d.policy, nullptr,
                       {true, true, nullptr});
      } catch (const sql::Rejected &r) {
        problems.push_back(what + "the policy refuses its SQL: " + r.verdict.message +
                           ". Fix the example or remove it.");
      } catch (const db::DbError &err) {
        if (err.status == PGMCP_ERR_REMOTE)
          problems.push_back(what + "PostgreSQL rejects its SQL: " + err.describe() +
                             ". Fix the example or remove it.");
      }
    }
  }
  return problems;
}

}  // namespace pgmcp::pipeline
