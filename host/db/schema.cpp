#include "db/schema.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <future>

#include "log/log.hpp"

namespace pgmcp::db {

const Relation *Catalog::find(const std::string &schema, const std::string &name) const {
  auto it = index_.find({schema, name});
  return it == index_.end() ? nullptr : &relations[it->second];
}

std::vector<const Relation *> Catalog::find_any(const std::string &name) const {
  std::vector<const Relation *> out;
  for (const auto &r : relations)
    if (r.name == name) out.push_back(&r);
  return out;
}

Relation &Catalog::add(Relation r) {
  auto it = index_.find({r.schema, r.name});
  if (it != index_.end()) return relations[it->second] = std::move(r);
  index_[{r.schema, r.name}] = relations.size();
  relations.push_back(std::move(r));
  return relations.back();
}

std::string Catalog::fingerprint() const {
  std::size_t h = relations.size();
  auto mix = [&](const std::string &s) { h = h * 1000003u ^ std::hash<std::string>{}(s); };
  for (const auto &r : relations) {
    mix(r.schema);
    mix(r.name);
    for (const auto &c : r.columns) {
      mix(c.name);
      mix(c.type);
    }
  }
  return std::to_string(h);
}

namespace {

std::string str(const char *s) { return s != nullptr ? s : ""; }

std::vector<std::string> list(const char *const *items, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(str(items[i]));
  return out;
}

const char *relation_kind(pgmcp_object_kind k) {
  switch (k) {
    case PGMCP_OBJECT_VIEW:
      return "view";
    case PGMCP_OBJECT_MATERIALIZED_VIEW:
      return "materialized_view";
    case PGMCP_OBJECT_FOREIGN_TABLE:
      return "foreign_table";
    case PGMCP_OBJECT_SEQUENCE:
      return "sequence";
    default:
      return "table";
  }
}

// What the SQL policy needs to judge the server's analysis of a statement,
// by OID: every function (with its extension); every operator's function,
// its btree and hash families' support functions and its name; aggregates'
// support functions; what values of types not shipped with PostgreSQL call,
// what they are built of (a row type's columns too), what their default
// classes compare them with, and their names; and every relation with its
// columns by attnum (dropped ones empty) and its inheritance. Names serve
// DDL, which the server does not analyse. Temporary relations are left out:
// no statement may read them.
const char *const kPolicyFactsQuery = R"SQL(
SELECT 'f', p.oid::text, n.nspname::text, p.proname::text, (p.oid < 16384)::text, e.extname::text, NULL
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
  AND d.deptype = 'e'
LEFT JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
UNION ALL
SELECT 'o', o.oid::text, o.oprcode::oid::text, fam.procs, o.oprname::text, opn.nspname::text,
  concat_ws(',', o.oprleft::oid, o.oprright::oid)
FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace opn ON opn.oid = o.oprnamespace
-- what a sort or a hash through the operator calls besides it: the support
-- functions of the btree and hash families it is in, where not built in
LEFT JOIN (SELECT a.amopopr, string_agg(DISTINCT p.amproc::oid::text, ',') AS procs
  FROM pg_catalog.pg_amop a JOIN pg_catalog.pg_am m ON m.oid = a.amopmethod
  JOIN pg_catalog.pg_amproc p ON p.amprocfamily = a.amopfamily
  WHERE m.amname IN ('btree', 'hash') AND p.amproc::oid >= 16384
  GROUP BY a.amopopr) fam ON fam.amopopr = o.oid
UNION ALL
-- operator classes and casts not shipped with PostgreSQL, by name, with the
-- functions they call: DDL that names them (an index's class, a column's new
-- type) runs those functions as it runs
SELECT 'c', c.oid::text, string_agg(DISTINCT f.fn::text, ','), c.opcname::text, n.nspname::text,
  NULL, NULL
FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
CROSS JOIN LATERAL (SELECT p.amproc::oid FROM pg_catalog.pg_amproc p
  WHERE p.amprocfamily = c.opcfamily
  UNION ALL SELECT o.oprcode::oid FROM pg_catalog.pg_amop a
  JOIN pg_catalog.pg_operator o ON o.oid = a.amopopr WHERE a.amopfamily = c.opcfamily) f(fn)
WHERE c.oid >= 16384 GROUP BY c.oid, c.opcname, n.nspname
UNION ALL
SELECT 'k', k.castfunc::oid::text, NULL, t.typname::text, n.nspname::text, NULL, NULL
FROM pg_catalog.pg_cast k JOIN pg_catalog.pg_type t ON t.oid = k.casttarget
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE k.castfunc::oid >= 16384
UNION ALL
SELECT 'a', a.aggfnoid::oid::text, concat_ws(',', NULLIF(a.aggtransfn::oid, 0),
  NULLIF(a.aggfinalfn::oid, 0), NULLIF(a.aggcombinefn::oid, 0), NULLIF(a.aggserialfn::oid, 0),
  NULLIF(a.aggdeserialfn::oid, 0), NULLIF(a.aggmtransfn::oid, 0), NULLIF(a.aggminvtransfn::oid, 0),
  NULLIF(a.aggmfinalfn::oid, 0), NULLIF((SELECT o.oprcode::oid FROM pg_catalog.pg_operator o
  WHERE o.oid = a.aggsortop), 0)), NULL, NULL, NULL, NULL
FROM pg_catalog.pg_aggregate a
UNION ALL
SELECT 't', t.oid::text, concat_ws(',', NULLIF(t.typinput::oid, 0), NULLIF(t.typoutput::oid, 0),
  NULLIF(t.typreceive::oid, 0), NULLIF(t.typsend::oid, 0), NULLIF(t.typmodin::oid, 0),
  NULLIF(t.typmodout::oid, 0), NULLIF(t.typsubscript::oid, 0),
  (SELECT string_agg(d.refobjid::text, ',') FROM pg_catalog.pg_depend d
   WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid
     AND d.refclassid = 'pg_catalog.pg_proc'::regclass),
  dom.functions),
  concat_ws(',', NULLIF(t.typbasetype, 0), NULLIF(t.typelem, 0),
  (SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid), cols.types),
  cmp.functions, t.typname::text, tn.nspname::text
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
-- domains' check functions, gathered once: a look-up per type took 0.05 ms
-- each, 0.2 s for a catalog of 2,000 tables (each has two types)
LEFT JOIN (SELECT c.contypid, string_agg(d.refobjid::text, ',') AS functions
  FROM pg_catalog.pg_constraint c
  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_constraint'::regclass
    AND d.objid = c.oid AND d.refclassid = 'pg_catalog.pg_proc'::regclass
  WHERE c.contypid <> 0 GROUP BY c.contypid) dom ON dom.contypid = t.oid
-- a row type's columns of types not shipped with PostgreSQL (each column
-- depends on its type unless the type is built in): a whole row calls
-- their functions. Through pg_depend's index: a scan of pg_attribute took
-- 26 ms for 2,000 tables, this 2.
LEFT JOIN (SELECT d.objid, string_agg(DISTINCT d.refobjid::text, ',') AS types
  FROM pg_catalog.pg_depend d
  WHERE d.refclassid = 'pg_catalog.pg_type'::regclass AND d.refobjid >= 16384
    AND d.classid = 'pg_catalog.pg_class'::regclass AND d.objsubid > 0
  GROUP BY d.objid) cols ON cols.objid = t.typrelid AND t.typrelid <> 0
-- what an array, a range or a row of its values compares and hashes them
-- with, no operator in sight: its default btree and hash classes' support
-- functions and operators
LEFT JOIN (SELECT c.opcintype, string_agg(DISTINCT f.fn::text, ',') AS functions
  FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_am m ON m.oid = c.opcmethod
  CROSS JOIN LATERAL (SELECT p.amproc::oid FROM pg_catalog.pg_amproc p
    WHERE p.amprocfamily = c.opcfamily AND p.amproclefttype = c.opcintype
    UNION ALL SELECT o.oprcode::oid FROM pg_catalog.pg_amop a
    JOIN pg_catalog.pg_operator o ON o.oid = a.amopopr
    WHERE a.amopfamily = c.opcfamily AND a.amoplefttype = c.opcintype
      AND a.amoprighttype = c.opcintype) f(fn)
  WHERE c.opcdefault AND c.opcintype >= 16384 AND m.amname IN ('btree', 'hash')
  GROUP BY c.opcintype) cmp ON cmp.opcintype = t.oid
WHERE t.oid >= 16384
UNION ALL
SELECT 'r', c.oid::text, n.nspname::text, c.relname::text,
  c.relkind::text || CASE WHEN c.oid < 16384 THEN 'b' ELSE '' END, e.extname::text,
  CASE WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f') THEN
  -- in the index's order (json_agg(... ORDER BY) sorts each relation's anew:
  -- 35 against 23 ms for 2,000 relations of 20 columns)
  pg_catalog.array_to_json(ARRAY(SELECT CASE WHEN a.attisdropped THEN '' ELSE a.attname::text END
   FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
   ORDER BY a.attnum))::text END
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
  AND d.deptype = 'e'
