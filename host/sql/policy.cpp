#include "sql/policy.hpp"

#include <pg_query.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "sql/parse_tree.hpp"

namespace pgmcp::sql {

// ---------------------------------------------------------------------------
// The built-in deny list

const DenyList &builtin_deny_list() {
  static const DenyList list = [] {
    DenyList d;
    auto add = [&](const char *why, std::initializer_list<const char *> names, bool prefix) {
      for (const char *n : names) d.functions.push_back({n, prefix, why});
    };
    add("sleeps", {"pg_sleep", "pg_sleep_for", "pg_sleep_until"}, false);
    add("reads or writes files on the database server",
        {"pg_read_file", "pg_read_binary_file", "pg_stat_file", "pg_file_write", "pg_file_rename",
         "pg_file_unlink", "pg_file_sync", "pg_logdir_ls", "pg_current_logfile"},
        false);
    add("reads or writes files on the database server", {"pg_ls_"}, true);
    add("reads or writes large objects", {"loread", "lowrite"}, false);
    add("reads or writes large objects", {"lo_"}, true);
    add("runs SQL passed as text",
        {"ts_stat", "ts_rewrite", "query_to_xml", "query_to_xml_and_xmlschema",
         "query_to_xmlschema", "cursor_to_xml", "cursor_to_xmlschema", "table_to_xml",
         "table_to_xml_and_xmlschema", "table_to_xmlschema", "schema_to_xml",
         "schema_to_xml_and_xmlschema", "schema_to_xmlschema", "database_to_xml",
         "database_to_xml_and_xmlschema", "database_to_xmlschema"},
        false);
    add("signals other backends or controls the server",
        {"pg_cancel_backend", "pg_terminate_backend", "pg_reload_conf", "pg_rotate_logfile",
         "pg_log_backend_memory_contexts", "pg_promote", "pg_switch_wal", "pg_create_restore_point",
         "pg_backup_start", "pg_backup_stop", "pg_start_backup", "pg_stop_backup",
         "pg_wal_replay_pause", "pg_wal_replay_resume", "pg_import_system_collations",
         "pg_export_snapshot"},
        false);
    add("controls replication",
        {"pg_replication_slot_advance", "pg_drop_replication_slot", "pg_logical_emit_message",
         "pg_logical_slot_get_changes", "pg_logical_slot_peek_changes",
         "pg_logical_slot_get_binary_changes", "pg_logical_slot_peek_binary_changes",
         "pg_create_physical_replication_slot", "pg_create_logical_replication_slot",
         "pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot"},
        false);
    add("controls replication", {"pg_replication_origin_"}, true);
    add("changes settings", {"set_config"}, false);
    add("takes advisory locks that outlive the call", {"pg_advisory_", "pg_try_advisory_"}, true);
    add("sends notifications", {"pg_notify"}, false);
    add("advances a sequence outside the transaction", {"nextval", "setval"}, false);
    add("reaches other servers", {"dblink", "postgres_fdw_"}, true);
    add("exposes other sessions' queries",
        {"pg_stat_get_activity", "pg_stat_statements", "pg_stat_statements_reset",
         "pg_stat_statements_info"},
        false);
    add("exposes other sessions' queries", {"pg_stat_get_backend_"}, true);
    add("resets statistics", {"pg_stat_reset"}, true);
    add("reads raw table pages, bypassing privileges",
        {"get_raw_page", "heap_page_items", "heap_page_item_attrs", "tuple_data_split",
         "bt_page_items", "brin_page_items", "gist_page_items", "gin_leafpage_items"},
        false);
    add("is an internal upgrade function", {"binary_upgrade_"}, true);
    d.relations = {"pg_stat_activity",
                   "pg_stat_statements",
                   "pg_stat_statements_info",
                   "pg_stats",
                   "pg_stats_ext",
                   "pg_stats_ext_exprs",
                   "pg_statistic",
                   "pg_statistic_ext_data",
                   "pg_authid",
                   "pg_shadow",
                   "pg_user_mapping",
                   "pg_user_mappings",
                   "pg_largeobject",
                   "pg_file_settings",
                   "pg_hba_file_rules",
                   "pg_ident_file_mappings",
                   "pg_stat_replication",
                   "pg_stat_wal_receiver",
                   "pg_subscription",
                   "pg_replication_origin_status"};
    return d;
  }();
  return list;
}

namespace {

// Why a function is on the deny list, or null when it is not.
const char *denied_function(const std::string &name) {
  for (const auto &e : builtin_deny_list().functions) {
    if (e.prefix ? name.compare(0, e.name.size(), e.name) == 0 : name == e.name) return e.why;
  }
  return nullptr;
}

bool denied_relation(const std::string &name) {
  const auto &r = builtin_deny_list().relations;
  return std::find(r.begin(), r.end(), name) != r.end();
}

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

bool is_write_node(std::string_view t) {
  return t == "InsertStmt" || t == "UpdateStmt" || t == "DeleteStmt" || t == "MergeStmt";
}

std::string join_name(const std::string &schema, const std::string &name) {
  return schema.empty() ? name : schema + "." + name;
}

bool name_matches(const SqlPolicy::Name &entry, const std::string &schema,
                  const std::string &name) {
  return entry.name == name && (entry.schema.empty() || schema.empty() || entry.schema == schema);
}

std::string sval(const Value &string_node) {
  // {"String": {"sval": "x"}}
  return string_node.get("String").get("sval").str();
}

}  // namespace

// ---------------------------------------------------------------------------
// Views: each view's definition is checked once per catalog load.

struct Violation {
  std::string rule, object, message;
};

struct SqlPolicy::ViewMemo {
  std::mutex mutex;
  std::shared_ptr<const db::Catalog> catalog;
  std::map<std::pair<std::string, std::string>, std::optional<Violation>> done;
};

// ---------------------------------------------------------------------------
// The walker: one pass over the tree collects what the rules need.

class Walker {
 public:
  Walker(const std::shared_ptr<const db::Catalog> &catalog, int view_depth)
      : catalog_(catalog), view_depth_(view_depth) {}

