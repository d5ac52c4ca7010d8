#include "pipeline/query.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "log/log.hpp"
#include "observability/metrics.hpp"
#include "pipeline/vocabulary.hpp"
#include "sql/gate.hpp"

namespace pgmcp::pipeline {

const char *const kSqlSystemPrompt =
    "You translate a question into one PostgreSQL 15 SQL query.\n"
    "Rules:\n"
    "- Write exactly one read-only statement: SELECT, WITH ... SELECT, VALUES or TABLE. Never "
    "change data, schema or settings.\n"
    "- Use only the tables and columns in the schema below; qualify tables with their schema.\n"
    "- Name the columns you need instead of *.\n"
    "- Unless the question asks for one aggregate row, add a LIMIT.\n"
    "Answer with a JSON object and nothing else: {\"sql\": \"<the query>\", \"explanation\": "
    "\"<one sentence on what it returns>\"}";

const char *const kVerifySystemPrompt =
    "You check whether the result of a SQL query answers a question. Answer with a JSON object "
    "and nothing else: {\"confidence\": <0 to 100>, \"explanation\": \"<one sentence; if the "
    "result does not answer the question, what the query should do instead>\"}";

const char *const kChooseSystemPrompt =
    "You choose the database that can answer a question. Answer with a JSON object and nothing "
    "else: {\"database\": \"<one of the names listed>\"}, or {\"database\": null, \"reason\": "
    "\"...\"} when the question does not make the choice clear.";

namespace {

// text ending in one full stop, whether or not it had one (PostgreSQL's
// hints and details are sentences already).
std::string sentence(std::string text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
  if (text.empty() || (text.back() != '.' && text.back() != '?' && text.back() != '!')) text += '.';
  return text;
}

std::string lower(std::string s) {
  for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

// A JSON object somewhere in text: the whole text, or from the first '{' to the last '}'.
json find_object(const std::string &text) {
  json j = json::parse(trim(text), nullptr, false);
  if (j.is_object()) return j;
  size_t a = text.find('{'), b = text.rfind('}');
  if (a != std::string::npos && b != std::string::npos && b > a) {
    j = json::parse(text.substr(a, b - a + 1), nullptr, false);
    if (j.is_object()) return j;
  }
  return json();
}

// Markdown escapes some models put into SQL (transactions\_1k, count(\*)):
// outside quotes a backslash is never SQL, so "\_" and "\*" are "_" and "*".
std::string unescape_markdown(const std::string &sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < sql.size() && (sql[i + 1] == '_' || sql[i + 1] == '*')) {
      continue;
    }
    out += c;
  }
  return out;
}

std::string strip_statement_end(std::string sql) {
  sql = trim(unescape_markdown(sql));
  while (!sql.empty() &&
         (sql.back() == ';' || std::isspace(static_cast<unsigned char>(sql.back()))))
    sql.pop_back();
  return sql;
}

bool word_at(const std::string &lowered, size_t at, const char *word) {
  size_t n = std::char_traits<char>::length(word);
  if (lowered.compare(at, n, word) != 0) return false;
  bool before = at == 0 || !(std::isalnum(static_cast<unsigned char>(lowered[at - 1])) ||
                             lowered[at - 1] == '_');
  bool after =
      at + n >= lowered.size() ||
      !(std::isalnum(static_cast<unsigned char>(lowered[at + n])) || lowered[at + n] == '_');
  return before && after;
}

// The end of the first statement (a ';' outside quotes), or npos.
size_t statement_end(const std::string &s, size_t from) {
  char quote = 0;
  for (size_t i = from; i < s.size(); ++i) {
    char c = s[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == ';') {
      return i;
    }
  }
  return std::string::npos;
}

}  // namespace

