#include "tools/database_tools.hpp"

#include <algorithm>
#include <cctype>

#include "sql/gate.hpp"

namespace pgmcp::tools {

using mcp::json;

const DatabaseEntry *Databases::find(const std::string &name) const {
  for (const auto &e : entries)
    if (e.db->name() == name) return &e;
  return nullptr;
}

std::vector<std::string> Databases::names() const {
  std::vector<std::string> out;
  for (const auto &e : entries) out.push_back(e.db->name());
  return out;
}

static std::string join(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

const DatabaseEntry &Databases::resolve(const json &args) const {
  if (entries.empty())
    throw mcp::ToolError("no database is configured; add a [database.NAME] section");
  auto it = args.find("database");
  if (it == args.end() || it->is_null()) {
    if (entries.size() == 1) return entries.front();
    throw mcp::ToolError("several databases are configured; name one with \"database\": " +
                         join(names()));
  }
  const std::string name = it->get<std::string>();
  if (const DatabaseEntry *e = find(name)) return *e;
  throw mcp::ToolError("unknown database '" + name + "'; configured: " + join(names()));
}

namespace {

const json kDatabaseArg = {
    {"type", "string"},
    {"description",
     "The database to use; optional when only one is configured (see list_databases)."}};

std::string db_error_text(const db::DbError &e) { return e.describe(); }

// The cached catalog for a tool; a database error becomes the tool's error.
std::shared_ptr<const db::Catalog> catalog_for(const DatabaseEntry &e) {
  try {
    return e.schema->get();
  } catch (const db::DbError &err) {
    throw mcp::ToolError(db_error_text(err));
  }
}

// Checks sql with the database's policy and runs it; a refusal ("blocked
// column users.password (rule blocked_columns)"), a catalog that cannot be
// loaded or a database error becomes the tool's error.
db::QueryResult checked_query(const DatabaseEntry &e, const std::string &sql,
                              const std::vector<std::optional<std::string>> &params,
                              db::QueryLimits limits, mcp::RequestContext &ctx,
                              bool reads_only = false) {
  try {
    return sql::Gate::run(sql, params, limits, *e.db, *e.schema, *e.policy, &ctx,
                          {reads_only, false});
  } catch (const sql::Rejected &r) {
    throw mcp::ToolError(r.verdict.message + "; nothing was run");
  } catch (const db::DbError &err) {
    throw mcp::ToolError(db_error_text(err));
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

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

mcp::ToolResult run_query(const DatabaseEntry &e, const std::string &sql,
                          const std::vector<std::optional<std::string>> &params, long long max_rows,
                          mcp::RequestContext &ctx) {
  db::QueryLimits limits{std::min(max_rows, e.db->options().max_rows),
                         e.db->options().max_result_bytes};
  db::QueryResult r = checked_query(e, sql, params, limits, ctx);
  // The rows are JSON text already: splice them in rather than build values.
  std::string out;
  out.reserve(r.rows_json.size() + 512);
  out = "{\"database\":" + json(e.db->name()).dump() + ",\"columns\":" + r.columns.dump() +
        ",\"rows\":";
  out += r.rows_json;
  r.rows_json.clear();
  r.rows_json.shrink_to_fit();
  out += ",\"row_count\":" + std::to_string(r.row_count) +
         ",\"truncated\":" + (r.truncated ? "true" : "false");
  if (r.truncated) out += ",\"truncated_by\":\"" + r.truncated_by + "\"";
  out += ",\"duration_ms\":" + json(std::round(r.duration_ms * 1000) / 1000).dump() + "}";
  return mcp::structured_text_result(std::move(out));
}

json explain_summary(const json &plan, bool analyzed) {
  const json &top = plan.is_array() && !plan.empty() ? plan[0] : plan;
  const json &node = top.value("Plan", json::object());
  std::string s = node.value("Node Type", std::string("plan"));
  if (node.contains("Relation Name")) s += " on " + node["Relation Name"].get<std::string>();
  s += ": estimated cost " + (node.contains("Total Cost") ? node["Total Cost"].dump() : "?");
  s += ", " + (node.contains("Plan Rows") ? node["Plan Rows"].dump() : "?") + " rows";
  if (analyzed && top.contains("Execution Time")) {
    s += "; actually " + (node.contains("Actual Rows") ? node["Actual Rows"].dump() : "?") +
         " rows in " + top["Execution Time"].dump() + " ms";
  }
  return s;
}

}  // namespace

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

void add_database_tools(mcp::Registry &registry, std::shared_ptr<Databases> dbs) {
  {
    bool writable = std::any_of(dbs->entries.begin(), dbs->entries.end(),
                                [](const auto &e) { return e.db->options().allow_write; });
    mcp::Tool t;
    t.name = "execute_sql";
    t.title = writable ? "Run a SQL statement" : "Run a read-only SQL query";
    t.description =
        "Runs one SQL statement (SELECT, WITH, VALUES, TABLE, SHOW) on a PostgreSQL database and "
        "returns the rows. The operator's SQL policy checks it first and says which rule a refused "
        "statement broke. It runs inside a read-only transaction with a statement timeout and is "
        "rolled back (databases the operator made writable commit instead); a result longer than "
        "the row or byte limit is cut short and marked truncated. Use $1, $2... with \"params\" "
        "for values.";
    t.input_schema = {
        {"type", "object"},
        {"properties",
         {{"sql", {{"type", "string"}, {"minLength", 1}, {"description", "One SQL statement."}}},
          {"database", kDatabaseArg},
          {"params",
           {{"type", "array"},
            {"items", {{"type", json::array({"string", "number", "boolean", "null"})}}},
            {"description",
             "Values for $1, $2, ... (sent as text; the server infers their types)."}}},
          {"max_rows",
           {{"type", "integer"},
            {"minimum", 1},
            {"description", "At most this many rows (capped by the server's max_rows)."}}}}},
        {"required", {"sql"}},
        {"additionalProperties", false}};
    json column = {
        {"type", "object"},
        {"properties", {{"name", {{"type", "string"}}}, {"type", {{"type", "string"}}}}}};
    json props = {
        {"database", {{"type", "string"}}},
        {"columns", {{"type", "array"}, {"items", column}}},
        {"rows", {{"type", "array"}, {"items", {{"type", "array"}}}}},
        {"row_count", {{"type", "integer"}}},
        {"truncated", {{"type", "boolean"}}},
        {"truncated_by", {{"type", "string"}, {"enum", {"max_rows", "max_result_bytes"}}}},
        {"duration_ms", {{"type", "number"}}}};
    t.output_schema = {
        {"type", "object"},
        {"properties", props},
        {"required", {"database", "columns", "rows", "row_count", "truncated", "duration_ms"}}};
    t.annotations = {!writable, writable, !writable, false};
    t.handler = [dbs](const json &args, mcp::RequestContext &ctx) {
      const DatabaseEntry &e = dbs->resolve(args);
      std::vector<std::optional<std::string>> params;
      for (const auto &p : args.value("params", json::array())) {
        if (p.is_null())
          params.emplace_back(std::nullopt);
        else if (p.is_string())
          params.emplace_back(p.get<std::string>());
        else
          params.emplace_back(p.dump());
      }
      long long max_rows = e.db->options().max_rows;
      if (auto m = args.find("max_rows"); m != args.end() && !m->is_null()) {
        // above the database's max_rows is capped; outside 1..2^63-1 is an error
        bool whole = m->is_number_integer();
        bool fits = whole && (m->is_number_unsigned()
                                  ? m->get<unsigned long long>() <= 9223372036854775807ULL
                                  : m->get<long long>() >= 1);
        if (!fits)
          throw mcp::ToolError("max_rows = " + m->dump() +
                               " is not a whole number from 1 to 9223372036854775807 (the database "
                               "returns at most " +
                               std::to_string(e.db->options().max_rows) +
                               " rows); nothing was run");
        max_rows = m->get<long long>();
      }
      return run_query(e, args["sql"].get<std::string>(), params, max_rows, ctx);
    };
    registry.add_tool(std::move(t));
  }
  {
    mcp::Tool t;
    t.name = "explain_query";
    t.title = "Explain a query plan";
    t.description =
        "Shows PostgreSQL's plan for a read-only query as JSON with a one-line summary. With "
        "\"analyze\": true "
        "(only where the operator allows it) the query is run, read-only and rolled back, to "
        "report actual rows "
        "and times.";
    t.input_schema = {
        {"type", "object"},
        {"properties",
         {{"sql", {{"type", "string"}, {"minLength", 1}}},
          {"database", kDatabaseArg},
          {"analyze",
           {{"type", "boolean"}, {"description", "Run it to get actual times (if allowed)."}}}}},
        {"required", {"sql"}},
        {"additionalProperties", false}};
    t.output_schema = {{"type", "object"},
                       {"properties",
                        {{"database", {{"type", "string"}}},
                         {"summary", {{"type", "string"}}},
                         {"plan", {{"type", "array"}}}}},
                       {"required", {"database", "summary", "plan"}}};
    t.annotations = {true, false, true, false};
    t.handler = [dbs](const json &args, mcp::RequestContext &ctx) {
      const DatabaseEntry &e = dbs->resolve(args);
      bool analyze = args.value("analyze", false);
      if (analyze && !e.db->options().allow_explain_analyze) {
        throw mcp::ToolError(
            "EXPLAIN ANALYZE runs the query and is off for database '" + e.db->name() +
            "'; set allow_explain_analyze = true to allow it, or explain without analyze");
      }
      std::string sql = std::string("EXPLAIN (FORMAT JSON") +
                        (analyze ? ", ANALYZE, BUFFERS" : "") + ") " +
                        args["sql"].get<std::string>();
      // EXPLAIN ANALYZE runs the statement: explain_query only ever reads.
      db::QueryResult r =
          checked_query(e, sql, {}, {1000, e.db->options().max_result_bytes}, ctx, true);
      json rows = json::parse(r.rows_json, nullptr, false);
      json plan = rows.is_array() && !rows.empty() && !rows[0].empty() ? rows[0][0] : json::array();
      if (plan.is_string()) plan = json::parse(plan.get<std::string>(), nullptr, false);
      json out = {
          {"database", e.db->name()}, {"summary", explain_summary(plan, analyze)}, {"plan", plan}};
      return mcp::structured_result(std::move(out));
    };
    registry.add_tool(std::move(t));
  }
  {
    mcp::Tool t;
    t.name = "describe_table";
    t.title = "Describe a table or view";
    t.description =
        "Describes a table, view or materialized view: columns (type, nullable, default, comment), "
        "primary key, "
        "foreign keys in both directions, unique constraints, indexes, comment and estimated row "
        "count. Name it "
        "as name or schema.name; double-quote mixed-case names (\"MyTable\").";
    t.input_schema = {
        {"type", "object"},
        {"properties",
         {{"table", {{"type", "string"}, {"minLength", 1}}}, {"database", kDatabaseArg}}},
        {"required", {"table"}},
        {"additionalProperties", false}};
    t.annotations = {true, false, true, false};
    t.handler = [dbs](const json &args, mcp::RequestContext &) {
      const DatabaseEntry &e = dbs->resolve(args);
      std::pair<std::string, std::string> name;
      try {
        name = db::parse_qualified_name(args["table"].get<std::string>());
      } catch (const std::invalid_argument &err) {
        throw mcp::ToolError(err.what());
      }
      std::shared_ptr<const db::Catalog> catalog = catalog_for(e);
      const db::Relation *r = nullptr;
      if (!name.first.empty()) {
        r = catalog->find(name.first, name.second);
      } else {
        auto all = catalog->find_any(name.second);
        if (all.size() > 1) {
          std::vector<std::string> q;
          for (auto *x : all) q.push_back(x->schema + "." + x->name);
          throw mcp::ToolError("'" + name.second +
                               "' exists in several schemas; name one of: " + join(q));
        }
        if (!all.empty()) r = all.front();
      }
      if (r == nullptr) {
        std::vector<std::string> close;
        for (const auto &x : catalog->relations)
          if (matches(x.name, name.second.substr(0, std::min<size_t>(4, name.second.size()))))
            close.push_back(x.schema + "." + x.name);
        if (close.size() > 10) close.resize(10);
        throw mcp::ToolError(
            "no table or view '" + args["table"].get<std::string>() + "' in database '" +
            e.db->name() + "'" + (close.empty() ? "" : "; similar: " + join(close)) +
            ". Unquoted names are folded to lower case; use search_objects to look around.");
      }
      return mcp::structured_result(describe_relation(*catalog, *r, e.db->name()));
    };
    registry.add_tool(std::move(t));
  }
  {
    mcp::Tool t;
    t.name = "search_objects";
    t.title = "Search the schema";
    t.description =
        "Finds schemas, tables, views, materialized views, columns, functions, indexes, sequences "
        "and enums whose "
        "name matches a pattern (case-insensitive substring, or a LIKE pattern with % and _). "
        "Answers from the "
        "cached catalog. detail=names (default) is the most compact; summary adds comments and "
        "types; full adds "
        "columns of tables.";
    t.input_schema = {
        {"type", "object"},
        {"properties",
         {{"database", kDatabaseArg},
          {"pattern", {{"type", "string"}}},
          {"kind",
           {{"type", "string"},
            {"enum",
             {"schema", "table", "view", "materialized_view", "column", "function", "index",
              "sequence", "enum"}}}},
          {"schema", {{"type", "string"}, {"description", "Only objects in this schema."}}},
          {"detail", {{"type", "string"}, {"enum", {"names", "summary", "full"}}}},
          {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}},
          {"cursor", {{"type", "string"}, {"description", "next_cursor of a previous page."}}}}},
        {"additionalProperties", false}};
    t.annotations = {true, false, true, false};
    t.handler = [dbs](const json &args, mcp::RequestContext &) {
      const DatabaseEntry &e = dbs->resolve(args);
      std::shared_ptr<const db::Catalog> c = catalog_for(e);
      std::string pattern = args.value("pattern", std::string());
      std::string kind = args.value("kind", std::string());
      std::string schema = args.value("schema", std::string());
      std::string detail = args.value("detail", std::string("names"));
      size_t limit = args.value("limit", 100);
      size_t offset = 0;
      if (args.contains("cursor")) {
        try {
          offset = std::stoul(args["cursor"].get<std::string>());
        } catch (const std::exception &) {
          throw mcp::ToolError("cursor must be a next_cursor returned by search_objects");
        }
      }
      json found = json::array();
      size_t total = 0;
      auto want = [&](const std::string &k) { return kind.empty() || kind == k; };
      auto in_schema = [&](const std::string &s) { return schema.empty() || s == schema; };
      auto add = [&](json item) {
        if (total++ >= offset && found.size() < limit) found.push_back(std::move(item));
      };
      auto comment = [](const std::string &s) { return s.empty() ? json(nullptr) : json(s); };
      if (want("schema")) {
        for (const auto &s : c->schemas)
          if (in_schema(s.name) && matches(s.name, pattern))
            add(detail == "names"
                    ? json(s.name)
                    : json{{"kind", "schema"}, {"name", s.name}, {"comment", comment(s.comment)}});
      }
      for (const auto &r : c->relations) {
        if (!in_schema(r.schema)) continue;
        if (want(r.kind) && matches(r.name, pattern)) {
          if (detail == "names") {
            add(r.schema + "." + r.name);
          } else {
            json item = {{"kind", r.kind},
                         {"schema", r.schema},
                         {"name", r.name},
                         {"comment", comment(r.comment)},
                         {"estimated_rows", r.estimated_rows < 0
                                                ? json(nullptr)
                                                : json(static_cast<long long>(r.estimated_rows))}};
            if (detail == "full") item["columns"] = columns_json(r);
            add(std::move(item));
          }
        }
        if (want("column") && !kind.empty()) {
          for (const auto &col : r.columns) {
            if (!matches(col.name, pattern)) continue;
            if (detail == "names")
              add(r.schema + "." + r.name + "." + col.name);
            else
              add({{"kind", "column"},
                   {"schema", r.schema},
                   {"table", r.name},
                   {"name", col.name},
                   {"type", col.type},
                   {"nullable", !col.not_null},
                   {"comment", comment(col.comment)}});
          }
        }
        if (want("index") && !kind.empty()) {
          for (const auto &ix : r.indexes) {
            if (!matches(ix.name, pattern)) continue;
            if (detail == "names")
              add(r.schema + "." + ix.name);
            else
              add({{"kind", "index"},
                   {"schema", r.schema},
                   {"table", r.name},
                   {"name", ix.name},
                   {"definition", ix.definition}});
          }
        }
      }
      if (want("function")) {
        for (const auto &f : c->functions)
          if (in_schema(f.schema) && matches(f.name, pattern))
            add(detail == "names" ? json(f.schema + "." + f.name + "(" + f.arguments + ")")
                                  : json{{"kind", "function"},
                                         {"schema", f.schema},
                                         {"name", f.name},
                                         {"arguments", f.arguments},
                                         {"returns", f.result},
                                         {"comment", comment(f.comment)}});
      }
      if (want("enum")) {
        for (const auto &en : c->enums)
          if (in_schema(en.schema) && matches(en.name, pattern))
            add(detail == "names" ? json(en.schema + "." + en.name)
                                  : json{{"kind", "enum"},
                                         {"schema", en.schema},
                                         {"name", en.name},
                                         {"labels", en.labels},
                                         {"comment", comment(en.comment)}});
      }
      json out = {{"database", e.db->name()}, {"objects", std::move(found)}, {"total", total}};
      if (offset + limit < total) out["next_cursor"] = std::to_string(offset + limit);
      return mcp::structured_result(std::move(out));
    };
    registry.add_tool(std::move(t));
  }
}

namespace {

class SchemaResources final : public mcp::ResourceProvider {
 public:
  explicit SchemaResources(std::shared_ptr<Databases> dbs) : dbs_(std::move(dbs)) {}

  std::vector<json> list() override {
    std::vector<json> out;
    for (const auto &e : dbs_->entries) {
      out.push_back({{"uri", "pgmcp://" + e.db->name() + "/schema"},
                     {"name", e.db->name() + "-schema"},
                     {"title", "Schema of " + e.db->name()},
                     {"description",
                      "Schemas, tables and views of database '" + e.db->name() + "'" +
                          (e.db->description().empty() ? "" : " (" + e.db->description() + ")")},
                     {"mimeType", "application/json"}});
    }
    return out;
  }

  std::vector<mcp::ResourceTemplate> templates() override {
    mcp::ResourceTemplate t;
    t.uri_template = "pgmcp://{database}/table/{schema}/{table}";
    t.name = "table";
    t.title = "A table or view";
    t.description = "What describe_table returns for one table or view";
    t.mime_type = "application/json";
    auto dbs = dbs_;
    t.complete["database"] = [dbs](std::string_view prefix, const json &) {
      std::vector<std::string> out;
      for (const auto &n : dbs->names())
        if (n.rfind(prefix, 0) == 0) out.push_back(n);
      return out;
    };
    auto catalog_of = [dbs](const json &ctx) -> std::shared_ptr<const db::Catalog> {
      const DatabaseEntry *e = ctx.contains("database") && ctx["database"].is_string()
                                   ? dbs->find(ctx["database"])
                               : dbs->entries.size() == 1 ? &dbs->entries[0]
                                                          : nullptr;
      if (e == nullptr) return nullptr;
      try {
        return e->schema->get();
      } catch (const db::DbError &) {
        return nullptr;
      }
    };
    t.complete["schema"] = [catalog_of](std::string_view prefix, const json &ctx) {
      std::vector<std::string> out;
      if (auto c = catalog_of(ctx))
        for (const auto &s : c->schemas)
          if (s.name.rfind(prefix, 0) == 0) out.push_back(s.name);
      return out;
    };
    t.complete["table"] = [catalog_of](std::string_view prefix, const json &ctx) {
      std::vector<std::string> out;
      std::string schema = ctx.value("schema", std::string());
      if (auto c = catalog_of(ctx))
        for (const auto &r : c->relations)
          if ((schema.empty() || r.schema == schema) && r.kind != "sequence" &&
              r.name.rfind(prefix, 0) == 0)
            out.push_back(r.name);
      return out;
    };
    return {t};
  }

  std::optional<json> read(const std::string &uri, mcp::RequestContext &) override {
    const std::string prefix = "pgmcp://";
    if (uri.rfind(prefix, 0) != 0) return std::nullopt;
    std::vector<std::string> parts;
    size_t start = prefix.size();
    while (start <= uri.size()) {
      size_t slash = uri.find('/', start);
      parts.push_back(
          uri.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    if (parts.empty()) return std::nullopt;
    const DatabaseEntry *e = dbs_->find(parts[0]);
    if (e == nullptr) return std::nullopt;
    std::shared_ptr<const db::Catalog> c;
    try {
      c = e->schema->get();
    } catch (const db::DbError &err) {
      throw mcp::ProtocolError(mcp::code::internal_error,
                               "database '" + e->db->name() + "': " + err.what());
    }
    json body;
    if (parts.size() == 2 && parts[1] == "schema") {
      json schemas = json::array();
      for (const auto &s : c->schemas) {
        json tables = json::array();
        for (const auto &r : c->relations)
          if (r.schema == s.name && r.kind != "sequence")
            tables.push_back({{"name", r.name},
                              {"kind", r.kind},
                              {"comment", r.comment.empty() ? json(nullptr) : json(r.comment)},
                              {"estimated_rows", r.estimated_rows < 0 ? json(nullptr)
                                                                      : json(static_cast<long long>(
                                                                            r.estimated_rows))}});
        schemas.push_back({{"name", s.name},
                           {"comment", s.comment.empty() ? json(nullptr) : json(s.comment)},
                           {"tables", tables}});
      }
      body = {
          {"database", e->db->name()}, {"description", e->db->description()}, {"schemas", schemas}};
    } else if (parts.size() == 4 && parts[1] == "table") {
      const db::Relation *r = c->find(parts[2], parts[3]);
      if (r == nullptr || r->kind == "sequence") return std::nullopt;
      body = describe_relation(*c, *r, e->db->name());
    } else {
      return std::nullopt;
    }
    return json::array({{{"uri", uri}, {"mimeType", "application/json"}, {"text", body.dump()}}});
  }

 private:
  std::shared_ptr<Databases> dbs_;
};

}  // namespace

std::shared_ptr<mcp::ResourceProvider> database_resources(std::shared_ptr<Databases> databases) {
  return std::make_shared<SchemaResources>(std::move(databases));
}

}  // namespace pgmcp::tools