  struct Rel {
    std::string refname;       // alias, else relation name
    std::string schema, name;  // as resolved (schema empty when unresolved)
    const db::Relation *rel = nullptr;
    bool system = false;
    bool qualified = false;  // written with a schema
    size_t alias_columns = 0;
  };
  struct ColRef {
    std::vector<std::string> fields;
    bool star = false;
    std::vector<size_t> scope;  // bare *: the relations of its SELECT level
    bool ignore_star = false;   // * inside EXISTS (...)
  };
  struct Func {
    std::string schema, name;
    std::string via;  // operator that calls it, if any
  };

  std::vector<std::string> statement_types;  // nested statement nodes, outermost first
  std::vector<Rel> rels;
  std::vector<ColRef> cols;
  std::vector<Func> funcs;
  std::vector<std::pair<std::string, std::vector<size_t>>> aliases;  // join aliases
  std::set<std::string> cte_names;
  bool select_into = false, locking = false, copy_files = false;
  bool explain_analyze = false;
  std::string set_kind;  // for VariableSetStmt: "session", "local", "transaction", "role"
  std::string too_deep;

  void walk(Value v, int depth) {
    if (depth > 1500) {
      too_deep = "the statement is nested too deeply to check";
      return;
    }
    if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) walk(v.at(i), depth + 1);
      return;
    }
    if (!v.is_object()) return;
    // A node is {"Type": {fields}}; struct-typed fields print without the wrapper.
    if (v.size() == 1) {
      std::string_view type = v.key(0);
      Value body = v.at(0);
      if (body.is_object() && !type.empty() && type[0] >= 'A' && type[0] <= 'Z') {
        node(type, body, depth);
        return;
      }
    }
    if (v.get("relname").valid()) {
      range_var(v);
      return;
    }
    fields(v, depth);
  }

 private:
  void fields(Value body, int depth) {
    for (size_t i = 0; i < body.size(); ++i) walk(body.at(i), depth + 1);
  }

  void node(std::string_view type, Value body, int depth) {
    bool statement = type.size() > 4 && type.substr(type.size() - 4) == "Stmt";
    if (statement) statement_types.emplace_back(type);
    if (type == "RangeVar") return range_var(body);
    if (type == "ColumnRef") return column_ref(body);
    if (type == "FuncCall") {
      add_func(body.get("funcname"), "");
      return fields(body, depth);
    }
    if (type == "A_Expr") {
      Value name = body.get("name");
      if (name.is_array() && name.size() > 0) {
        std::string op = sval(name.at(name.size() - 1));
        std::string op_schema = name.size() > 1 ? sval(name.at(name.size() - 2)) : "";
        operator_funcs(op_schema, op);
      }
      return fields(body, depth);
    }
    if (type == "SelectStmt") return select(body, depth);
    if (is_write_node(type)) return write(type, body, depth);
    if (type == "JoinExpr") return join(body, depth);
    if (type == "SubLink") {
      if (body.get("subLinkType").str() == "EXISTS_SUBLINK") {
        Value sub = body.get("subselect").get("SelectStmt");
        if (sub.valid()) exists_selects_.push_back(sub.id());
      }
      return fields(body, depth);
    }
    if (type == "LockingClause") locking = true;
    if (type == "CommonTableExpr") cte_names.insert(body.get("ctename").str());
    if (statement) {
      if (type == "ExplainStmt") {
        Value opts = body.get("options");
        for (size_t i = 0; i < opts.size(); ++i) {
          Value d = opts.at(i).get("DefElem");
          if (d.get("defname").str() != "analyze") continue;
          std::string arg = d.get("arg").get("String").get("sval").str();
          Value b = d.get("arg").get("Boolean");
          if (b.valid()) arg = b.get("boolval").str();
          if (arg != "false" && arg != "off" && arg != "0") explain_analyze = true;
          if (d.get("arg").get("A_Const").valid()) explain_analyze = true;  // conservative
        }
      } else if (type == "CopyStmt") {
        if (body.get("filename").valid() || body.get("is_program").valid()) copy_files = true;
      } else if (type == "VariableSetStmt") {
        std::string kind = body.get("kind").str();
        std::string name = body.get("name").str();
        bool local = body.get("is_local").str() == "true";
        if (name == "transaction" || name == "session_characteristics" || name == "TRANSACTION" ||
            name == "SESSION CHARACTERISTICS" || name == "transaction_snapshot" ||
            name == "TRANSACTION SNAPSHOT")
          set_kind = "transaction";
        else if (name == "role" || name == "session_authorization")
          set_kind = "role";
        else if (local && kind != "VAR_RESET" && kind != "VAR_RESET_ALL")
          set_kind = "local";
        else
          set_kind = "session";
      }
    }
    fields(body, depth);
  }

  void range_var(Value v) {
    Rel r;
    r.schema = v.get("schemaname").str();
    r.qualified = !r.schema.empty();
    r.name = v.get("relname").str();
    Value alias = v.get("alias");
    r.refname = alias.valid() ? alias.get("aliasname").str() : r.name;
    r.alias_columns = alias.get("colnames").size();
    resolve(r);
    rels.push_back(std::move(r));
  }

  void resolve(Rel &r) {
    const db::Catalog *c = catalog_.get();
    auto system_schema = [](const std::string &s) {
      return s == "pg_catalog" || s == "information_schema";
    };
    if (!r.schema.empty()) {
      if (system_schema(r.schema)) {
        r.system = true;
      } else if (c != nullptr) {
        r.rel = c->find(r.schema, r.name);
      }
      return;
    }
    if (c == nullptr) return;
    std::vector<std::string> path = c->search_path;
    if (std::find(path.begin(), path.end(), "pg_catalog") == path.end())
      path.insert(path.begin(), "pg_catalog");
    for (const auto &s : path) {
      if (system_schema(s)) {
        if (c->system_relations.count({s, r.name}) != 0) {
          r.schema = s;
          r.system = true;
          return;
        }
      } else if (const db::Relation *found = c->find(s, r.name)) {
        r.schema = s;
        r.rel = found;
        return;
      }
    }
  }

  void column_ref(Value body) {
    ColRef c;
    Value f = body.get("fields");
    for (size_t i = 0; i < f.size(); ++i) {
      Value item = f.at(i);
      if (item.get("A_Star").valid())
        c.star = true;
      else
        c.fields.push_back(sval(item));
    }
    if (c.star && c.fields.empty()) {
      if (!levels_.empty()) {
        c.scope = levels_.back().rels;
        c.ignore_star = levels_.back().exists;
      }
    }
    cols.push_back(std::move(c));
  }

  void add_func(Value funcname, const std::string &via) {
    Func fn;
    fn.via = via;
    size_t n = funcname.size();
    if (n == 0) return;
    fn.name = sval(funcname.at(n - 1));
    if (n > 1) fn.schema = sval(funcname.at(n - 2));
    funcs.push_back(std::move(fn));
  }

  void operator_funcs(const std::string &schema, const std::string &op) {
    if (!catalog_) return;
    for (const auto &o : catalog_->operators) {
      if (o.name != op || (!schema.empty() && schema != o.schema)) continue;
      funcs.push_back({o.function_schema, o.function, join_name(schema, op)});
    }
  }

  // The relations a SELECT level reads (its FROM, joins included, not sub-queries).
  void level_relations(Value item, std::vector<size_t> &out) {
    if (item.is_array()) {
      for (size_t i = 0; i < item.size(); ++i) level_relations(item.at(i), out);
      return;
    }
    Value rv = item.get("RangeVar");
    if (rv.valid()) {
      range_var(rv);
      out.push_back(rels.size() - 1);
      return;
    }
    Value j = item.get("JoinExpr");
    if (j.valid()) join_relations(j, out);
  }

  void join_relations(Value j, std::vector<size_t> &out) {
    size_t before = rels.size();
    level_relations(j.get("larg"), out);
    level_relations(j.get("rarg"), out);
    std::vector<size_t> inside;
    for (size_t i = before; i < rels.size(); ++i) inside.push_back(i);
    Value alias = j.get("alias");
    if (alias.valid()) aliases.emplace_back(alias.get("aliasname").str(), inside);
    Value using_clause = j.get("usingClause");
    for (size_t i = 0; i < using_clause.size(); ++i) {
      ColRef c;
      c.fields.push_back(sval(using_clause.at(i)));
      cols.push_back(std::move(c));
    }
  }

  void select(Value body, int depth) {
    if (body.get("intoClause").valid()) select_into = true;
    Level level;
    level.exists = std::find(exists_selects_.begin(), exists_selects_.end(), body.id()) !=
                   exists_selects_.end();
    Value from = body.get("fromClause");
    level_relations(from, level.rels);
    levels_.push_back(level);
    for (size_t i = 0; i < body.size(); ++i) {
      if (body.key(i) == "fromClause") continue;
      walk(body.at(i), depth + 1);
    }
    levels_.pop_back();
    // what the FROM holds besides plain relations and joins: sub-queries,
    // functions, join conditions
    walk_from_rest(from, depth);
  }

  // INSERT, UPDATE, DELETE, MERGE: the target and the FROM / USING relations
  // form the level a RETURNING * reads.
  void write(std::string_view type, Value body, int depth) {
    if (type == "UpdateStmt" || type == "InsertStmt") target_columns(body);
    static const char *const sources[] = {"fromClause", "usingClause", "sourceRelation"};
    Level level;
    Value target = body.get("relation");
    if (target.valid()) {
      range_var(target);
      level.rels.push_back(rels.size() - 1);
    }
    for (const char *key : sources) level_relations(body.get(key), level.rels);
    levels_.push_back(level);
    for (size_t i = 0; i < body.size(); ++i) {
      std::string_view key = body.key(i);
      bool source = key == "relation";
      for (const char *k : sources) source = source || key == k;
      if (!source) walk(body.at(i), depth + 1);
    }
    levels_.pop_back();
    for (const char *key : sources) walk_from_rest(body.get(key), depth);
  }

  void walk_from_rest(Value item, int depth) {
    if (item.is_array()) {
      for (size_t i = 0; i < item.size(); ++i) walk_from_rest(item.at(i), depth + 1);
      return;
    }
    if (item.get("RangeVar").valid()) return;
    Value j = item.get("JoinExpr");
    if (j.valid()) {
      walk_from_rest(j.get("larg"), depth + 1);
      walk_from_rest(j.get("rarg"), depth + 1);
      walk(j.get("quals"), depth + 1);
      return;
    }
    walk(item, depth + 1);
  }

  void join(Value body, int depth) {
    // A join outside a SELECT's FROM (UPDATE ... FROM, DELETE ... USING, MERGE).
    std::vector<size_t> ignored;
    join_relations(body, ignored);
    walk_from_rest(body.get("larg"), depth + 1);
    walk_from_rest(body.get("rarg"), depth + 1);
    walk(body.get("quals"), depth + 1);
  }

  void target_columns(Value body) {
    // INSERT (cols) / UPDATE SET col = ...: the names are columns of the target.
    Value target = body.get("relation");
    Value list = body.get("cols").valid() ? body.get("cols") : body.get("targetList");
    std::string table = target.get("relname").str();
    std::string schema = target.get("schemaname").str();
    for (size_t i = 0; i < list.size(); ++i) {
      std::string name = list.at(i).get("ResTarget").get("name").str();
      if (name.empty()) continue;
      ColRef c;
      if (!schema.empty()) c.fields.push_back(schema);
      c.fields.push_back(table);
      c.fields.push_back(name);
      cols.push_back(std::move(c));
    }
  }

  struct Level {
    std::vector<size_t> rels;
    bool exists = false;
  };
  const std::shared_ptr<const db::Catalog> &catalog_;
  int view_depth_;
  std::vector<Level> levels_;
  std::vector<uint32_t> exists_selects_;

 public:
  int view_depth() const { return view_depth_; }
  const std::shared_ptr<const db::Catalog> &catalog() const { return catalog_; }
};