LEFT JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 't') AND c.relpersistence <> 't'
UNION ALL
SELECT 'i', i.inhrelid::text, i.inhparent::text, NULL, NULL, NULL, NULL FROM pg_catalog.pg_inherits i
UNION ALL
SELECT 'd', r.ev_class::text, d.refobjid::text, d.refobjsubid::text, NULL, NULL, NULL
FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
  AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> r.ev_class
WHERE c.relkind IN ('v', 'm') AND c.oid >= 16384
)SQL";

std::vector<uint32_t> oid_list(const std::string &text) {
  std::vector<uint32_t> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t comma = text.find(',', i);
    if (comma == std::string::npos) comma = text.size();
    if (comma > i) out.push_back(static_cast<uint32_t>(std::stoul(text.substr(i, comma - i))));
    i = comma + 1;
  }
  return out;
}

}  // namespace

const char *policy_facts_sql() { return kPolicyFactsQuery; }

void SchemaCache::load_policy_facts(Catalog &c) {
  // Each row is read as it arrives, from the driver's text: no JSON between.
  PolicyFactsReader reader(c.facts);
  QueryResult r = db_.internal(kPolicyFactsQuery, {10000000, 1024LL * 1024 * 1024},
                               [&](const RowText &row) { reader.row(row); });
  if (r.truncated) throw DbError(PGMCP_ERR_INTERNAL, "the catalog's policy facts were truncated");
  reader.finish();
}

