// Schema recall of the query tool's context, without an LLM: for every
// question of a text-to-SQL benchmark in PostgreSQL form (BIRD mini-dev), is
// every table the gold SQL reads shown in the schema context with every
// column the gold SQL names? Measured on each database alone and on one
// catalog holding all of them as schemas, at a given token budget.
//   bench_schema_recall DATASET_DIR [BUDGET_TOKENS]  -> a table on stdout
// Then the SQL five real models wrote for the same questions
// (predictions/*.json) through the SQL extraction and the SQL policy's text
// stage with its defaults: what a real model's SQL is refused for.
// DATASET_DIR holds mini_dev_postgresql.json and schemas/<db_id>.sql: each
// table's comment line(s), then CREATE TABLE with one column per line, each
// after its comment lines. Unquoted names fold to lower case, as PostgreSQL
// folds them.
#include <pg_query.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "db/schema.hpp"
#include "pipeline/query.hpp"
#include "sql/policy.hpp"

namespace {

using nlohmann::json;

std::string fold(std::string name) {
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < name.size(); ++i) {
      out += name[i];
      if (name[i] == '"' && name[i + 1] == '"') ++i;
    }
    return out;
  }
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

// The first description line of a run of "-- " comment lines (not "Stats:"
// or "Foreign keys:" lines, which are the benchmark's annotations).
std::string description(const std::vector<std::string> &comments) {
  for (const auto &c : comments)
    if (c.rfind("Stats:", 0) != 0 && c.rfind("Foreign keys:", 0) != 0 &&
        c.find(" rows, ") == std::string::npos)
      return c;
  return "";
}

std::vector<pgmcp::db::Relation> read_schema(const std::string &path, const std::string &schema) {
  std::ifstream in(path);
  std::vector<pgmcp::db::Relation> out;
  std::vector<std::string> comments;
  pgmcp::db::Relation *table = nullptr;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.rfind("-- ", 0) == 0) {
      comments.push_back(line.substr(3));
      continue;
    }
    if (line.rfind("CREATE TABLE ", 0) == 0) {
      std::string name = line.substr(13);
      name = name.substr(0, name.rfind(" ("));
      out.emplace_back();
      table = &out.back();
      table->schema = schema;
      table->name = fold(name);
      table->kind = "table";
      table->comment = description(comments);
    } else if (line.rfind(");", 0) == 0) {
      table = nullptr;
    } else if (table != nullptr && !line.empty()) {
      if (line.back() == ',') line.pop_back();
      // name, then the type: the name is quoted or one word
      std::string name, type;
      if (line[0] == '"') {
        size_t end = 1;
        while (end < line.size() &&
               !(line[end] == '"' && (end + 1 >= line.size() || line[end + 1] != '"')))
          end += line[end] == '"' ? 2 : 1;
        name = line.substr(0, end + 1);
        type = end + 2 <= line.size() ? line.substr(end + 2) : "";
      } else {
        size_t sp = line.find(' ');
        name = line.substr(0, sp);
        type = sp == std::string::npos ? "" : line.substr(sp + 1);
      }
      pgmcp::db::ColumnInfo c;
      c.name = fold(name);
      c.type = type;
      c.comment = description(comments);
      c.position = static_cast<int>(table->columns.size()) + 1;
      table->columns.push_back(c);
    }
    comments.clear();
  }
  return out;
}

// The tables (by relname) and column names (the last field of each column
// reference) a statement uses, as the parser folds them.
void walk(const json &node, std::set<std::string> &tables, std::set<std::string> &columns,
          std::set<std::string> &ctes) {
  if (node.is_object()) {
    if (auto cte = node.find("CommonTableExpr"); cte != node.end() && cte->contains("ctename"))
      ctes.insert((*cte)["ctename"].get<std::string>());
    if (auto rv = node.find("RangeVar"); rv != node.end() && rv->contains("relname"))
      tables.insert((*rv)["relname"].get<std::string>());
    if (auto cr = node.find("ColumnRef"); cr != node.end() && cr->contains("fields")) {
      const json &last = (*cr)["fields"].back();
      if (last.contains("String")) columns.insert(last["String"].value("sval", ""));
    }
    for (const auto &[k, v] : node.items()) walk(v, tables, columns, ctes);
  } else if (node.is_array()) {
    for (const auto &v : node) walk(v, tables, columns, ctes);
  }
}