// ---------------------------------------------------------------------------
// The rules, applied to what the walker collected. The first violation wins,
// in this order: statement kind, functions, relations (and views), columns.

namespace {
std::optional<Violation> check_definition(const SqlPolicy &policy, const std::string &sql,
                                          const std::shared_ptr<const db::Catalog> &catalog,
                                          int view_depth);
}

class Rules {
 public:
  Rules(const SqlPolicy &p, const Walker &w, Verdict &v) : p_(p), w_(w), v_(v) {}

  std::optional<Violation> statement(std::string_view type, Value body) const {
    const auto &o = p_.options_;
    if (type == "SelectStmt" || type == "VariableShowStmt") {
      // reads; nested writes and locking are checked below
    } else if (type == "ExplainStmt") {
      if (!o.allow_explain)
        return Violation{"explain", "EXPLAIN",
                         "EXPLAIN is turned off for database '" + p_.database_ +
                             "' (rule explain); send the query itself"};
      if (w_.explain_analyze && !o.allow_explain_analyze)
        return Violation{"explain_analyze", "EXPLAIN ANALYZE",
                         "EXPLAIN ANALYZE runs the statement and is turned off for database '" +
                             p_.database_ +
                             "' (rule explain_analyze); use EXPLAIN without ANALYZE"};
      Value inner = body.get("query");
      if (inner.is_object() && inner.size() == 1) {
        auto bad = statement(inner.key(0), inner.at(0));
        if (bad) return bad;
      }
    } else if (type == "TransactionStmt") {
      return Violation{"transaction_control", "transaction control",
                       "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...) is not "
                       "allowed (rule transaction_control): every call already runs in its own "
                       "transaction; send a single statement"};
    } else if (type == "VariableSetStmt") {
      if (w_.set_kind == "transaction")
        return Violation{"transaction_control", "SET TRANSACTION",
                         "SET TRANSACTION is not allowed (rule transaction_control): the server "
                         "sets the transaction's mode"};
      if (w_.set_kind != "local")
        return Violation{"session_settings", "SET",
                         "SET, RESET and role changes are not allowed (rule session_settings): "
                         "they would outlive the call; write the setting into the query instead"};
      return write("SET LOCAL");
    } else if (type == "CopyStmt" && w_.copy_files) {
      return Violation{"server_files", "COPY",
                       "COPY to or from a server file or program is not allowed (rule "
                       "server_files): it reads or writes the database host itself"};
    } else if (is_write_node(type)) {
      return write(statement_words(type));
    } else {
      if (auto bad = write(statement_words(type))) return bad;
      v_.discard_connection = true;  // DDL and session commands: a fresh connection afterwards
    }
    for (size_t i = 1; i < w_.statement_types.size(); ++i) {
      if (is_write_node(w_.statement_types[i]))
        if (auto bad = write("a data-modifying " + statement_words(w_.statement_types[i])))
          return bad;
    }
    if (w_.select_into)
      if (auto bad = write("SELECT INTO")) return bad;
    if (w_.locking)
      if (auto bad = write("FOR UPDATE / FOR SHARE")) return bad;
    return std::nullopt;
  }

