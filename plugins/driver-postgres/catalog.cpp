#include "catalog.hpp"

namespace pgmcp::postgres {

// Three statements, sent together in one round trip; the driver reads the
// first while the server runs the next. Each has the same columns:
// kind, schema, name, table, type, definition, comment, position, not_null,
// estimated_rows, columns (text[]), ref_schema, ref_table, ref_columns (text[]),
// sort (the group the driver orders by), and for an index or a constraint
// whose columns are left NULL, their numbers (int2vector or int2[] text) and,
// for an index, how many of them are keys: the driver names them from the
// relation's column rows, which costs the server nothing (a look-up per index
// and per constraint cost it 50 ms for 2,000 tables). System schemas are
// left out. Comments are joined, one pass each, rather than looked up per
// object with obj_description (20 ms per 2,000 relations).
namespace {

// What the statements share; one that a statement does not use is not run.
const char *const kWith = R"SQL(
WITH ns AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%'
    AND nspname NOT LIKE 'pg\_temp%'
), rel AS (
  SELECT c.oid, ns.nspname, c.relname, c.relkind, c.reltuples
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
), ikey AS (
  -- Whether an index is written as pg_get_indexdef would write it from its
  -- parts alone: key columns only (no expression, predicate, options or
  -- NULLS NOT DISTINCT), each with its type's default operator class, its own
  -- collation and the default order. The rest are asked of pg_get_indexdef,
  -- whose catalog look-ups cost 25 to 40 us per index on a fresh connection.
  -- Each index's columns, side by side (the vectors count from 0; operator
  -- classes, collations and options cover the keys, not INCLUDE columns).
  SELECT i.indexrelid, i.indrelid, i.indnkeyatts,
         generate_subscripts(i.indkey::int2[], 1) AS k, unnest(i.indkey::int2[]) AS attnum,
         unnest(i.indclass::oid[]) AS opc, unnest(i.indcollation::oid[]) AS coll,
         unnest(i.indoption::int2[]) AS opt
  FROM rel JOIN pg_index i ON i.indrelid = rel.oid
  WHERE i.indexprs IS NULL AND i.indpred IS NULL AND NOT i.indnullsnotdistinct
), idx AS (
  SELECT ik.indexrelid,
    bool_and(ik.k >= ik.indnkeyatts OR (o.opcdefault AND a.atttypid = o.opcintype
             AND (ik.coll = 0 OR ik.coll = a.attcollation) AND ik.opt = 0)) AS plain,
    string_agg(quote_ident(a.attname), ', ' ORDER BY ik.k) FILTER (WHERE ik.k < ik.indnkeyatts) AS keys,
    string_agg(quote_ident(a.attname), ', ' ORDER BY ik.k) FILTER (WHERE ik.k >= ik.indnkeyatts) AS incl
  FROM ikey ik JOIN pg_attribute a ON a.attrelid = ik.indrelid AND a.attnum = ik.attnum
  LEFT JOIN pg_opclass o ON o.oid = ik.opc
  GROUP BY ik.indexrelid
)
)SQL";

// Schemas and relations.
const char *const kRelations = R"SQL(
SELECT 0 AS kind, nspname, nspname, NULL, NULL, NULL, sd.description,
       0, false, -1::float8, NULL::text[], NULL, NULL, NULL::text[], 0 AS sort, NULL, 0
FROM ns LEFT JOIN pg_description sd ON sd.objoid = ns.oid
  AND sd.classoid = 'pg_namespace'::regclass AND sd.objsubid = 0
UNION ALL
SELECT CASE relkind WHEN 'v' THEN 2 WHEN 'm' THEN 3 WHEN 'f' THEN 4 WHEN 'S' THEN 7 ELSE 1 END,
       nspname, relname, NULL, NULL,
       CASE WHEN relkind IN ('v', 'm') THEN pg_get_viewdef(rel.oid) END,
       rd.description, 0, false, reltuples::float8, NULL, NULL, NULL, NULL, 1, NULL, 0
FROM rel LEFT JOIN pg_description rd ON rd.objoid = rel.oid
  AND rd.classoid = 'pg_class'::regclass AND rd.objsubid = 0
)SQL";

// Columns.
const char *const kColumns = R"SQL(
SELECT 5, rel.nspname, a.attname, rel.relname, format_type(a.atttypid, a.atttypmod),
       pg_get_expr(d.adbin, d.adrelid), de.description, a.attnum, a.attnotnull,
       -1, NULL, NULL, NULL, NULL, 2, NULL, 0
FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
-- joined rather than col_description() per column: one pass, not one look-up each
LEFT JOIN pg_description de ON de.objoid = a.attrelid AND de.classoid = 'pg_class'::regclass
                           AND de.objsubid = a.attnum
