// The query tool: a question in plain language becomes SQL written by an LLM,
// checked by the SQL policy, run read-only, repaired when PostgreSQL (or the
// policy, or a verification) rejects it, and returned with the SQL it ran.
#pragma once

#include <memory>
#include <string>

#include "config/settings.hpp"
#include "db/schema.hpp"
#include "llm/client.hpp"
#include "mcp/registry.hpp"
#include "sql/policy.hpp"
#include "tools/database_tools.hpp"

namespace pgmcp::pipeline {

// Adds the `query` tool, asking `llm`.
void add_query_tool(mcp::Registry &registry, std::shared_ptr<tools::Databases> databases,
                    std::shared_ptr<llm::Client> llm, config::QueryToolSettings settings);

// The SQL in a model's answer: a JSON envelope {"sql": ...}, a fenced block,
// or the statement inside prose. Empty when there is none. explanation, when
// not null, receives the envelope's "explanation".
std::string extract_sql(const std::string &answer, std::string *explanation = nullptr);

// The schema the model sees: every relation when the catalog fits in
// budget_tokens, else the relations the question points at and their
// foreign-key neighbours, then the names of the rest.
// Relations and columns the policy blocks are left out (policy may be null).
std::string schema_context(const db::Catalog &catalog, const std::string &question,
                           int budget_tokens, const sql::SqlPolicy *policy = nullptr);

// The prompts, for docs/llm.md and tests.
extern const char *const kSqlSystemPrompt;
extern const char *const kVerifySystemPrompt;
extern const char *const kChooseSystemPrompt;

}  // namespace pgmcp::pipeline
