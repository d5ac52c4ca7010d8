// The schema cache: the catalog of one database held in memory, loaded in one
// round trip, refreshed when older than schema_ttl_s or on demand. Tools,
// resources and (later) the SQL policy read it without touching the server.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/names.hpp"
#include "db/database.hpp"

namespace pgmcp::db {

struct ColumnInfo {
  std::string name, type, default_value, comment;
  int position = 0;
  bool not_null = false;
  // Its most common values, with [database.NAME] sample_values (text
  // columns of few distinct values only).
  std::vector<std::string> common_values;
};

struct ConstraintInfo {
  std::string name, type, definition;  // type: primary_key, foreign_key, unique, check, exclusion
  std::vector<std::string> columns;
  std::string ref_schema, ref_table;
  std::vector<std::string> ref_columns;
};

struct IndexInfo {
  std::string name, method, definition;
  bool unique = false;
  std::vector<std::string> columns;
};

struct Relation {
  std::string schema, name, kind, comment,
      definition;  // kind: table, view, materialized_view, foreign_table, sequence
  double estimated_rows = -1;
  std::vector<ColumnInfo> columns;
  std::vector<ConstraintInfo> constraints;
  std::vector<IndexInfo> indexes;
};

struct Routine {
  std::string schema, name, result, arguments, comment;
};

struct EnumType {
  std::string schema, name, labels, comment;
};

struct SchemaEntry {
  std::string name, comment;
};

// What the SQL policy needs to judge the server's analysis of a statement,
// keyed by OID as the server's query tree names things.
struct PolicyFacts {
  struct Function {
    std::string schema, name, extension;
    bool builtin = false;  // shipped with PostgreSQL (OID below FirstNormalObjectId)
  };
  struct Rel {
    std::string schema, name, extension;
    char kind = 0;  // pg_class.relkind
    bool builtin = false;
    std::vector<std::string> columns;         // by attnum - 1; empty where dropped
    std::vector<uint32_t> parents, children;  // inheritance and partitions
    // Views and materialized views: the (relation, attnum) their query reads;
    // attnum 0 is the whole row.
    std::vector<std::pair<uint32_t, long long>> reads;
  };
  std::unordered_map<uint32_t, Function> functions;
  std::unordered_map<uint32_t, uint32_t> operator_function;  // pg_operator.oprcode
  // Operators in btree or hash families with support functions not built in:
  // those functions, which a sort or a hash through the operator calls.
  std::unordered_map<uint32_t, std::vector<uint32_t>> operator_support;
  // Aggregates: their transition, final, combine, (de)serial and moving functions.
  std::unordered_map<uint32_t, std::vector<uint32_t>> aggregate_functions;
  // Types not shipped with PostgreSQL: the functions their values call (I/O,
  // domain checks and defaults, range support) and the types they build on
  // (base, element, range subtype, a row type's columns).
  std::unordered_map<uint32_t, std::vector<uint32_t>> type_functions, type_types;
  // The functions of a type's default btree and hash classes, which an
  // array, a range or a row holding its values compares and hashes them with.
  std::unordered_map<uint32_t, std::vector<uint32_t>> type_compare;
  // (schema, name) of operators and of types not shipped with PostgreSQL:
  // DDL, which the server does not analyse before running, names them.
  std::unordered_map<uint32_t, std::pair<std::string, std::string>> operator_names, type_names;
  std::unordered_map<uint32_t, std::vector<uint32_t>> operator_operands;  // left, right (0: none)
  // Operator classes not shipped with PostgreSQL (what their families call),
  // and casts to a type (by the type's name) through functions not shipped
  // with it: DDL names a class or a column's new type, and runs them.
  struct NamedCode {
    std::string schema, name;
    std::vector<uint32_t> functions;
  };
  std::vector<NamedCode> operator_classes, casts;
  std::unordered_map<uint32_t, Rel> relations;
};

struct Catalog {
  std::vector<SchemaEntry> schemas;
  PolicyFacts facts;  // what the SQL policy needs beyond the user-visible objects
  std::vector<Relation> relations;
  std::vector<Routine> functions;
  std::vector<EnumType> enums;
  std::chrono::steady_clock::time_point loaded_at;
  std::chrono::system_clock::time_point loaded_wall;
  double load_ms = 0;

  const Relation *find(const std::string &schema, const std::string &name) const;
  // Relations called `name` in any schema.
  std::vector<const Relation *> find_any(const std::string &name) const;
  std::string fingerprint() const;  // changes when the set of objects changes
  // Adds a relation (replacing one of the same schema and name); returns it.
  Relation &add(Relation r);

 private:
  friend class SchemaCache;
  std::map<std::pair<std::string, std::string>, size_t> index_;
};

class SchemaCache {
 public:
  explicit SchemaCache(Database &db) : db_(db) {}
  // The catalog, loading or refreshing it first when missing or stale. Throws DbError.
  std::shared_ptr<const Catalog> get();
  // Reloads now; returns true when the set of objects changed.
  bool refresh();
  // Seconds since the last load, or -1 before the first.
  double age_seconds();
  // The cached catalog without loading (may be null).
  std::shared_ptr<const Catalog> peek();

 private:
  std::shared_ptr<Catalog> load();
  void load_policy_facts(Catalog &c);
  void load_common_values(Catalog &c);
  Database &db_;
  std::mutex mutex_;       // guards current_
  std::mutex load_mutex_;  // one load at a time
  std::shared_ptr<const Catalog> current_;
};

// The catalog query behind Catalog::facts (one statement, text columns).
const char *policy_facts_sql();

// Reads the rows of policy_facts_sql() into facts, one row at a time as the
// driver hands them. Throws std::exception on a malformed row.
class PolicyFactsReader {
 public:
  explicit PolicyFactsReader(PolicyFacts &facts) : facts_(facts) {}
  void row(const RowText &row);
  // Links what rows named by OID (inheritance, view reads); call once, last.
  void finish();

 private:
  PolicyFacts &facts_;
  std::vector<std::pair<uint32_t, uint32_t>> inherits_;
  std::vector<std::pair<uint32_t, std::pair<uint32_t, long long>>> reads_;
};

using config::parse_qualified_name;
using config::split_name;

}  // namespace pgmcp::db