  std::optional<Violation> objects() const {
    if (auto bad = functions()) return bad;
    if (auto bad = relations()) return bad;
    return columns();
  }

 private:
  std::optional<Violation> write(const std::string &what) const {
    if (p_.options_.allow_write) {
      v_.writes = true;
      return std::nullopt;
    }
    return Violation{"read_only", what,
                     what + " is not allowed: database '" + p_.database_ +
                         "' is read-only (rule read_only); ask for a SELECT instead"};
  }

  std::optional<Violation> functions() const {
    for (const auto &f : w_.funcs) {
      std::string full = join_name(f.schema, f.name);
      std::string via = f.via.empty() ? "" : " (called by operator " + f.via + ")";
      for (const auto &e : p_.blocked_functions_) {
        if (name_matches(e, f.schema, f.name))
          return Violation{"blocked_functions", full,
                           "blocked function " + full + via + " (rule blocked_functions)"};
      }
      if (const char *why = denied_function(f.name)) {
        bool lifted = false;
        for (const auto &e : p_.allowed_functions_)
          lifted = lifted || name_matches(e, f.schema, f.name);
        if (!lifted)
          return Violation{"deny_list", full,
                           "function " + full + via + " " + why +
                               " and is on the built-in deny list (rule deny_list)"};
        v_.discard_connection = true;  // it may leave state behind (a lock, a setting)
      }
    }
    return std::nullopt;
  }

