// The "openai" LLM plugin: the OpenAI Chat Completions wire protocol, which
// OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio and llama.cpp's server speak.
//   [llm.NAME]
//   plugin = openai
//   base_url = https://api.openai.com/v1   ; e.g. http://127.0.0.1:11434/v1 for Ollama
//   api_key = ${OPENAI_API_KEY}             ; optional for local servers
//   api_key_header = Authorization          ; Azure: api-key (sent without "Bearer")
//   api_version =                           ; Azure: adds ?api-version=...
//   model = gpt-4o-mini                     ; required
//   temperature = 0
//   max_tokens = 1024
//   timeout_ms = 60000
//   json_mode = true                        ; send response_format json_object when asked
//   tls_verify = true
//   ca_file =
//   header.X-Name = value                   ; any extra header
#include "llm_http.hpp"

namespace {

using pgmcp::sdk::Completion;
using pgmcp::sdk::Config;
using pgmcp::sdk::Error;
using pgmcp::sdk::LlmRequest;

class OpenAi final : public pgmcp::sdk::LanguageModel {
 public:
  explicit OpenAi(const Config &config)
      : common_(pgmcp::llmhttp::read_common(config, "https://api.openai.com/v1",
                                            {"api_key", "api_key_header", "api_version", "model",
                                             "temperature", "max_tokens", "json_mode"})) {
    api_key_ = config.get_or("api_key", "");
    key_header_ = config.get_or("api_key_header", "Authorization");
    api_version_ = config.get_or("api_version", "");
    model_ = config.require("model");
    temperature_ = config.get_double("temperature", 0, 0, 2);
    max_tokens_ = config.get_int("max_tokens", 1024, 1, 1000000);
    json_mode_ = config.get_bool("json_mode", true);
    common_.secrets.push_back(api_key_);
  }

  Completion complete(const LlmRequest &req) override {
    nlohmann::json messages = pgmcp::llmhttp::conversation(req);
    if (!req.system_prompt().empty())
      messages.insert(messages.begin(),
                      nlohmann::json{{"role", "system"}, {"content", req.system_prompt()}});
    nlohmann::json body = {
        {"model", model_},
        {"messages", std::move(messages)},
        {"temperature", req.temperature() >= 0 ? req.temperature() : temperature_},
        {"max_tokens",
         req.max_tokens() > 0 ? static_cast<long long>(req.max_tokens()) : max_tokens_}};
    if (req.want_json() && json_mode_) body["response_format"] = {{"type", "json_object"}};
    pgmcp::llmhttp::Headers headers;
    if (!api_key_.empty())
      headers.emplace_back(key_header_,
                           key_header_ == "Authorization" ? "Bearer " + api_key_ : api_key_);
    std::string suffix = "/chat/completions";
    if (!api_version_.empty()) suffix += "?api-version=" + api_version_;
    auto j =
        pgmcp::llmhttp::call(common_, "the OpenAI-compatible endpoint", suffix, headers, body, req);
    Completion c;
    const auto &choices = j.value("choices", nlohmann::json::array());
    if (!choices.is_array() || choices.empty() || !choices[0].is_object())
      throw Error(PGMCP_ERR_REMOTE, "the OpenAI-compatible endpoint answered without choices");
    const auto &message = choices[0].value("message", nlohmann::json::object());
    if (message.is_object() && message.contains("content") && message["content"].is_string())
      c.text = message["content"].get<std::string>();
    if (c.text.empty())
      throw Error(PGMCP_ERR_REMOTE, "the OpenAI-compatible endpoint answered with no text");
    c.stop_reason = pgmcp::llmhttp::string_field(choices[0], "finish_reason");
    c.model = pgmcp::llmhttp::string_field(j, "model");
    const auto &usage = j.value("usage", nlohmann::json::object());
    c.prompt_tokens = pgmcp::llmhttp::count_field(usage, "prompt_tokens");
    c.completion_tokens = pgmcp::llmhttp::count_field(usage, "completion_tokens");
    return c;
  }

 private:
  pgmcp::llmhttp::Common common_;
  std::string api_key_, key_header_, api_version_, model_;
  double temperature_ = 0;
  long long max_tokens_ = 1024;
  bool json_mode_ = true;
};

}  // namespace

PGMCP_PLUGIN("openai", "0.1.0", "OpenAI Chat Completions (OpenAI, Azure, Ollama, vLLM, llama.cpp)",
             pgmcp::sdk::LanguageModelCapability<OpenAi>)