// The most common values of columns with few distinct values, as PostgreSQL's
// statistics keep them (pg_stats shows only columns the role may read; no
// table is scanned). Columns that are not text are left out by the caller.
constexpr const char *kCommonValuesQuery = R"SQL(
SELECT s.schemaname, s.tablename, s.attname, u.v
FROM pg_stats s, LATERAL unnest(s.most_common_vals::text::text[]) WITH ORDINALITY AS u(v, n)
WHERE s.n_distinct BETWEEN 1 AND 50 AND u.n <= 20 AND length(u.v) <= 60
  AND s.schemaname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2, 3, u.n
)SQL";

void SchemaCache::load_common_values(Catalog &c) {
  auto is_text = [](const std::string &type) {
    return type == "text" || type.rfind("character", 0) == 0 || type == "citext" || type == "name";
  };
  try {
    db_.internal(kCommonValuesQuery, {200000, 16LL * 1024 * 1024}, [&](const RowText &row) {
      if (row.size() < 4 || !row[0] || !row[1] || !row[2] || !row[3]) return;
      auto it = c.index_.find({std::string(*row[0]), std::string(*row[1])});
      if (it == c.index_.end()) return;
      for (auto &col : c.relations[it->second].columns) {
        if (col.name != *row[2] || !is_text(col.type)) continue;
        std::string v(*row[3]);
        if (std::find(col.common_values.begin(), col.common_values.end(), v) ==
            col.common_values.end())
          col.common_values.push_back(std::move(v));
      }
    });
  } catch (const DbError &e) {  // a convenience: the schema serves without it
    log::warning("db", "database '" + db_.name() +
                           "': reading common values from pg_stats failed: " + e.what());
  }
}

