// The wrapper of a plain query: it stops PostgreSQL one row past max_rows,
// and (the row guard) at the first row larger than the result's byte limit,
// before the row is built whole in pg-mcp's memory.
#include <pg_query.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <stdexcept>
#include <vector>

#include "db/database.hpp"
#include "sql/policy.hpp"
#include "sql/row_guard.hpp"
#include "sql/tokens.hpp"

namespace pgmcp::sql {

namespace {

constexpr const char *kGuardHead = "SELECT pgmcp_row.* FROM (\n";

}  // namespace

std::string guardable_query(const std::string &sql, const PgQuerySplitStmt &stmt) {
  std::size_t from = static_cast<std::size_t>(std::max(0, stmt.stmt_location));
  std::size_t len = stmt.stmt_len > 0 ? static_cast<std::size_t>(stmt.stmt_len) : std::string::npos;
  std::string text = sql.substr(std::min(from, sql.size()), len);
  std::vector<Token> tokens;
  try {
    tokens = scan(text);
  } catch (const std::invalid_argument &) {
    return "";
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token &t = tokens[i];
    if (t.kind == token::kSemicolon) {
      // a trailing semicolon (and comments after it) is left out
      for (std::size_t j = i + 1; j < tokens.size(); ++j)
        if (tokens[j].kind != token::kSqlComment && tokens[j].kind != token::kCComment) return "";
      return text.substr(0, static_cast<std::size_t>(t.start));
    }
    std::string word =
        text.substr(static_cast<std::size_t>(t.start), static_cast<std::size_t>(t.end - t.start));
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (word == "into" || word == "insert" || word == "update" || word == "delete" ||
        word == "merge")
      return "";
  }
  return text;
}

std::string bounded_sql(const std::string &statement, long long max_bytes, long long max_rows) {
  std::string out = std::string(kGuardHead) + statement + "\n) AS pgmcp_row";
  if (max_bytes > 0) {
    const std::string size =
        "pg_catalog.octet_length(pg_catalog.textin(pg_catalog.record_out(pgmcp_row.*)))";
    out += " WHERE CASE WHEN " + size + " > " + std::to_string(max_bytes) +
           " THEN pg_catalog.int4in(pg_catalog.textout(pg_catalog.concat('" + db::kRowGuardMarker +
           "', " + size + "))) = 0 ELSE true END";
  }
  if (max_rows > 0 && max_rows < std::numeric_limits<long long>::max())
    out += " LIMIT " + std::to_string(max_rows + 1);
  return out;
}

std::size_t row_guard_offset() { return std::char_traits<char>::length(kGuardHead); }

}  // namespace pgmcp::sql
