#include "db/schema.hpp"

#include <algorithm>
#include <functional>

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

// What the SQL policy needs to resolve names as the server will: the search
// path in effect (after the database's role and search_path settings), the
// system relations, operators outside pg_catalog with their functions, and
// the views' definitions printed under that same search path (pg_get_viewdef
// leaves a name unqualified only when the path finds that very relation), so
// the policy resolves a view's names exactly as the server does.
const char *const kPolicyFactsQuery = R"SQL(
SELECT 'path', array_to_json(current_schemas(true))::text, NULL, NULL, NULL
UNION ALL
SELECT 'system', n.nspname, c.relname, NULL, NULL
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('pg_catalog', 'information_schema') AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
UNION ALL
SELECT 'view', n.nspname, c.relname, pg_get_viewdef(c.oid), NULL
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
UNION ALL
SELECT 'operator', n.nspname, o.oprname, pn.nspname, p.proname
FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
JOIN pg_proc p ON p.oid = o.oprcode JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
)SQL";

}  // namespace

void SchemaCache::load_policy_facts(Catalog &c) {
  QueryResult r = db_.internal(kPolicyFactsQuery, {1000000, 256LL * 1024 * 1024});
  if (r.truncated) throw DbError(PGMCP_ERR_INTERNAL, "the catalog's policy facts were truncated");
  auto text = [](const nlohmann::json &v) { return v.is_string() ? v.get<std::string>() : ""; };
  for (const auto &row : nlohmann::json::parse(r.rows_json)) {
    std::string kind = text(row[0]);
    if (kind == "path") {
      for (const auto &s : nlohmann::json::parse(text(row[1]))) c.search_path.push_back(s);
    } else if (kind == "system") {
      c.system_relations.insert({text(row[1]), text(row[2])});
    } else if (kind == "view") {
      auto it = c.index_.find({text(row[1]), text(row[2])});
      if (it != c.index_.end()) c.relations[it->second].definition = text(row[3]);
    } else if (kind == "operator") {
      c.operators.push_back({text(row[1]), text(row[2]), text(row[3]), text(row[4])});
    }
  }
}

std::shared_ptr<Catalog> SchemaCache::load() {
  auto c = std::make_shared<Catalog>();
  auto start = std::chrono::steady_clock::now();
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
        auto it = c->index_.find({str(o.schema), str(o.table)});
        if (it == c->index_.end()) break;
        Relation &r = c->relations[it->second];
        if (o.kind == PGMCP_OBJECT_COLUMN) {
          r.columns.push_back({str(o.name), str(o.type), str(o.definition), str(o.comment),
                               o.position, o.not_null != 0});
        } else if (o.kind == PGMCP_OBJECT_INDEX) {
          r.indexes.push_back({str(o.name), str(o.type), str(o.definition), o.not_null != 0,
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
  load_policy_facts(*c);
  c->loaded_at = std::chrono::steady_clock::now();
  c->loaded_wall = std::chrono::system_clock::now();
  c->load_ms = std::chrono::duration<double, std::milli>(c->loaded_at - start).count();
  log::debug("db", "schema of '" + db_.name() + "' loaded: " + std::to_string(c->relations.size()) +
                       " relations in " + std::to_string(static_cast<int>(c->load_ms)) + " ms");
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

std::vector<std::string> split_name(std::string_view text, size_t max_parts) {
  std::vector<std::string> parts(1);
  bool quoted = false, was_quoted = false;
  std::string blanks;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c != '"') {
        parts.back() += c;
      } else if (i + 1 < text.size() && text[i + 1] == '"') {
        parts.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = was_quoted = true;
    } else if (c == '.') {
      if (parts.back().empty() && !was_quoted) break;
      parts.emplace_back();
      blanks.clear();
      was_quoted = false;
    } else if (c == ' ' || c == '\t') {
      if (!parts.back().empty()) blanks += c;
    } else {
      parts.back() += blanks;
      blanks.clear();
      parts.back() += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (quoted) throw std::invalid_argument("unterminated quote in '" + std::string(text) + "'");
  for (const auto &p : parts)
    if (p.empty()) throw std::invalid_argument("'" + std::string(text) + "' has an empty part");
  if (parts.size() > max_parts)
    throw std::invalid_argument("'" + std::string(text) + "' has more than " +
                                std::to_string(max_parts) + " dotted parts");
  return parts;
}

std::pair<std::string, std::string> parse_qualified_name(std::string_view text) {
  std::vector<std::string> parts;
  try {
    parts = split_name(text, 2);
  } catch (const std::invalid_argument &e) {
    if (std::string_view(e.what()).rfind("unterminated quote", 0) == 0) throw;
    throw std::invalid_argument("'" + std::string(text) +
                                "' is not a table name (write name or schema.name)");
  }
  if (parts.size() == 1) return {"", parts[0]};
  return {parts[0], parts[1]};
}

}  // namespace pgmcp::db
