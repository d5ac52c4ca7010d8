#include "sql/privileges.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace pgmcp::sql {

namespace {

std::string qualified(const std::string &schema, const std::string &name) {
  return db::quote_ident(schema) + "." + db::quote_ident(name);
}

std::string literal(const std::string &text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::vector<std::string> reader_role_sql(const SqlPolicy &policy, const db::Catalog &catalog,
                                         const std::string &role, const std::string &login) {
  std::vector<std::string> out;
  std::string r = db::quote_ident(role);
  out.push_back("DO $pgmcp$ BEGIN CREATE ROLE " + r +
                " NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $pgmcp$");
  std::set<std::string> schemas;
  for (const auto &s : catalog.schemas) schemas.insert(s.name);
  auto readable = policy.readable(catalog);
  for (const auto &rel : readable) schemas.insert(rel.schema);
  for (const auto &s : schemas) {
    out.push_back("REVOKE ALL ON ALL TABLES IN SCHEMA " + db::quote_ident(s) + " FROM " + r);
    out.push_back("REVOKE ALL ON SCHEMA " + db::quote_ident(s) + " FROM " + r);
  }
  std::set<std::string> used;
  for (const auto &rel : readable) used.insert(rel.schema);
  for (const auto &s : used)
    out.push_back("GRANT USAGE ON SCHEMA " + db::quote_ident(s) + " TO " + r);
  for (const auto &rel : readable) {
    if (rel.all_columns) {
      out.push_back("GRANT SELECT ON " + qualified(rel.schema, rel.name) + " TO " + r);
    } else if (!rel.columns.empty()) {
      std::string cols;
      for (const auto &c : rel.columns) cols += (cols.empty() ? "" : ", ") + db::quote_ident(c);
      // System columns are granted one by one too, or reading ctid would need
      // the whole table (the policy lets a statement read them).
      if (rel.kind == 'r' || rel.kind == 'p' || rel.kind == 'm')
        cols += ", ctid, xmin, xmax, cmin, cmax, tableoid";
      out.push_back("GRANT SELECT (" + cols + ") ON " + qualified(rel.schema, rel.name) + " TO " +
                    r);
    }
  }
  // Lets pg-mcp keep the server's analysis of each statement out of the
  // server log (PostgreSQL 15); nothing else.
  out.push_back("GRANT SET ON PARAMETER log_min_messages TO " + r);
  if (!login.empty() && login != role)
    out.push_back("GRANT " + r + " TO " + db::quote_ident(login));
  return out;
}

std::vector<std::string> privilege_warnings(db::Database &db, const SqlPolicy &policy,
                                            const db::Catalog &catalog) {
  std::vector<std::string> warnings;
  const std::string where = "database '" + db.name() + "': ";
  // Statements run as current_user (the configured role, if any); the login
  // is session_user.
  std::string sql = R"SQL(
SELECT session_user::text, current_user::text, l.rolsuper::text,
  (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)::text,
  concat_ws(', ',
    CASE WHEN pg_catalog.pg_has_role(session_user, 'pg_read_server_files', 'MEMBER') THEN 'pg_read_server_files' END,
    CASE WHEN pg_catalog.pg_has_role(session_user, 'pg_write_server_files', 'MEMBER') THEN 'pg_write_server_files' END,
    CASE WHEN pg_catalog.pg_has_role(session_user, 'pg_execute_server_program', 'MEMBER') THEN 'pg_execute_server_program' END),
  (SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relowner = l.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%')::text,
  pg_catalog.has_parameter_privilege('log_min_messages', 'SET')::text,
  pg_catalog.pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')::text
FROM pg_catalog.pg_roles l WHERE l.rolname = session_user)SQL";
  db::QueryResult r = db.internal(sql, {1, 65536});
  auto rows = nlohmann::json::parse(r.rows_json);
  if (rows.empty()) return warnings;
  const auto &row = rows[0];
  auto text = [&](size_t i) { return row[i].is_string() ? row[i].get<std::string>() : ""; };
  std::string login = text(0), runs_as = text(1);
  bool login_super = text(2) == "true", role_super = text(3) == "true";
  if (login_super)
    warnings.push_back(where + "the login role '" + login +
                       "' is a superuser. pg-mcp's policy still holds, but PostgreSQL's own "
                       "privilege checks stand behind nothing it decides" +
                       (runs_as == login ? "; set role = a reader role (pg-mcp --grants " +
                                               db.name() + " prints the SQL for one)"
                                         : ""));
  if (role_super && runs_as != login)
    warnings.push_back(where + "statements run as role '" + runs_as + "', a superuser");
  if (!text(4).empty())
    warnings.push_back(where + "the login role '" + login + "' is a member of " + text(4) +
                       ", which reach the database server's files and programs");
  if (text(5) != "0" && !text(5).empty())
    warnings.push_back(where + "the login role '" + login + "' owns " + text(5) +
                       " table(s) or view(s): an owner passes every privilege check on them");
  if (text(6) != "true")
    warnings.push_back(where + "role '" + runs_as +
                       "' may not set log_min_messages, so the server log receives PostgreSQL's "
                       "analysis of every statement, with its text; GRANT SET ON PARAMETER "
                       "log_min_messages TO " +
                       db::quote_ident(runs_as) + " keeps it out");
  if (text(7) == "true" && !role_super)
    warnings.push_back(where + "role '" + runs_as +
                       "' has the privileges of pg_read_all_settings (pg_monitor includes them), "
                       "so pg_settings and SHOW ALL show it primary_conninfo and the archive and "
                       "restore commands, which can hold passwords");
  // Can the role statements run as read what the policy blocks?
  auto refused = policy.refused(catalog);
  if (!refused.empty()) {
    std::string values;
    for (const auto &x : refused)
      values += (values.empty() ? "" : ", ") + std::string("(") + std::to_string(x.oid) + ", " +
                std::to_string(x.attnum) + ", " + literal(x.name) + ")";
    db::QueryResult readable = db.internal(
        "SELECT string_agg(v.n, ', ' ORDER BY v.n), count(*)::text FROM (VALUES " + values +
            ") v(r, a, n) WHERE CASE WHEN v.a = 0 THEN pg_catalog.has_table_privilege(v.r::oid, "
            "'SELECT') ELSE pg_catalog.has_column_privilege(v.r::oid, v.a::int2, 'SELECT') END",
        {1, 1 << 20});
    auto got = nlohmann::json::parse(readable.rows_json);
    if (!got.empty() && got[0][1].is_string() && got[0][1].get<std::string>() != "0")
      warnings.push_back(where + "role '" + runs_as + "' can read " + got[0][1].get<std::string>() +
                         " object(s) the policy blocks (" + got[0][0].get<std::string>() +
                         "): only pg-mcp's policy stands between them and a statement; set role "
                         "= a reader role (pg-mcp --grants " +
                         db.name() + ")");
  }
  return warnings;
}

}  // namespace pgmcp::sql