  std::optional<Violation> relations() const {
    for (const auto &r : w_.rels) {
      std::string full = join_name(r.schema, r.name);
      if (denied_relation(r.name) && p_.allowed_tables_.count(r.name) == 0)
        return Violation{"deny_list", full,
                         full +
                             " exposes other sessions' queries or stored values and is on the "
                             "built-in deny list (rule deny_list)"};
      for (const auto &e : p_.blocked_tables_) {
        if (name_matches(e, r.schema, r.name))
          return Violation{"blocked_tables", full,
                           "blocked table " + full + " (rule blocked_tables)"};
      }
      if (r.rel != nullptr && (r.rel->kind == "view" || r.rel->kind == "materialized_view")) {
        if (auto bad = view(r)) {
          std::string kind = r.rel->kind == "view" ? "view " : "materialized view ";
          std::string msg = bad->message;
          auto at = msg.rfind(" (rule ");
          std::string via = " read through " + kind + full;
          msg = at == std::string::npos ? msg + via : msg.insert(at, via);
          return Violation{bad->rule, bad->object, msg};
        }
      }
      // a name the catalog does not know, unless it is one of the statement's CTEs
      if (r.rel == nullptr && !r.system && (r.qualified || w_.cte_names.count(r.name) == 0))
        v_.unknown_relation = true;
    }
    return std::nullopt;
  }

