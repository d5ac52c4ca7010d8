// The statement kinds libpg_query names (InsertStmt, DoStmt, ...): how
// messages call them, and which ones the policy lets a writable database run.
#pragma once

#include <string>
#include <string_view>

namespace pgmcp::sql {

// "InsertStmt" -> "INSERT"; an unknown kind loses its "Stmt".
std::string statement_words(std::string_view node);
// DDL that runs no query of its own, for databases that allow writes. What
// else the server only shows as an opaque utility command is refused.
bool checkable_utility(std::string_view node);
// INSERT, UPDATE, DELETE, MERGE.
bool is_write_node(std::string_view node);

}  // namespace pgmcp::sql