std::string extract_sql(const std::string &answer, std::string *explanation) {
  json j = find_object(answer);
  if (j.is_object()) {
    if (explanation != nullptr && j.contains("explanation") && j["explanation"].is_string())
      *explanation = j["explanation"].get<std::string>();
    for (const char *key : {"sql", "query", "SQL"}) {
      if (j.contains(key) && j[key].is_string())
        return strip_statement_end(j[key].get<std::string>());
    }
  }
  // ```sql ... ``` (or any fence)
  size_t fence = answer.find("```");
  if (fence != std::string::npos) {
    size_t body = answer.find('\n', fence);
    size_t close = body == std::string::npos ? std::string::npos : answer.find("```", body);
    if (close != std::string::npos) {
      std::string inner = trim(answer.substr(body + 1, close - body - 1));
      if (!inner.empty()) return strip_statement_end(inner);
    }
  }
  // a statement inside prose: from the first statement keyword to ';' or the end
  std::string low = lower(answer);
  static const char *const keywords[] = {
      "with",   "select", "values",   "table",   "insert", "update", "delete", "merge", "drop",
      "create", "alter",  "truncate", "explain", "copy",   "grant",  "call",   "do"};
  size_t best = std::string::npos;
  for (size_t i = 0; i < low.size() && best == std::string::npos; ++i) {
    for (const char *k : keywords) {
      if (word_at(low, i, k)) {
        // a keyword that starts a statement starts a line or follows ':' / '`'
        size_t p = i;
        while (p > 0 && (low[p - 1] == ' ' || low[p - 1] == '\t')) --p;
        if (p == 0 || low[p - 1] == '\n' || low[p - 1] == ':' || low[p - 1] == '`') {
          best = i;
          break;
        }
      }
    }
  }
  if (best == std::string::npos) return "";
  size_t end = statement_end(answer, best);
  std::string sql =
      answer.substr(best, end == std::string::npos ? std::string::npos : end - best + 1);
  // prose after a blank line is not part of the statement
  size_t blank = sql.find("\n\n");
  if (blank != std::string::npos) sql.resize(blank);
  return strip_statement_end(sql);
}

// ---------------------------------------------------------------------------
// The pipeline

json Attempt::to_json() const {
  json j = {{"sql", sql}, {"outcome", outcome}};
  if (!error.empty()) j["error"] = error;
  if (confidence) j["confidence"] = *confidence;
  return j;
}

namespace {

class Pipeline {
 public:
  Pipeline(const Databases &dbs, llm::Client &llm, const config::QueryToolSettings &s,
           core::RequestContext &ctx, observability::Metrics *metrics)
      : dbs_(dbs), llm_(llm), s_(s), ctx_(ctx), metrics_(metrics) {}

