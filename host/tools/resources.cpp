#include "tools/tools.hpp"

#include "tools/common.hpp"
#include "util/percent.hpp"

namespace pgmcp::tools {

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

  std::optional<json> read(const std::string &uri, RequestContext &) override {
    const std::string prefix = "pgmcp://";
    if (uri.rfind(prefix, 0) != 0) return std::nullopt;
    // Each segment percent-decoded on its own, as clients' URI-template
    // expansion encodes it ("Mixed Case" arrives as Mixed%20Case, a '/' in a
    // name as %2F); a malformed escape names no resource.
    std::vector<std::string> parts;
    size_t start = prefix.size();
    while (start <= uri.size()) {
      size_t slash = uri.find('/', start);
      auto part = util::percent_decode(std::string_view(uri).substr(
          start, slash == std::string::npos ? std::string::npos : slash - start));
      if (!part) return std::nullopt;
      parts.push_back(std::move(*part));
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
