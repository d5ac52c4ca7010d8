#include "tools/common.hpp"

#include "core/json_text.hpp"
#include "db/values.hpp"

#include <algorithm>
#include <cctype>

#include "sql/gate.hpp"

namespace pgmcp::tools {

mcp::Tool named(std::string name, std::string title, std::string description) {
  mcp::Tool t;
  t.name = std::move(name);
  t.title = std::move(title);
  t.description = std::move(description);
  return t;
}

const json kDatabaseArg = {
    {"type", "string"},
    {"description",
     "The database to use; optional when only one is configured (see list_databases)."}};

// The cached catalog for a tool; a database error becomes the tool's error.
std::shared_ptr<const db::Catalog> catalog_for(const DatabaseEntry &e) {
  try {
    return e.schema->get();
  } catch (const db::DbError &err) {
    throw ToolError(err.describe());
  }
}

// Checks sql with the database's policy and runs it; a refusal ("blocked
// column users.password (rule blocked_columns)"), a catalog that cannot be
// loaded or a database error becomes the tool's error.
db::QueryResult checked_query(const DatabaseEntry &e, const std::string &sql,
                              const std::vector<std::optional<std::string>> &params,
                              db::QueryLimits limits, RequestContext &ctx, bool reads_only) {
  try {
    return sql::Gate::run(sql, params, limits, *e.db, *e.schema, *e.policy, &ctx,
                          {reads_only, false});
  } catch (const sql::Rejected &r) {
    throw ToolError(r.verdict.message + "; nothing was run");
  } catch (const db::DbError &err) {
    throw ToolError(err.describe());
  }
}

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

// Case-insensitive match: a plain substring, or a LIKE pattern with % and _.
bool matches(const std::string &value, const std::string &pattern) {
  if (pattern.empty()) return true;
  std::string v = lower(value), p = lower(pattern);
  if (p.find_first_of("%_") == std::string::npos) return v.find(p) != std::string::npos;
  // LIKE: iterative wildcard match
  size_t vi = 0, pi = 0, star = std::string::npos, mark = 0;
  while (vi < v.size()) {
    if (pi < p.size() && (p[pi] == '_' || p[pi] == v[vi])) {
      ++vi;
      ++pi;
    } else if (pi < p.size() && p[pi] == '%') {
      star = pi++;
      mark = vi;
    } else if (star != std::string::npos) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

json columns_json(const db::Relation &r) {
  json cols = json::array();
  for (const auto &c : r.columns) {
    json col = {{"name", c.name}, {"type", c.type}, {"nullable", !c.not_null}};
    col["default"] = c.default_value.empty() ? json(nullptr) : json(c.default_value);
    col["comment"] = c.comment.empty() ? json(nullptr) : json(c.comment);
    cols.push_back(std::move(col));
  }
  return cols;
}

json describe_relation(const db::Catalog &catalog, const db::Relation &r,
                       const std::string &database) {
  json out = {
      {"database", database},
      {"schema", r.schema},
      {"name", r.name},
      {"kind", r.kind},
      {"comment", r.comment.empty() ? json(nullptr) : json(r.comment)},
      {"estimated_rows",
       r.estimated_rows < 0 ? json(nullptr) : json(static_cast<long long>(r.estimated_rows))},
      {"columns", columns_json(r)}};
  json pk = nullptr, fks = json::array(), uniques = json::array(), indexes = json::array(),
       refs = json::array();
  for (const auto &c : r.constraints) {
    if (c.type == "primary_key")
      pk = c.columns;
    else if (c.type == "unique")
      uniques.push_back({{"name", c.name}, {"columns", c.columns}});
    else if (c.type == "foreign_key")
      fks.push_back(
          {{"name", c.name},
           {"columns", c.columns},
           {"references",
            {{"schema", c.ref_schema}, {"table", c.ref_table}, {"columns", c.ref_columns}}}});
  }
  for (const auto &other : catalog.relations) {
    for (const auto &c : other.constraints) {
      if (c.type == "foreign_key" && c.ref_schema == r.schema && c.ref_table == r.name) {
        refs.push_back({{"schema", other.schema},
                        {"table", other.name},
                        {"name", c.name},
                        {"columns", c.columns},
                        {"referenced_columns", c.ref_columns}});
      }
    }
  }
  for (const auto &i : r.indexes)
    indexes.push_back({{"name", i.name},
                       {"columns", i.columns},
                       {"unique", i.unique},
                       {"method", i.method},
                       {"definition", i.definition}});
  out["primary_key"] = pk;
  out["foreign_keys"] = fks;
  out["referenced_by"] = refs;
  out["unique_constraints"] = uniques;
  out["indexes"] = indexes;
  if (!r.definition.empty()) out["definition"] = r.definition;
  return out;
}

std::vector<std::string> table_text(db::QueryResult &r, const std::string &first_line) {
  std::string head;
  if (!first_line.empty()) {
    core::append_json_escaped(head, first_line);
    head += "\\n";
  }
  for (std::size_t i = 0; i < r.columns.size(); ++i) {
    if (i > 0) head += "\\t";
    db::append_cell_text(head, r.columns[i].value("name", std::string()));
  }
  head += "\\n";
  std::string last = "(" + std::to_string(r.row_count) + (r.row_count == 1 ? " row" : " rows");
  if (r.truncated_by == "max_rows")
    last +=
        "; cut at max_rows: the result has more. Filter, aggregate or add LIMIT to see what "
        "matters";
  else if (r.truncated_by == "max_result_bytes")
    last +=
        "; cut at max_result_bytes: the next row did not fit. Select fewer or narrower "
        "columns, or fewer rows";
  last += "; tab-separated, \\N is NULL)";
  std::string tail;
  core::append_json_escaped(tail, last);
  std::vector<std::string> pieces;
  pieces.push_back(std::move(head));
  pieces.push_back(std::move(r.rows_text));
  r.rows_text = std::string();
  pieces.push_back(std::move(tail));
  return pieces;
}

}  // namespace pgmcp::tools