  std::optional<Violation> view(const Walker::Rel &r) const {
    auto &memo = *p_.views_;
    std::pair<std::string, std::string> key{r.schema, r.name};
    {
      std::lock_guard lock(memo.mutex);
      if (memo.catalog != w_.catalog()) {
        memo.catalog = w_.catalog();
        memo.done.clear();
      }
      auto it = memo.done.find(key);
      if (it != memo.done.end()) return it->second;
    }
    std::optional<Violation> verdict;
    if (w_.view_depth() >= 32) {
      verdict = Violation{"views", r.name, "views nest too deeply to check (rule views)"};
    } else {
      verdict = check_definition(p_, r.rel->definition, w_.catalog(), w_.view_depth() + 1);
    }
    std::lock_guard lock(memo.mutex);
    if (memo.catalog == w_.catalog()) memo.done[key] = verdict;
    return verdict;
  }

  // Blocked columns of a relation (name, 1-based position or 0 when unknown).
  std::vector<std::pair<std::string, int>> blocked_of(const Walker::Rel &r) const {
    std::vector<std::pair<std::string, int>> out;
    for (const auto &e : p_.blocked_columns_) {
      bool table_ok = e.table.empty() || name_matches({e.schema, e.table}, r.schema, r.name);
      if (!table_ok) continue;
      if (r.rel != nullptr) {
        for (const auto &c : r.rel->columns)
          if (c.name == e.column) out.emplace_back(c.name, c.position);
      } else if (!e.table.empty()) {
        out.emplace_back(e.column, 0);
      }
    }
    return out;
  }

  bool blocked_column(const Walker::Rel &r, const std::string &col) const {
    for (const auto &e : p_.blocked_columns_) {
      if (e.column == col &&
          (e.table.empty() || name_matches({e.schema, e.table}, r.schema, r.name)))
        return true;
    }
    return false;
  }

