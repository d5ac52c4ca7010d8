#include "sql/statement_kinds.hpp"

#include <map>
#include <set>

namespace pgmcp::sql {

// What PostgreSQL calls a statement node, in words for messages.
std::string statement_words(std::string_view node) {
  static const std::map<std::string_view, std::string_view> names = {
      {"InsertStmt", "INSERT"},
      {"UpdateStmt", "UPDATE"},
      {"DeleteStmt", "DELETE"},
      {"MergeStmt", "MERGE"},
      {"CopyStmt", "COPY"},
      {"DoStmt", "DO"},
      {"CallStmt", "CALL"},
      {"PrepareStmt", "PREPARE"},
      {"ExecuteStmt", "EXECUTE"},
      {"DeallocateStmt", "DEALLOCATE"},
      {"ListenStmt", "LISTEN"},
      {"UnlistenStmt", "UNLISTEN"},
      {"NotifyStmt", "NOTIFY"},
      {"LockStmt", "LOCK"},
      {"TruncateStmt", "TRUNCATE"},
      {"DropStmt", "DROP"},
      {"CreateStmt", "CREATE TABLE"},
      {"CreateTableAsStmt", "CREATE TABLE AS"},
      {"AlterTableStmt", "ALTER"},
      {"GrantStmt", "GRANT"},
      {"VacuumStmt", "VACUUM"},
      {"DiscardStmt", "DISCARD"},
      {"LoadStmt", "LOAD"},
      {"DeclareCursorStmt", "DECLARE"},
      {"FetchStmt", "FETCH"},
      {"ClosePortalStmt", "CLOSE"},
      {"CheckPointStmt", "CHECKPOINT"},
      {"ReindexStmt", "REINDEX"},
      {"ClusterStmt", "CLUSTER"},
      {"RefreshMatViewStmt", "REFRESH MATERIALIZED VIEW"},
      {"CreateFunctionStmt", "CREATE FUNCTION"},
      {"ViewStmt", "CREATE VIEW"},
      {"IndexStmt", "CREATE INDEX"},
      {"RenameStmt", "ALTER ... RENAME"},
      {"CommentStmt", "COMMENT"},
      {"SecLabelStmt", "SECURITY LABEL"},
      {"CreateRoleStmt", "CREATE ROLE"},
      {"AlterRoleStmt", "ALTER ROLE"},
      {"AlterSystemStmt", "ALTER SYSTEM"},
      {"CreateExtensionStmt", "CREATE EXTENSION"}};
  auto it = names.find(node);
  if (it != names.end()) return std::string(it->second);
  std::string s(node);
  if (s.size() > 4 && s.compare(s.size() - 4, 4, "Stmt") == 0) s.resize(s.size() - 4);
  return s;
}

bool checkable_utility(std::string_view t) {
  static const std::set<std::string_view> kinds = {
      "CreateStmt",       "AlterTableStmt", "IndexStmt",         "DropStmt",         "RenameStmt",
      "CommentStmt",      "ViewStmt",       "TruncateStmt",      "CreateSeqStmt",    "AlterSeqStmt",
      "CreateSchemaStmt", "CreateEnumStmt", "CompositeTypeStmt", "CreateTableAsStmt"};
  return kinds.count(t) != 0;
}

bool is_write_node(std::string_view t) {
  return t == "InsertStmt" || t == "UpdateStmt" || t == "DeleteStmt" || t == "MergeStmt";
}

}  // namespace pgmcp::sql