  Answer run(const Question &q) {
    std::string question = trim(q.text);
    if (question.empty())
      throw core::CallerError("the question is empty; ask something about the data");
    if (static_cast<int>(question.size()) > s_.max_question_chars)
      throw core::CallerError(
          "the question is " + std::to_string(question.size()) + " characters long; the limit is " +
          std::to_string(s_.max_question_chars) + " (max_question_chars): ask a shorter question");
    bool sql_only = q.sql_only;
    const DatabaseEntry &e = choose(q, question);
    long long max_rows = std::min<long long>(q.max_rows.value_or(e.db->options().max_rows),
                                             e.db->options().max_rows);
    stage("building the schema context");
    std::shared_ptr<const db::Catalog> catalog;
    try {
      catalog = e.schema->get();
    } catch (const db::DbError &err) {
      throw core::CallerError(err.describe());
    }
    Guidance guide = guidance(s_.vocabulary.get(), e.db->name(), question);
    std::string context = schema_context(*catalog, question + "\n" + guide.linking_words,
                                         s_.context_budget_tokens, e.policy.get(), guide.relations);
    std::string first =
        "Database: " + e.db->name() +
        (e.db->description().empty() ? "" : " (" + e.db->description() + ")") + "\nSchema:\n" +
        context + (guide.prompt.empty() ? "" : "\n" + guide.prompt) +
        "\nLIMIT for row results: " + std::to_string(max_rows) + "\n\nQuestion: " + question;
    llm::Request req;
    req.system = kSqlSystemPrompt;
    req.want_json = true;
    req.messages.push_back({false, first});
    std::vector<Attempt> attempts;
    std::string last_error;
    for (int n = 1; n <= s_.max_attempts; ++n) {
      stage("asking " + llm_.name() + " for SQL (attempt " + std::to_string(n) + " of " +
            std::to_string(s_.max_attempts) + ")");
      llm::Completion answer = ask(req);
      std::string explanation;
      std::string sql = extract_sql(answer.text, &explanation);
      req.messages.push_back({true, answer.text});
      auto feedback = [&](Attempt a, const std::string &tell) {
        log::info("pipeline", "query on '" + e.db->name() + "', attempt " + std::to_string(n) +
                                  ": " + a.outcome + (a.error.empty() ? "" : ": " + a.error));
        last_error = a.error;
        attempts.push_back(std::move(a));
        req.messages.push_back(
            {false, tell + "\nWrite a corrected query. Answer with the same JSON object."});
      };
      if (sql.empty()) {
        feedback({"", "no_sql", "the model's answer held no SQL statement"},
                 "Your answer held no SQL statement.");
        continue;
      }
      // A round of the 2026-07-28 flow runs the call again from the top: an
      // attempt an earlier round already ran and saw fail is not run again.
      const std::string note_key = "attempt" + std::to_string(n);
      if (auto done = ctx_.recall(note_key); done && done->value("sql", "") == sql) {
        feedback({sql, done->value("outcome", ""), done->value("error", "")},
                 done->value("tell", ""));
        continue;
      }
      auto failed = [&](Attempt a, const std::string &tell) {
        ctx_.note(note_key,
                  {{"sql", a.sql}, {"outcome", a.outcome}, {"error", a.error}, {"tell", tell}});
        feedback(std::move(a), tell);
      };
      stage("checking the SQL against the policy");
      db::QueryResult rows;
      try {
        sql::GateOptions gate{true, sql_only, [&] { stage("running the SQL"); }};
        // The answer carries the attempts and the SQL beside the rows (twice:
        // structured and in the text block): they come out of the budget.
        long long around = 2 * static_cast<long long>(sql.size());
        for (const auto &a : attempts)
          around += static_cast<long long>(a.sql.size() + a.error.size());
        long long budget = std::max(e.db->options().max_result_bytes - around, 1024LL);
        rows =
            sql::Gate::run(sql, {}, {max_rows, budget}, *e.db, *e.schema, *e.policy, &ctx_, gate);
      } catch (const sql::Rejected &r) {
        failed({sql, "rejected", r.verdict.message},
               sentence("pg-mcp refused that SQL: " + r.verdict.message));
        continue;
      } catch (const db::DbError &err) {
        bool models_fault = err.status == PGMCP_ERR_REMOTE;
        if (!models_fault) {
          attempts.push_back({sql, "error", err.describe()});
          return failure(e, std::move(attempts), err.describe());
        }
        failed({sql, "error", err.describe()},
               sentence("PostgreSQL rejected that SQL: " + err.describe()));
        continue;
      }
      if (sql_only) {
        attempts.push_back({sql, "validated", ""});
        return finish(e, sql, explanation, std::move(attempts), nullptr, std::nullopt);
      }
      std::optional<int> confidence;
      if (s_.verify) {
        stage("verifying the result");
        auto [c, why] = verify(question, sql, rows);
        confidence = c;
        if (!why.empty()) explanation = why;
        if (c < s_.min_confidence) {
          Attempt a{sql, "low_confidence",
                    "the model's confidence that the result answers the question is " +
                        std::to_string(c) + " (min_confidence " +
                        std::to_string(s_.min_confidence) + "): " + why};
          a.confidence = c;
          feedback(a, sentence("That query ran, but its result does not seem to answer the "
                               "question: " +
                               why));
          continue;
        }
      }
      attempts.push_back({sql, "ok", ""});
      if (confidence) attempts.back().confidence = confidence;
      return finish(e, sql, explanation, std::move(attempts), &rows, confidence);
    }
    return failure(e, std::move(attempts), last_error);
  }

 private:
  void stage(const std::string &what) {
    if (ctx_.cancelled()) throw core::CallerError("the request was cancelled before " + what);
    ctx_.progress(++step_, std::nullopt, what);
    log::debug("pipeline", what);
  }

  llm::Completion ask(const llm::Request &req) {
    try {
      return llm_.complete(req, &ctx_);
    } catch (const llm::LlmError &err) {
      throw core::CallerError(err.what());
    }
  }

