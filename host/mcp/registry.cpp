#include "mcp/registry.hpp"

#include <algorithm>
#include <cmath>

namespace pgmcp::mcp {

ToolResult structured_result(json data) {
  ToolResult r;
  r.content = json::array(
      {{{"type", "text"}, {"text", data.dump(-1, ' ', false, json::error_handler_t::replace)}}});
  r.structured = core::Payload(std::move(data));
  return r;
}

ToolResult structured_result(core::ObjectText data) {
  ToolResult r;
  r.structured = core::Payload(std::move(data));
  return r;
}

ToolResult structured_result(core::ObjectText data, std::vector<std::string> escaped_text) {
  ToolResult r = structured_result(std::move(data));
  r.escaped_text = std::move(escaped_text);
  return r;
}

ToolResult text_result(std::string text) {
  ToolResult r;
  r.content = json::array({{{"type", "text"}, {"text", std::move(text)}}});
  return r;
}

ToolResult error_result(std::string text) {
  ToolResult r = text_result(std::move(text));
  r.is_error = true;
  return r;
}

json without_null_optionals(const json &schema, json arguments) {
  if (!arguments.is_object()) return arguments;
  auto required = schema.find("required");
  for (auto it = arguments.begin(); it != arguments.end();) {
    bool is_required = false;
    if (required != schema.end() && required->is_array())
      for (const auto &r : *required) is_required = is_required || r == it.key();
    if (it->is_null() && !is_required)
      it = arguments.erase(it);
    else
      ++it;
  }
  return arguments;
}

bool valid_tool_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

void Registry::add_tool(Tool tool) {
  if (!valid_tool_name(tool.name))
    throw std::invalid_argument("invalid tool name '" + tool.name + "'");
  if (find_tool(tool.name) != nullptr)
    throw std::invalid_argument("duplicate tool '" + tool.name + "'");
  json d = {{"name", tool.name},
            {"description", tool.description},
            {"inputSchema", tool.input_schema},
            {"annotations",
             {{"readOnlyHint", tool.annotations.read_only},
              {"destructiveHint", tool.annotations.destructive},
              {"idempotentHint", tool.annotations.idempotent},
              {"openWorldHint", tool.annotations.open_world}}}};
  if (!tool.title.empty()) {
    d["title"] = tool.title;
    d["annotations"]["title"] = tool.title;
  }
  if (tool.output_schema) d["outputSchema"] = *tool.output_schema;
  tool_json_.push_back(std::move(d));
  tools_.push_back(std::move(tool));
}

void Registry::add_prompt(Prompt prompt) {
  if (find_prompt(prompt.name) != nullptr)
    throw std::invalid_argument("duplicate prompt '" + prompt.name + "'");
  prompts_.push_back(std::move(prompt));
}

void Registry::add_resource_provider(std::shared_ptr<ResourceProvider> provider) {
  providers_.push_back(std::move(provider));
}

const Tool *Registry::find_tool(std::string_view name) const {
  for (const auto &t : tools_)
    if (t.name == name) return &t;
  return nullptr;
}

const Prompt *Registry::find_prompt(std::string_view name) const {
  for (const auto &p : prompts_)
    if (p.name == name) return &p;
  return nullptr;
}

namespace {

std::string type_of(const json &v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d ? "integer" : "number";
  }
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

bool type_matches(const std::string &want, const std::string &have) {
  return want == have || (want == "number" && have == "integer");
}

// A non-negative whole-number keyword ("minLength": 1), or nullopt.
std::optional<size_t> count_keyword(const json &schema, const char *name) {
  auto it = schema.find(name);
  if (it == schema.end() || !it->is_number_integer() || it->get<long long>() < 0)
    return std::nullopt;
  return it->get<size_t>();
}

size_t utf8_length(const std::string &s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string validate_schema(const json &schema, const json &value, const std::string &path) {
  if (!schema.is_object()) return "";
  std::string have = type_of(value);
  if (auto t = schema.find("type"); t != schema.end()) {
    bool ok = false;
    std::string expected;
    if (t->is_string()) {
      ok = type_matches(t->get<std::string>(), have);
      expected = t->get<std::string>();
    } else if (t->is_array()) {
      for (const auto &e : *t) {
        if (!e.is_string()) continue;
        ok = ok || type_matches(e.get<std::string>(), have);
        expected += (expected.empty() ? "" : " or ") + e.get<std::string>();
      }
    } else {
      ok = true;
    }
    if (!ok) return path + ": expected " + expected + ", got " + have;
  }
  if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
    if (std::find(e->begin(), e->end(), value) == e->end()) {
      return path + ": must be one of " + e->dump();
    }
  }
  if (value.is_number()) {
    double d = value.get<double>();
    if (auto m = schema.find("minimum");
        m != schema.end() && m->is_number() && d < m->get<double>())
      return path + ": must be at least " + m->dump();
    if (auto m = schema.find("maximum");
        m != schema.end() && m->is_number() && d > m->get<double>())
      return path + ": must be at most " + m->dump();
  }
  if (value.is_string()) {
    size_t n = utf8_length(value.get_ref<const std::string &>());
    if (auto m = count_keyword(schema, "minLength"); m && n < *m)
      return path + ": must be at least " + std::to_string(*m) + " characters";
    if (auto m = count_keyword(schema, "maxLength"); m && n > *m)
      return path + ": must be at most " + std::to_string(*m) + " characters";
  }
  if (value.is_array()) {
    if (auto m = count_keyword(schema, "minItems"); m && value.size() < *m)
      return path + ": needs at least " + std::to_string(*m) + " items";
    if (auto m = count_keyword(schema, "maxItems"); m && value.size() > *m)
      return path + ": takes at most " + std::to_string(*m) + " items";
    if (auto items = schema.find("items"); items != schema.end() && items->is_object()) {
      for (size_t i = 0; i < value.size(); ++i) {
        auto p = validate_schema(*items, value[i], path + "[" + std::to_string(i) + "]");
        if (!p.empty()) return p;
      }
    }
  }
  if (value.is_object()) {
    const json *props = nullptr;
    if (auto p = schema.find("properties"); p != schema.end() && p->is_object()) props = &*p;
    if (auto r = schema.find("required"); r != schema.end() && r->is_array()) {
      for (const auto &name : *r) {
        if (name.is_string() && !value.contains(name.get<std::string>()))
          return path + "." + name.get<std::string>() + ": is required";
      }
    }
    bool closed = false;
    if (auto a = schema.find("additionalProperties"); a != schema.end() && a->is_boolean())
      closed = !a->get<bool>();
    for (auto it = value.begin(); it != value.end(); ++it) {
      const json *sub = nullptr;
      if (props != nullptr) {
        if (auto s = props->find(it.key()); s != props->end()) sub = &*s;
      }
      if (sub == nullptr) {
        if (closed) {
          std::string known;
          if (props != nullptr)
            for (auto k = props->begin(); k != props->end(); ++k)
              known += (known.empty() ? "" : ", ") + k.key();
          return path + "." + it.key() + ": is not a known argument" +
                 (known.empty() ? "" : " (known: " + known + ")");
        }
        continue;
      }
      auto p = validate_schema(*sub, it.value(), path + "." + it.key());
      if (!p.empty()) return p;
    }
  }
  return "";
}

}  // namespace pgmcp::mcp