  std::vector<size_t> named(const std::string &q) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < w_.rels.size(); ++i)
      if (w_.rels[i].refname == q || w_.rels[i].name == q) out.push_back(i);
    for (const auto &[alias, inside] : w_.aliases)
      if (alias == q) out.insert(out.end(), inside.begin(), inside.end());
    return out;
  }

  std::vector<size_t> qualified(const std::string &schema, const std::string &table) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < w_.rels.size(); ++i) {
      const auto &r = w_.rels[i];
      if (r.name == table && (r.schema == schema || r.schema.empty())) out.push_back(i);
    }
    return out;
  }

  static std::string display(const Walker::Rel &r) { return r.name; }

  std::optional<Violation> column_violation(const Walker::Rel &r, const std::string &col,
                                            const std::string &how) const {
    std::string obj = display(r) + "." + col;
    return Violation{"blocked_columns", obj,
                     "blocked column " + obj + how + " (rule blocked_columns)"};
  }

  std::optional<Violation> columns() const {
    if (p_.blocked_columns_.empty()) return std::nullopt;
    for (const auto &c : w_.cols) {
      if (c.star) {
        std::vector<size_t> targets;
        if (c.fields.empty()) {
          if (c.ignore_star) continue;  // EXISTS (SELECT * ...) reads no values
          targets = c.scope;
        } else if (c.fields.size() == 1) {
          targets = named(c.fields[0]);
        } else {
          targets = qualified(c.fields[c.fields.size() - 2], c.fields.back());
        }
        for (size_t t : targets) {
          auto b = blocked_of(w_.rels[t]);
          if (!b.empty())
            return column_violation(w_.rels[t], b[0].first,
                                    ", which * would read; name the columns you need instead");
        }
        continue;
      }
      const std::string &col = c.fields.back();
      size_t n = c.fields.size();
      for (const auto &e : p_.blocked_columns_) {
        if (e.table.empty() && e.column == col)
          return Violation{"blocked_columns", col,
                           "blocked column " + col + " (any table) (rule blocked_columns)"};
      }
      if (n == 1) {
        for (const auto &r : w_.rels)
          if (blocked_column(r, col)) return column_violation(r, col, "");
        for (size_t t : named(col)) {
          auto b = blocked_of(w_.rels[t]);
          if (!b.empty())
            return column_violation(w_.rels[t], b[0].first,
                                    ", which the whole-row reference " + col + " would read");
        }
        continue;
      }
      std::vector<size_t> targets =
          n == 2 ? named(c.fields[0]) : qualified(c.fields[n - 3], c.fields[n - 2]);
      for (size_t t : targets) {
        const auto &r = w_.rels[t];
        if (blocked_column(r, col)) return column_violation(r, col, "");
        auto b = blocked_of(r);
        if (!b.empty() && r.rel != nullptr) {
          bool real = std::any_of(r.rel->columns.begin(), r.rel->columns.end(),
                                  [&](const db::ColumnInfo &ci) { return ci.name == col; });
          if (!real)
            return column_violation(r, b[0].first,
                                    ", which " + c.fields[n - 2] + "." + col +
                                        " (not a column: a function of the whole row) would read");
        }
      }
      if (n == 2) {
        for (size_t t : qualified(c.fields[0], c.fields[1])) {
          auto b = blocked_of(w_.rels[t]);
          if (!b.empty())
            return column_violation(w_.rels[t], b[0].first,
                                    ", which the whole-row reference " + c.fields[0] + "." +
                                        c.fields[1] + " would read");
        }
      }
    }
    for (const auto &r : w_.rels) {
      if (r.alias_columns == 0) continue;
      for (const auto &[name, pos] : blocked_of(r)) {
        if (pos == 0 || static_cast<size_t>(pos) <= r.alias_columns)
          return column_violation(r, name, ", which the column alias list would rename");
      }
    }
    return std::nullopt;
  }

  const SqlPolicy &p_;
  const Walker &w_;
  Verdict &v_;
};

namespace {

struct ParseResult {
  PgQueryParseResult r;
  explicit ParseResult(const std::string &sql) : r(pg_query_parse(sql.c_str())) {}
  ~ParseResult() { pg_query_free_parse_result(r); }
  ParseResult(const ParseResult &) = delete;
  ParseResult &operator=(const ParseResult &) = delete;
};

std::optional<Violation> check_definition(const SqlPolicy &policy, const std::string &sql,
                                          const std::shared_ptr<const db::Catalog> &catalog,
                                          int view_depth) {
  ParseResult parsed(sql);
  if (parsed.r.error != nullptr || parsed.r.parse_tree == nullptr)
    return Violation{"views", "view", "a view's definition could not be checked (rule views)"};
  try {
    ParseTree tree(parsed.r.parse_tree);
    Walker w(catalog, view_depth);
    w.walk(tree.root().get("stmts"), 0);
    if (!w.too_deep.empty()) return Violation{"views", "view", w.too_deep + " (rule views)"};
    Verdict ignored;
    return Rules(policy, w, ignored).objects();
  } catch (const std::exception &) {
    return Violation{"views", "view", "a view's definition could not be checked (rule views)"};
  }
}

std::vector<SqlPolicy::Name> names(const std::vector<std::string> &entries, const char *key) {
  std::vector<SqlPolicy::Name> out;
  for (const auto &e : entries) {
    try {
      auto parts = db::split_name(e, 2);
      out.push_back(parts.size() == 1 ? SqlPolicy::Name{"", parts[0]}
                                      : SqlPolicy::Name{parts[0], parts[1]});
    } catch (const std::invalid_argument &ex) {
      throw std::invalid_argument(std::string(key) + ": " + ex.what() +
                                  "; write name or schema.name");
    }
  }
  return out;
}

}  // namespace

