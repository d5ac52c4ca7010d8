// What the server offers: tools, prompts and resources. Filled at start-up by
// the components that own them; read concurrently afterwards.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/context.hpp"
#include "core/json_text.hpp"
#include "mcp/protocol.hpp"

namespace pgmcp::mcp {

struct ToolAnnotations {
  bool read_only = false;  // the protocol's pessimistic defaults
  bool destructive = true;
  bool idempotent = false;
  bool open_world = true;
};

using core::RequestContext;

struct ToolResult {
  json content = json::array();  // content blocks, when there is no structured content
  // structuredContent: a JSON value, or an object already written as text
  // (large results skip building values). The text content block then
  // carries the same JSON.
  std::optional<core::Payload> structured;
  // With structured content: the text content block's own rendering (for
  // people and models: a table rather than the JSON again), written as the
  // inside of a JSON string, in pieces that are joined (so that large ones
  // are moved, not copied). Empty: the block carries the structured JSON.
  std::vector<std::string> escaped_text;
  bool is_error = false;
};

// A tool handler throws ToolError (core::CallerError) for a failure the model
// should see (an isError result), ProtocolError for a protocol error.
using ToolError = core::CallerError;

// The result for `data`: structuredContent, and the same JSON as text.
ToolResult structured_result(json data);
ToolResult structured_result(core::ObjectText data);
// Structured content whose text block says the same another way;
// escaped_text is the inside of a JSON string.
ToolResult structured_result(core::ObjectText data, std::vector<std::string> escaped_text);
ToolResult text_result(std::string text);
ToolResult error_result(std::string text);

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  json input_schema = {{"type", "object"}, {"additionalProperties", false}};
  std::optional<json> output_schema;
  ToolAnnotations annotations;
  std::function<ToolResult(const json &arguments, RequestContext &ctx)> handler;
};

// Suggestions for a partially typed argument value (at most 100 are sent).
using Completer =
    std::function<std::vector<std::string>(std::string_view prefix, const json &other_arguments)>;

struct PromptArgument {
  std::string name;
  std::string description;
  bool required = false;
  Completer complete;  // may be empty
};

struct Prompt {
  std::string name;
  std::string title;
  std::string description;
  std::vector<PromptArgument> arguments;
  // Returns the messages array; throws ProtocolError(invalid_params) on bad arguments.
  std::function<json(const std::map<std::string, std::string> &arguments)> render;
};

struct ResourceTemplate {
  std::string uri_template;  // RFC 6570 level 1, e.g. pgmcp://{database}/schema
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  std::map<std::string, Completer> complete;  // by variable name
};

// Resources come from providers, since they depend on live state (databases).
class ResourceProvider {
 public:
  virtual ~ResourceProvider() = default;
  // Resource descriptors ({uri, name, ...}).
  virtual std::vector<json> list() = 0;
  virtual std::vector<ResourceTemplate> templates() = 0;
  // The contents array for uri, or nullopt when this provider has no such resource.
  virtual std::optional<json> read(const std::string &uri, RequestContext &ctx) = 0;
};

class Registry {
 public:
  void add_tool(Tool tool);  // throws std::invalid_argument on a bad name or duplicate
  void add_prompt(Prompt prompt);
  void add_resource_provider(std::shared_ptr<ResourceProvider> provider);

  const Tool *find_tool(std::string_view name) const;
  const Prompt *find_prompt(std::string_view name) const;
  const std::vector<Tool> &tools() const { return tools_; }
  const std::vector<Prompt> &prompts() const { return prompts_; }
  const std::vector<std::shared_ptr<ResourceProvider>> &resource_providers() const {
    return providers_;
  }
  // The tools/list entries, serialized once.
  const std::vector<json> &tool_descriptors() const { return tool_json_; }

 private:
  std::vector<Tool> tools_;
  std::vector<json> tool_json_;
  std::vector<Prompt> prompts_;
  std::vector<std::shared_ptr<ResourceProvider>> providers_;
};

// Validates `value` against the subset of JSON Schema 2020-12 our tools use
// (type, properties, required, additionalProperties, items, enum, minimum,
// maximum, minLength, maxLength, minItems, maxItems). Returns the first problem
// as "arguments.sql: expected a string", or "" when valid.
std::string validate_schema(const json &schema, const json &value,
                            const std::string &path = "arguments");

// The arguments without the optional ones a client sent as null: clients
// write an absent optional argument as null, and a tool reads it as absent.
// A required argument that is null stays (and fails validation).
json without_null_optionals(const json &schema, json arguments);

// A tool name per the protocol: 1-128 of [A-Za-z0-9_.-].
bool valid_tool_name(std::string_view name);

}  // namespace pgmcp::mcp
