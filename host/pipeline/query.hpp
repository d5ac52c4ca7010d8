// The query pipeline: a question in plain language becomes SQL written by an
// LLM, checked by the SQL policy, run read-only, repaired when PostgreSQL (or
// the policy, or a verification) rejects it, and returned with the SQL it
// ran. The `query` tool (tools/query.cpp) is its MCP face.
#pragma once

#include <memory>
#include <string>

#include <optional>
#include <vector>

#include "config/settings.hpp"
#include "core/context.hpp"
#include "db/schema.hpp"
#include "llm/client.hpp"
#include "observability/metrics.hpp"
#include "pipeline/databases.hpp"
#include "sql/policy.hpp"

namespace pgmcp::pipeline {

struct Question {
  std::string text;
  std::optional<std::string> database;  // else the only one, or the LLM chooses
  bool sql_only = false;                // check the SQL, do not run it
  std::optional<long long> max_rows;    // capped by the database's max_rows
};

// One SQL the model wrote, and what became of it.
struct Attempt {
  std::string sql;
  std::string outcome;  // ok, validated, no_sql, rejected, error, low_confidence
  std::string error;
  std::optional<int> confidence;
  json to_json() const;
};

struct Answer {
  bool ok = false;  // false: no working SQL; `error` says the last reason
  std::string database, sql, explanation, error;
  std::vector<Attempt> attempts;
  std::optional<int> confidence;
  std::optional<db::QueryResult> rows;  // when the SQL ran
};

// Answers a question. Throws core::CallerError for what the caller can fix
// (an empty question, an unknown database, an LLM that cannot be asked);
// metrics may be null.
Answer answer(const Question &question, const Databases &databases, llm::Client &llm,
              const config::QueryToolSettings &settings, core::RequestContext &ctx,
              observability::Metrics *metrics);

// The SQL in a model's answer: a JSON envelope {"sql": ...}, a fenced block,
// or the statement inside prose. Empty when there is none. explanation, when
// not null, receives the envelope's "explanation".
std::string extract_sql(const std::string &answer, std::string *explanation = nullptr);

// The schema the model sees: every relation when the catalog fits in
// budget_tokens, else the relations the question points at (names read as
// words, singular and plural alike, comments too), the relations that join
// them (declared foreign keys, and ..._id columns that name a relation), the
// rest of their schema, then whatever scores best; the names of what did not
// fit. Relations and columns the policy blocks are left out (policy may be
// null). `pinned` (sorted, lower case, schema.table or table: what the
// operator's vocabulary points at) comes before anything the words rank.
// In pipeline/schema_context.cpp.
std::string schema_context(const db::Catalog &catalog, const std::string &question,
                           int budget_tokens, const sql::SqlPolicy *policy = nullptr,
                           const std::vector<std::string> &pinned = {});

// The prompts, for docs/llm.md and tests.
extern const char *const kSqlSystemPrompt;
extern const char *const kVerifySystemPrompt;
extern const char *const kChooseSystemPrompt;

}  // namespace pgmcp::pipeline