WHERE rel.relkind IN ('r', 'p', 'v', 'm', 'f')
)SQL";

// Indexes, constraints, functions, enums.
const char *const kOthers = R"SQL(
SELECT 6, rel.nspname, ic.relname, rel.relname, am.amname,
       CASE WHEN idx.plain AND ic.reloptions IS NULL THEN
         'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
         || quote_ident(ic.relname) || ' ON ' || CASE WHEN rel.relkind = 'p' THEN 'ONLY ' ELSE '' END
         || quote_ident(rel.nspname) || '.' || quote_ident(rel.relname) || ' USING '
         || quote_ident(am.amname) || ' (' || idx.keys || ')'
         || COALESCE(' INCLUDE (' || idx.incl || ')', '')
       ELSE pg_get_indexdef(i.indexrelid) END, NULL, 0, i.indisunique,
       -1,
       -- with expressions: a key column by its name, an expression as
       -- pg_get_indexdef writes it (its columns count from 1; the vector's
       -- subscripts from 0); without, the driver names the numbers
       CASE WHEN i.indexprs IS NOT NULL THEN
       ARRAY(SELECT CASE WHEN i.indkey[k] <> 0 THEN ka.attname::text
                         ELSE pg_get_indexdef(i.indexrelid, k + 1, true) END
             FROM generate_subscripts(i.indkey, 1) k
             LEFT JOIN pg_attribute ka ON ka.attrelid = i.indrelid AND ka.attnum = i.indkey[k]
             WHERE k < i.indnkeyatts ORDER BY k) END,
       NULL, NULL, NULL, 3, CASE WHEN i.indexprs IS NULL THEN i.indkey::text END, i.indnkeyatts
FROM rel JOIN pg_index i ON i.indrelid = rel.oid
JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN idx ON idx.indexrelid = i.indexrelid
UNION ALL
SELECT 10, rel.nspname, con.conname, rel.relname,
       CASE con.contype WHEN 'p' THEN 'primary_key' WHEN 'f' THEN 'foreign_key' WHEN 'u' THEN 'unique'
                        WHEN 'c' THEN 'check' ELSE 'exclusion' END,
       -- a key's as pg_get_constraintdef writes it, from its index's columns
       CASE WHEN con.contype IN ('p', 'u') AND cidx.keys IS NOT NULL THEN
         CASE con.contype WHEN 'p' THEN 'PRIMARY KEY (' ELSE 'UNIQUE (' END || cidx.keys || ')'
         || COALESCE(' INCLUDE (' || cidx.incl || ')', '')
         || CASE WHEN con.condeferrable THEN ' DEFERRABLE' ELSE '' END
         || CASE WHEN con.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END
         || CASE WHEN NOT con.convalidated THEN ' NOT VALID' ELSE '' END
       ELSE pg_get_constraintdef(con.oid) END, cd.description, 0, false, -1, NULL,
       fns.nspname, fc.relname,
       CASE WHEN con.contype = 'f' THEN
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o) END,
       4, COALESCE(con.conkey::text, '{}'), 0
FROM rel JOIN pg_constraint con ON con.conrelid = rel.oid
LEFT JOIN pg_description cd ON cd.objoid = con.oid AND cd.classoid = 'pg_constraint'::regclass
  AND cd.objsubid = 0
LEFT JOIN idx cidx ON cidx.indexrelid = con.conindid
LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fns ON fns.oid = fc.relnamespace
WHERE con.contype IN ('p', 'f', 'u', 'c', 'x')
UNION ALL
SELECT 8, ns.nspname, p.proname, NULL, pg_get_function_result(p.oid), pg_get_function_identity_arguments(p.oid),
       fd.description, 0, false, -1, NULL, NULL, NULL, NULL, 5, NULL, 0
FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
LEFT JOIN pg_description fd ON fd.objoid = p.oid AND fd.classoid = 'pg_proc'::regclass
  AND fd.objsubid = 0
WHERE p.prokind IN ('f', 'p', 'a', 'w')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 9, ns.nspname, t.typname, NULL, 'enum',
       (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
       ed.description, 0, false, -1, NULL, NULL, NULL, NULL, 6, NULL, 0
FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
LEFT JOIN pg_description ed ON ed.objoid = t.oid AND ed.classoid = 'pg_type'::regclass
  AND ed.objsubid = 0
WHERE t.typtype = 'e'
)SQL";

}  // namespace

const std::array<std::string, 3> &catalog_queries() {
  static const std::array<std::string, 3> queries = {
      std::string(kWith) + kRelations, std::string(kWith) + kColumns, std::string(kWith) + kOthers};
  return queries;
}

}  // namespace pgmcp::postgres