bool gold_parts(const std::string &sql, std::set<std::string> &tables,
                std::set<std::string> &columns) {
  PgQueryParseResult r = pg_query_parse(sql.c_str());
  bool ok = r.error == nullptr;
  std::set<std::string> ctes;  // WITH names are not tables
  if (ok) walk(json::parse(r.parse_tree), tables, columns, ctes);
  for (const auto &c : ctes) tables.erase(c);
  pg_query_free_parse_result(r);
  return ok;
}

// Which relations the context shows, and the column lines under each.
std::map<std::string, std::string> shown_blocks(const std::string &context) {
  std::map<std::string, std::string> blocks;
  std::istringstream in(context);
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind("  ", 0) == 0) {
      if (!current.empty()) blocks[current] += line + "\n";
      continue;
    }
    current.clear();
    if (line.rfind("Other relations", 0) == 0) continue;
    std::string head = line.substr(0, line.find(" -- "));
    head = head.substr(0, head.find(" ("));
    current = head;
    blocks[current];
  }
  return blocks;
}

struct Tally {
  int questions = 0, recalled = 0, unparsed = 0;
  double tokens = 0;
};

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_schema_recall DATASET_DIR [BUDGET_TOKENS]\n");
    return 2;
  }
  std::string dir = argv[1];
  int budget = argc > 2 ? std::atoi(argv[2]) : 6000;
  json questions = json::parse(std::ifstream(dir + "/mini_dev_postgresql.json"));
  std::map<std::string, pgmcp::db::Catalog> alone;
  pgmcp::db::Catalog combined;
  for (const auto &q : questions) {
    std::string db = q["db_id"];
    if (alone.count(db) != 0) continue;
    auto rels = read_schema(dir + "/schemas/" + db + ".sql", db);
    for (const auto &r : rels) {
      alone[db].add(r);
      combined.add(r);
    }
    alone[db].schemas.push_back({db, ""});
    combined.schemas.push_back({db, ""});
  }
  std::map<std::string, Tally> per_db, per_db_combined;
  for (const auto &q : questions) {
    std::string db = q["db_id"];
    std::set<std::string> tables, columns;
    for (auto *t : {&per_db[db], &per_db_combined[db]}) ++t->questions;
    if (!gold_parts(q["SQL"], tables, columns)) {
      ++per_db[db].unparsed;
      ++per_db_combined[db].unparsed;
      continue;
    }
    for (int c = 0; c < 2; ++c) {
      const pgmcp::db::Catalog &catalog = c == 0 ? alone[db] : combined;
      Tally &t = c == 0 ? per_db[db] : per_db_combined[db];
      std::string context = pgmcp::pipeline::schema_context(catalog, q["question"], budget);
      t.tokens += static_cast<double>(context.size()) / 4;
      auto blocks = shown_blocks(context);
      bool all = true;
      std::string all_columns;
      for (const auto &name : tables) {
        auto b = blocks.find(db + "." + name);
        if (b == blocks.end()) {
          all = false;
          break;
        }
        all_columns += b->second;
      }
      // every named column of the gold tables is among their shown lines
      for (const auto &col : columns) {
        bool belongs = false;
        for (const auto &name : tables)
          if (const auto *rel = catalog.find(db, name))
            for (const auto &ci : rel->columns) belongs = belongs || ci.name == col;
        if (all && belongs && all_columns.find("  " + col + " ") == std::string::npos) all = false;
      }
      if (all)
        ++t.recalled;
      else if (std::getenv("BENCH_VERBOSE") != nullptr)
        std::printf("miss (%s) %s: %s\n   gold: %s\n", c == 0 ? "alone" : "combined", db.c_str(),
                    q["question"].get<std::string>().c_str(), q["SQL"].get<std::string>().c_str());
    }
  }
  std::printf("Schema recall at %d tokens: questions whose gold tables and columns are all shown\n",
              budget);
  std::printf("%-26s %9s %14s %12s %14s %12s\n", "database", "questions", "alone", "tokens",
              "all 11 as one", "tokens");
  Tally sum_alone, sum_combined;
  for (const auto &[db, t] : per_db) {
    const Tally &c = per_db_combined[db];
    std::printf("%-26s %9d %13.1f%% %12.0f %13.1f%% %12.0f\n", db.c_str(), t.questions,
                100.0 * t.recalled / t.questions, t.tokens / t.questions,
                100.0 * c.recalled / c.questions, c.tokens / c.questions);
    sum_alone.questions += t.questions;
    sum_alone.recalled += t.recalled;
    sum_alone.tokens += t.tokens;
    sum_alone.unparsed += t.unparsed;
    sum_combined.recalled += c.recalled;
    sum_combined.tokens += c.tokens;
  }
  std::printf("%-26s %9d %13.1f%% %12.0f %13.1f%% %12.0f\n", "all", sum_alone.questions,
              100.0 * sum_alone.recalled / sum_alone.questions,
              sum_alone.tokens / sum_alone.questions,
              100.0 * sum_combined.recalled / sum_alone.questions,
              sum_combined.tokens / sum_alone.questions);
  if (sum_alone.unparsed > 0)
    std::printf("(%d gold statements the parser refused count as not recalled)\n",
                sum_alone.unparsed);

  // The time the context takes on a large catalog: 5,000 tables of 20
  // columns in 50 schemas, a question whose word every table name shares.
  pgmcp::db::Catalog large;
  for (int i = 0; i < 5000; ++i) {
    pgmcp::db::Relation r;
    r.schema = "s" + std::to_string(i % 50);
    r.name = "table_" + std::to_string(i);
    r.kind = "table";
    for (int j = 0; j < 20; ++j)
      r.columns.push_back(
          {"col_" + std::to_string(j) + (j == 0 ? "_id" : ""), "integer", "", "", j + 1, false});
    large.add(r);
  }
  auto t0 = std::chrono::steady_clock::now();
  pgmcp::pipeline::schema_context(large, "how many table_42 rows per col_3 in table_4711", budget);
  std::printf(
      "\ncontext for 5,000 tables x 20 columns: %.1f ms\n",
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());

  // Real models' SQL: extracted, then checked by the policy's text stage.
  pgmcp::sql::SqlPolicy policy(pgmcp::sql::PolicyOptions{}, "bird");
  std::printf("\nReal models' SQL through extraction and the SQL policy (text stage, defaults)\n");
  std::printf("%-40s %8s %10s %9s  %s\n", "model", "answers", "extracted", "refused", "rules");
  for (const auto &file : std::filesystem::directory_iterator(dir + "/predictions")) {
    json predictions = json::parse(std::ifstream(file.path()));
    int total = 0, extracted = 0, refused = 0;
    std::map<std::string, int> rules;
    for (const auto &[index, value] : predictions.items()) {
      std::string text = value.get<std::string>();
      text = text.substr(0, text.find("\t----- bird -----"));
      ++total;
      std::string sql = pgmcp::pipeline::extract_sql(text);
      if (sql.empty()) continue;
      ++extracted;
      pgmcp::sql::Verdict v = policy.check(sql);
      if (v.allowed) continue;
      ++refused;
      ++rules[v.rule];
      if (std::getenv("BENCH_VERBOSE") != nullptr)
        std::printf("refused (%s): %s\n   %s\n", v.rule.c_str(), sql.c_str(), v.message.c_str());
    }
    std::string why;
    for (const auto &[rule, n] : rules) why += rule + " " + std::to_string(n) + " ";
    std::printf("%-40s %8d %10d %9d  %s\n", file.path().stem().string().c_str(), total, extracted,
                refused, why.c_str());
  }
  return 0;
}