void PolicyFactsReader::row(const RowText &row) {
  auto text = [&](size_t i) {
    return i < row.size() && row[i] ? std::string(*row[i]) : std::string();
  };
  auto oid = [&](size_t i) { return static_cast<uint32_t>(std::stoul(text(i))); };
  std::string kind = text(0);
  PolicyFacts &f = facts_;
  if (kind == "f") {
    f.functions[oid(1)] = {text(2), text(3), text(5), text(4) == "true"};
  } else if (kind == "o") {
    f.operator_function[oid(1)] = oid(2);
    if (!text(3).empty()) f.operator_support[oid(1)] = oid_list(text(3));
    f.operator_names[oid(1)] = {text(5), text(4)};
    f.operator_operands[oid(1)] = oid_list(text(6));
  } else if (kind == "c") {
    f.operator_classes.push_back({text(4), text(3), oid_list(text(2))});
  } else if (kind == "k") {
    f.casts.push_back({text(4), text(3), {oid(1)}});
  } else if (kind == "a") {
    f.aggregate_functions[oid(1)] = oid_list(text(2));
  } else if (kind == "t") {
    f.type_functions[oid(1)] = oid_list(text(2));
    f.type_types[oid(1)] = oid_list(text(3));
    if (!text(4).empty()) f.type_compare[oid(1)] = oid_list(text(4));
    f.type_names[oid(1)] = {text(6), text(5)};
  } else if (kind == "r") {
    PolicyFacts::Rel rel;
    rel.schema = text(2);
    rel.name = text(3);
    std::string k = text(4);
    rel.kind = k.empty() ? 0 : k[0];
    rel.builtin = k.size() > 1;
    rel.extension = text(5);
    if (row.size() > 6 && row[6])  // the column names, a JSON array of strings
      for (const auto &col : nlohmann::json::parse(*row[6])) rel.columns.push_back(col);
    f.relations[oid(1)] = std::move(rel);
  } else if (kind == "i") {
    inherits_.emplace_back(oid(1), oid(2));
  } else if (kind == "d") {
    reads_.push_back({oid(1), {oid(2), std::stoll(text(3))}});
  }
}

void PolicyFactsReader::finish() {
  PolicyFacts &f = facts_;
  for (auto &[view, read] : reads_) {
    auto it = f.relations.find(view);
    if (it != f.relations.end()) it->second.reads.push_back(read);
  }
  for (auto [child, parent] : inherits_) {
    auto c_it = f.relations.find(child), p_it = f.relations.find(parent);
    if (c_it == f.relations.end() || p_it == f.relations.end()) continue;
    c_it->second.parents.push_back(parent);
    p_it->second.children.push_back(child);
  }
  reads_.clear();
  inherits_.clear();
}

