#include "tools/tools.hpp"

#include <algorithm>

#include "tools/common.hpp"

namespace pgmcp::tools {

mcp::Tool describe_table_tool(std::shared_ptr<pipeline::Databases> dbs) {
  mcp::Tool t =
      named("describe_table", "Describe a table or view",
            "Describes a table, view or materialized view: columns (type, nullable, default, "
            "comment), primary key, foreign keys in both directions, unique constraints, indexes, "
            "comment and estimated row count. Name it as name or schema.name; double-quote "
            "mixed-case names (\"MyTable\").");
  t.input_schema = {
      {"type", "object"},
      {"properties",
       {{"table", {{"type", "string"}, {"minLength", 1}}}, {"database", kDatabaseArg}}},
      {"required", {"table"}},
      {"additionalProperties", false}};
  t.annotations = {true, false, true, false};
  t.handler = [dbs](const json &args, RequestContext &) {
    const DatabaseEntry &e = dbs->resolve(args);
    std::pair<std::string, std::string> name;
    try {
      name = db::parse_qualified_name(args["table"].get<std::string>());
    } catch (const std::invalid_argument &err) {
      throw ToolError(err.what());
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
        throw ToolError("'" + name.second + "' exists in several schemas; name one of: " + join(q));
      }
      if (!all.empty()) r = all.front();
    }
    if (r == nullptr) {
      std::vector<std::string> close;
      for (const auto &x : catalog->relations)
        if (matches(x.name, name.second.substr(0, std::min<size_t>(4, name.second.size()))))
          close.push_back(x.schema + "." + x.name);
      if (close.size() > 10) close.resize(10);
      throw ToolError(
          "no table or view '" + args["table"].get<std::string>() + "' in database '" +
          e.db->name() + "'" + (close.empty() ? "" : "; similar: " + join(close)) +
          ". Unquoted names are folded to lower case; use search_objects to look around.");
    }
    return mcp::structured_result(describe_relation(*catalog, *r, e.db->name()));
  };
  return t;
}

}  // namespace pgmcp::tools
