#include "tools/tools.hpp"

#include "tools/common.hpp"

namespace pgmcp::tools {

mcp::Tool search_objects_tool(std::shared_ptr<pipeline::Databases> dbs) {
  mcp::Tool t =
      named("search_objects", "Search the schema",
            "Finds schemas, tables, views, materialized views, columns, functions, indexes, "
            "sequences and enums whose name matches a pattern (case-insensitive substring, or a "
            "LIKE pattern with % and _). Answers from the cached catalog. detail=names (default) "
            "is the most compact; summary adds comments and types; full adds columns of tables.");
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
  t.handler = [dbs](const json &args, RequestContext &) {
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
        throw ToolError("cursor must be a next_cursor returned by search_objects");
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
  return t;
}

}  // namespace pgmcp::tools