  const DatabaseEntry &choose(const Question &q, const std::string &question) {
    if (q.database) return dbs_.resolve({{"database", *q.database}});
    if (dbs_.entries.size() <= 1) return dbs_.resolve(json::object());
    stage("choosing the database");
    std::string list;
    for (const auto &d : dbs_.entries)
      list += "- " + d.db->name() + ": " +
              (d.db->description().empty() ? "(no description)" : d.db->description()) + "\n";
    llm::Request req;
    req.system = kChooseSystemPrompt;
    req.want_json = true;
    req.messages.push_back({false, "Databases:\n" + list + "\nQuestion: " + question});
    llm::Completion answer = ask(req);
    json j = find_object(answer.text);
    std::string name = j.is_object() && j.contains("database") && j["database"].is_string()
                           ? j["database"].get<std::string>()
                           : "";
    if (const DatabaseEntry *found = dbs_.find(name)) return *found;
    std::string reason = j.is_object() && j.contains("reason") && j["reason"].is_string()
                             ? " (" + j["reason"].get<std::string>() + ")"
                             : "";
    std::string names;
    for (const auto &d : dbs_.entries)
      names += (names.empty() ? "" : ", ") + d.db->name() +
               (d.db->description().empty() ? "" : " (" + d.db->description() + ")");
    throw core::CallerError("the question does not make clear which database to use" + reason +
                            "; pass \"database\", one of: " + names);
  }

  std::pair<int, std::string> verify(const std::string &question, const std::string &sql,
                                     const db::QueryResult &rows) {
    json all = json::parse(rows.rows_json, nullptr, false);
    json first = json::array();
    if (all.is_array())
      for (size_t i = 0; i < all.size() && i < 10; ++i) first.push_back(all[i]);
    llm::Request req;
    req.system = kVerifySystemPrompt;
    req.want_json = true;
    req.messages.push_back({false, "Question: " + question + "\nSQL: " + sql + "\nColumns: " +
                                       rows.columns.dump() + "\nFirst rows: " + first.dump() +
                                       "\nRow count: " + std::to_string(rows.row_count)});
    llm::Completion answer = ask(req);
    json j = find_object(answer.text);
    int confidence = 0;
    std::string why;
    if (j.is_object() && j.contains("confidence") && j["confidence"].is_number())
      confidence =
          static_cast<int>(std::lround(std::clamp(j["confidence"].get<double>(), 0.0, 100.0)));
    if (j.is_object() && j.contains("explanation") && j["explanation"].is_string())
      why = j["explanation"].get<std::string>();
    if (!j.is_object()) why = "the verification answer was not JSON";
    return {confidence, why};
  }

  Answer finish(const DatabaseEntry &e, const std::string &sql, const std::string &explanation,
                std::vector<Attempt> attempts, db::QueryResult *rows,
                std::optional<int> confidence) {
    if (metrics_ != nullptr) metrics_->query_attempts(static_cast<int>(attempts.size()));
    Answer a;
    a.ok = true;
    a.database = e.db->name();
    a.sql = sql;
    a.explanation = explanation;
    a.attempts = std::move(attempts);
    a.confidence = confidence;
    if (rows != nullptr) a.rows = std::move(*rows);
    return a;
  }

  Answer failure(const DatabaseEntry &e, std::vector<Attempt> attempts,
                 const std::string &last_error) {
    if (metrics_ != nullptr) metrics_->query_attempts(static_cast<int>(attempts.size()));
    Answer a;
    a.database = e.db->name();
    a.error = last_error;
    a.attempts = std::move(attempts);
    return a;
  }

  const Databases &dbs_;
  llm::Client &llm_;
  const config::QueryToolSettings &s_;
  core::RequestContext &ctx_;
  observability::Metrics *metrics_;
  double step_ = 0;
};

}  // namespace

Answer answer(const Question &question, const Databases &databases, llm::Client &llm,
              const config::QueryToolSettings &settings, core::RequestContext &ctx,
              observability::Metrics *metrics) {
  return Pipeline(databases, llm, settings, ctx, metrics).run(question);
}

}  // namespace pgmcp::pipeline
