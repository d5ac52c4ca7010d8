// The "anthropic" LLM plugin: the Anthropic Messages API.
//   [llm.NAME]
//   plugin = anthropic
//   base_url = https://api.anthropic.com
//   api_key = ${ANTHROPIC_API_KEY}        ; required (sent as x-api-key)
//   anthropic_version = 2023-06-01
//   model = claude-sonnet-4-5             ; required
//   temperature = 0
//   max_tokens = 1024
//   timeout_ms = 60000
//   tls_verify = true
//   ca_file =
//   header.X-Name = value
#include "llm_http.hpp"

namespace {

using pgmcp::sdk::Completion;
using pgmcp::sdk::Config;
using pgmcp::sdk::Error;
using pgmcp::sdk::LlmRequest;

class Anthropic final : public pgmcp::sdk::LanguageModel {
 public:
  explicit Anthropic(const Config &config)
      : common_(pgmcp::llmhttp::read_common(
            config, "https://api.anthropic.com",
            {"api_key", "anthropic_version", "model", "temperature", "max_tokens"})) {
    api_key_ = config.require("api_key");
    version_ = config.get_or("anthropic_version", "2023-06-01");
    model_ = config.require("model");
    temperature_ = config.get_double("temperature", 0, 0, 1);
    max_tokens_ = config.get_int("max_tokens", 1024, 1, 1000000);
    common_.secrets.push_back(api_key_);
  }

  Completion complete(const LlmRequest &req) override {
    nlohmann::json messages = pgmcp::llmhttp::conversation(req);
    nlohmann::json body = {
        {"model", model_},
        {"messages", std::move(messages)},
        {"temperature", req.temperature() >= 0 ? std::min(req.temperature(), 1.0) : temperature_},
        {"max_tokens",
         req.max_tokens() > 0 ? static_cast<long long>(req.max_tokens()) : max_tokens_}};
    if (!req.system_prompt().empty()) body["system"] = req.system_prompt();
    pgmcp::llmhttp::Headers headers = {{"x-api-key", api_key_}, {"anthropic-version", version_}};
    auto j = pgmcp::llmhttp::call(common_, "Anthropic", "/v1/messages", headers, body, req);
    Completion c;
    const auto &content = j.value("content", nlohmann::json::array());
    if (content.is_array()) {
      for (const auto &block : content) {
        if (block.is_object() && block.value("type", "") == "text" && block.contains("text") &&
            block["text"].is_string())
          c.text += block["text"].get<std::string>();
      }
    }
    if (c.text.empty()) throw Error(PGMCP_ERR_REMOTE, "Anthropic answered with no text");
    c.stop_reason = pgmcp::llmhttp::string_field(j, "stop_reason");
    c.model = pgmcp::llmhttp::string_field(j, "model");
    const auto &usage = j.value("usage", nlohmann::json::object());
    c.prompt_tokens = pgmcp::llmhttp::count_field(usage, "input_tokens");
    c.completion_tokens = pgmcp::llmhttp::count_field(usage, "output_tokens");
    return c;
  }

 private:
  pgmcp::llmhttp::Common common_;
  std::string api_key_, version_, model_;
  double temperature_ = 0;
  long long max_tokens_ = 1024;
};

}  // namespace

PGMCP_PLUGIN("anthropic", "0.1.0", "Anthropic Messages API",
             pgmcp::sdk::LanguageModelCapability<Anthropic>)
