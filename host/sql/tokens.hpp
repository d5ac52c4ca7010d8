// The tokens of a SQL text as PostgreSQL's own lexer splits it (libpg_query's
// scanner), for finding where the statement inside EXPLAIN or CREATE TABLE AS
// begins and ends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pgmcp::sql {

struct Token {
  int32_t start = 0, end = 0;  // byte offsets into the text
  int32_t kind = 0;            // libpg_query's Token enum (ASCII for one-character tokens)
};

// Throws std::invalid_argument when the text cannot be scanned.
std::vector<Token> scan(const std::string &sql);

// libpg_query token kinds used here.
namespace token {
// Names and constants are IDENT (258) to PARAM (267), but for Op (265).
constexpr int32_t kComma = 44, kSemicolon = 59, kIdent = 258, kOp = 265, kParam = 267;
constexpr int32_t kOpenParen = 40, kCloseParen = 41, kSqlComment = 275, kCComment = 276, kAs = 294,
                  kData = 368, kExplain = 411, kNo = 524, kWith = 716, kWithLa = 739;
}  // namespace token

// An upper bound on how deeply PostgreSQL's parse tree of sql can nest: the
// parenthesis depth plus the tokens other than names and constants chained
// since the last comma at that depth (1+1+…+1 is a left-deep tree as deep
// as its operators are many). Scanning does not recurse; parsing a tree to
// text does, so an absurd bound is refused before the parse.
size_t nesting_bound(const std::vector<Token> &tokens);

// The statement inside EXPLAIN [ANALYZE] [VERBOSE] | EXPLAIN (options), or
// inside CREATE [TEMP] TABLE / MATERIALIZED VIEW name [...] AS query [WITH
// [NO] DATA], as a substring of sql; empty when there is none.
std::string inner_statement(const std::string &sql);

}  // namespace pgmcp::sql