std::shared_ptr<Catalog> SchemaCache::load() {
  auto c = std::make_shared<Catalog>();
  auto start = std::chrono::steady_clock::now();
  auto ms_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  };
  double facts_ms = 0;  // each phase's end, from the start
  // The policy's facts come from a query of their own: on a second
  // connection, while the driver describes the catalog on the first.
  std::future<PolicyFacts> facts;
  if (db_.options().pool_max >= 2)
    facts = std::async(std::launch::async, [this, start, ms_since, &facts_ms] {
      Catalog apart;
      load_policy_facts(apart);
      facts_ms = ms_since(start);
      return std::move(apart.facts);
    });
  std::size_t last = SIZE_MAX;  // the relation the last column, index or constraint was of
  db_.describe([&](const pgmcp_schema_object &o) {
    switch (o.kind) {
      case PGMCP_OBJECT_SCHEMA:
        c->schemas.push_back({str(o.name), str(o.comment)});
        break;
      case PGMCP_OBJECT_TABLE:
      case PGMCP_OBJECT_VIEW:
      case PGMCP_OBJECT_MATERIALIZED_VIEW:
      case PGMCP_OBJECT_FOREIGN_TABLE:
      case PGMCP_OBJECT_SEQUENCE: {
        Relation r;
        r.schema = str(o.schema);
        r.name = str(o.name);
        r.kind = relation_kind(o.kind);
        r.comment = str(o.comment);
        r.definition = str(o.definition);
        r.estimated_rows = o.estimated_rows;
        c->add(std::move(r));
        break;
      }
      case PGMCP_OBJECT_COLUMN:
      case PGMCP_OBJECT_INDEX:
      case PGMCP_OBJECT_CONSTRAINT: {
        // A relation's objects come together: the last one found is the
        // likely one (positions, since relations only grow at the end).
        const char *schema = o.schema != nullptr ? o.schema : "";
        const char *table = o.table != nullptr ? o.table : "";
        if (last >= c->relations.size() || c->relations[last].schema != schema ||
            c->relations[last].name != table) {
          auto it = c->index_.find({schema, table});
          if (it == c->index_.end()) break;
          last = it->second;
        }
        Relation &r = c->relations[last];
        if (o.kind == PGMCP_OBJECT_COLUMN) {
          r.columns.push_back({str(o.name), str(o.type), str(o.definition), str(o.comment),
                               o.position, o.not_null != 0});
        } else if (o.kind == PGMCP_OBJECT_INDEX) {
          // A driver before ABI 1.2 says "unique" in not_null.
          bool unique = PGMCP_HAS_FIELD(pgmcp_schema_object, o.struct_size, unique)
                            ? o.unique != 0
                            : o.not_null != 0;
          r.indexes.push_back({str(o.name), str(o.type), str(o.definition), unique,
                               list(o.columns, o.column_count)});
        } else {
          r.constraints.push_back({str(o.name), str(o.type), str(o.definition),
                                   list(o.columns, o.column_count), str(o.ref_schema),
                                   str(o.ref_table), list(o.ref_columns, o.ref_column_count)});
        }
        break;
      }
      case PGMCP_OBJECT_FUNCTION:
        c->functions.push_back(
            {str(o.schema), str(o.name), str(o.type), str(o.definition), str(o.comment)});
        break;
      case PGMCP_OBJECT_ENUM:
        c->enums.push_back({str(o.schema), str(o.name), str(o.definition), str(o.comment)});
        break;
      default:
        break;
    }
  });
  double described_ms = ms_since(start);
  if (facts.valid()) {
    c->facts = facts.get();
  } else {
    load_policy_facts(*c);
    facts_ms = ms_since(start);
  }
  if (db_.options().sample_values) load_common_values(*c);
  c->loaded_at = std::chrono::steady_clock::now();
  c->loaded_wall = std::chrono::system_clock::now();
  c->load_ms = std::chrono::duration<double, std::milli>(c->loaded_at - start).count();
  log::debug("db", "schema of '" + db_.name() + "' loaded: " + std::to_string(c->relations.size()) +
                       " relations in " + std::to_string(static_cast<int>(c->load_ms)) +
                       " ms (described at " + std::to_string(static_cast<int>(described_ms)) +
                       " ms, policy facts at " + std::to_string(static_cast<int>(facts_ms)) +
                       " ms)");
  return c;
}

std::shared_ptr<const Catalog> SchemaCache::get() {
  {
    std::lock_guard lock(mutex_);
    if (current_ && std::chrono::steady_clock::now() - current_->loaded_at <
                        std::chrono::seconds(db_.options().schema_ttl_s)) {
      return current_;
    }
  }
  std::lock_guard load_lock(load_mutex_);
  {
    std::lock_guard lock(mutex_);  // someone else may have loaded it meanwhile
    if (current_ && std::chrono::steady_clock::now() - current_->loaded_at <
                        std::chrono::seconds(db_.options().schema_ttl_s)) {
      return current_;
    }
  }
  try {
    auto fresh = load();
    std::lock_guard lock(mutex_);
    current_ = fresh;
    return current_;
  } catch (const DbError &) {
    std::lock_guard lock(mutex_);
    if (current_) return current_;  // stale beats nothing while the server is away
    throw;
  }
}

bool SchemaCache::refresh() {
  std::lock_guard load_lock(load_mutex_);
  auto fresh = load();
  std::lock_guard lock(mutex_);
  bool changed = !current_ || current_->fingerprint() != fresh->fingerprint();
  current_ = fresh;
  return changed;
}

double SchemaCache::age_seconds() {
  std::lock_guard lock(mutex_);
  if (!current_) return -1;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - current_->loaded_at)
      .count();
}

std::shared_ptr<const Catalog> SchemaCache::peek() {
  std::lock_guard lock(mutex_);
  return current_;
}

}  // namespace pgmcp::db