SqlPolicy::SqlPolicy(PolicyOptions options, std::string database)
    : options_(std::move(options)), database_(std::move(database)), views_(new ViewMemo) {
  blocked_tables_ = names(options_.blocked_tables, "blocked_tables");
  blocked_functions_ = names(options_.blocked_functions, "blocked_functions");
  allowed_functions_ = names(options_.allowed_functions, "allowed_functions");
  for (const auto &n : names(options_.allowed_tables, "allowed_tables")) {
    if (!denied_relation(n.name))
      throw std::invalid_argument(
          "allowed_tables: '" + n.name +
          "' is not on the built-in deny list, so there is nothing to lift");
    allowed_tables_.insert(n.name);
  }
  for (const auto &n : allowed_functions_) {
    if (denied_function(n.name) == nullptr)
      throw std::invalid_argument(
          "allowed_functions: '" + n.name +
          "' is not on the built-in deny list, so there is nothing to lift");
  }
  for (const auto &e : options_.blocked_columns) {
    try {
      auto parts = db::split_name(e, 3);
      ColumnName c;
      c.column = parts.back();
      if (parts.size() >= 2) c.table = parts[parts.size() - 2];
      if (parts.size() == 3) c.schema = parts[0];
      blocked_columns_.push_back(std::move(c));
    } catch (const std::invalid_argument &ex) {
      throw std::invalid_argument(std::string("blocked_columns: ") + ex.what() +
                                  "; write column, table.column or schema.table.column");
    }
  }
}

SqlPolicy::~SqlPolicy() = default;

bool SqlPolicy::blocks_table(const std::string &schema, const std::string &name) const {
  if (denied_relation(name) && allowed_tables_.count(name) == 0) return true;
  return std::any_of(blocked_tables_.begin(), blocked_tables_.end(),
                     [&](const Name &e) { return name_matches(e, schema, name); });
}

bool SqlPolicy::blocks_column(const std::string &schema, const std::string &table,
                              const std::string &column) const {
  return std::any_of(blocked_columns_.begin(), blocked_columns_.end(), [&](const ColumnName &e) {
    return e.column == column &&
           (e.table.empty() || name_matches({e.schema, e.table}, schema, table));
  });
}

PolicyOptions policy_options(const config::DatabaseOptions &d) {
  PolicyOptions o;
  o.allow_write = d.allow_write;
  o.allow_explain = d.allow_explain;
  o.allow_explain_analyze = d.allow_explain_analyze;
  o.blocked_tables = d.blocked_tables;
  o.blocked_columns = d.blocked_columns;
  o.blocked_functions = d.blocked_functions;
  o.allowed_functions = d.allowed_functions;
  o.allowed_tables = d.allowed_tables;
  return o;
}

Verdict SqlPolicy::check(const std::string &sql, std::shared_ptr<const db::Catalog> catalog) const {
  Verdict v;
  auto refuse = [&](std::string rule, std::string object, std::string message) {
    v.allowed = false;
    v.rule = std::move(rule);
    v.object = std::move(object);
    v.message = std::move(message);
    return v;
  };
  ParseResult parsed(sql);
  if (parsed.r.error != nullptr) {
    std::string msg = parsed.r.error->message != nullptr ? parsed.r.error->message : "syntax error";
    if (parsed.r.error->cursorpos > 0)
      msg += " (at character " + std::to_string(parsed.r.error->cursorpos) + ")";
    return refuse("syntax", "", msg + "; the statement was not run (rule syntax)");
  }
  try {
    ParseTree tree(parsed.r.parse_tree);
    Value stmts = tree.root().get("stmts");
    if (stmts.size() != 1) {
      return refuse(
          "single_statement", "",
          stmts.size() == 0
              ? "no statement: the text is empty or only a comment (rule single_statement)"
              : std::to_string(stmts.size()) +
                    " statements given; send exactly one (rule single_statement)");
    }
    Value stmt = stmts.at(0).get("stmt");
    if (!stmt.is_object() || stmt.size() != 1)
      return refuse("single_statement", "", "no statement found (rule single_statement)");
    Walker w(catalog, 0);
    w.walk(stmt, 0);
    if (!w.too_deep.empty()) return refuse("complexity", "", w.too_deep + " (rule complexity)");
    Rules rules(*this, w, v);
    auto bad = rules.statement(stmt.key(0), stmt.at(0));
    if (!bad) bad = rules.objects();
    if (bad) return refuse(bad->rule, bad->object, bad->message);
  } catch (const std::invalid_argument &e) {
    // The reader refuses only trees nested deeper than it walks.
    return refuse("complexity", "",
                  std::string("the statement could not be checked: ") + e.what() +
                      "; simplify it (rule complexity)");
  }
  v.allowed = true;
  return v;
}

}  // namespace pgmcp::sql
