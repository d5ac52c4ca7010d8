// The SQL policy's text stage, its walker: one pass over libpg_query's tree
// of a statement collects what the text alone decides (the rules are in
// policy.cpp). Internal to sql/.
#pragma once

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "sql/parse_tree.hpp"
#include "sql/policy.hpp"

namespace pgmcp::sql {

// {"String": {"sval": "x"}}: the x.
inline std::string sval(const Value &string_node) {
  return string_node.get("String").get("sval").str();
}

// Relations, columns and the functions behind operators, casts and
// aggregates are left to the server's analysis (judge.cpp); what DDL names
// is collected for the judge to resolve by name.
class Walker {
 public:
  using Func = Verdict::Named;  // a name as written: schema (or empty) and name

  std::vector<std::string> statement_types;  // nested statement nodes, outermost first
  std::vector<Func> funcs;
  // Operators (by name), type names and relations the text names: what the
  // judge resolves by name in DDL, which the server does not analyse.
  std::vector<Func> operators, types, relations, operator_classes;
  std::string unchecked_object;  // DDL on an object other than a relation
  bool select_into = false, locking = false, copy_files = false;
  bool explain_analyze = false;
  std::string internal_relation;  // a relation named in an internal schema
  std::string set_kind;           // for VariableSetStmt: "session", "local", "transaction", "role"
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
    fields(v, depth);
  }

 private:
  // A node's fields. A field whose type is a particular node (a RangeVar
  // relation, a TypeName typeName) prints without the {"Type": ...}
  // wrapper: relations and type names are known by their members.
  void fields(Value body, int depth) {
    if (body.get("relname").is_string()) relation(body);
    if (Value names = body.get("names"); names.is_array()) add_name(types, names);
    for (size_t i = 0; i < body.size(); ++i) walk(body.at(i), depth + 1);
  }

  // A dotted name as a list of strings ("app", "f"): its last two parts.
  static void add_name(std::vector<Func> &to, Value parts) {
    size_t n = parts.size();
    if (n > 0) to.push_back({n > 1 ? sval(parts.at(n - 2)) : "", sval(parts.at(n - 1))});
  }

  void relation(Value range_var) {
    std::string schema = range_var.get("schemaname").str();
    relations.push_back({schema, range_var.get("relname").str()});
    // Internal schemas: TOAST tables hold other tables' values out of line,
    // temporary schemas other sessions' tables.
    if (schema.rfind("pg_toast", 0) == 0 || schema.rfind("pg_temp", 0) == 0)
      internal_relation = schema + "." + range_var.get("relname").str();
  }

  void node(std::string_view type, Value body, int depth) {
    bool statement = type.size() > 4 && type.substr(type.size() - 4) == "Stmt";
    if (statement) statement_types.emplace_back(type);
    if (type == "FuncCall") add_name(funcs, body.get("funcname"));
    // an operator: name, or schema and name (OPERATOR(app.===))
    if (type == "A_Expr") add_name(operators, body.get("name"));
    // an index's or a partition key's operator class
    if (type == "IndexElem" || type == "PartitionElem")
      add_name(operator_classes, body.get("opclass"));
    if (type == "Constraint" && body.get("contype").str() == "CONSTR_EXCLUSION") {
      // EXCLUDE (a WITH &&): each element and the operator it is compared with
      Value pairs = body.get("exclusions");
      for (size_t i = 0; i < pairs.size(); ++i) {
        add_name(operators, pairs.at(i).get("List").get("items").at(1).get("List").get("items"));
      }
    }
    if (type == "RenameStmt" || type == "DropStmt") {
      // DDL renames or drops relations, their columns, indexes and
      // constraints; a schema, function or type renamed or dropped would
      // change what the rules' names mean
      std::string kind = body.get(type == "DropStmt" ? "removeType" : "renameType").str();
      static const char *const relation_kinds[] = {
          "OBJECT_TABLE",     "OBJECT_VIEW",          "OBJECT_MATVIEW", "OBJECT_INDEX",
          "OBJECT_SEQUENCE",  "OBJECT_FOREIGN_TABLE", "OBJECT_COLUMN",  "OBJECT_TABCONSTRAINT",
          "OBJECT_ATTRIBUTE", "OBJECT_TRIGGER",       "OBJECT_RULE",    "OBJECT_POLICY"};
      bool relation = std::any_of(std::begin(relation_kinds), std::end(relation_kinds),
                                  [&](const char *k) { return kind == k; });
      if (!relation) unchecked_object = kind.size() > 7 ? kind.substr(7) : kind;
      if (type == "DropStmt" && relation) {
        // DROP TABLE names its relations as name lists, not RangeVars
        Value objects = body.get("objects");
        for (size_t i = 0; i < objects.size(); ++i)
          add_name(relations, objects.at(i).get("List").get("items"));
      }
    }
    if (type == "SelectStmt" && body.get("intoClause").valid()) select_into = true;
    if (type == "LockingClause") locking = true;
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
};

}  // namespace pgmcp::sql
