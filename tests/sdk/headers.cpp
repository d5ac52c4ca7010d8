// Every SDK header, C and C++, compiles in this language mode (C++17 and C++20
// targets build this file), and a plugin declared with the C++ layer links.
#include <cstdio>
#include <type_traits>

#include "pgmcp/cpp/driver.hpp"
#include "pgmcp/cpp/llm.hpp"
#include "pgmcp/cpp/plugin.hpp"
#include "pgmcp/cpp/ratelimit.hpp"

static_assert(std::is_standard_layout_v<pgmcp_plugin>);
static_assert(std::is_trivially_copyable_v<pgmcp_host>);
static_assert(offsetof(pgmcp_plugin, struct_size) == 0);

namespace {
class Always final : public pgmcp::sdk::RateLimiter {
 public:
  explicit Always(const pgmcp::sdk::Config &) {}
  pgmcp::sdk::Grant try_acquire(std::string_view, std::uint32_t) override { return {true, {}, {}}; }
  pgmcp::sdk::Grant acquire(std::string_view, std::uint32_t, std::chrono::milliseconds) override {
    return {true, {}, {}};
  }
};
class Echo final : public pgmcp::sdk::LanguageModel {
 public:
  explicit Echo(const pgmcp::sdk::Config &) {}
  pgmcp::sdk::Completion complete(const pgmcp::sdk::LlmRequest &r) override {
    return {std::string(r.text(0)), 1, 1, "echo", "stop"};
  }
};
}  // namespace

PGMCP_PLUGIN("header-check", "1.0.0", "compile check", pgmcp::sdk::RateLimiterCapability<Always>,
             pgmcp::sdk::LanguageModelCapability<Echo>)

int main() {
  const pgmcp_plugin *p = pgmcp_plugin_entry(PGMCP_ABI_MAJOR);
  if (p == nullptr || p->struct_size != sizeof(pgmcp_plugin)) return 1;
  if (pgmcp_plugin_entry(PGMCP_ABI_MAJOR + 1) != nullptr) return 1;  // refuses another major
  if (p->get_capability(PGMCP_RATELIMIT_V1) == nullptr) return 1;
  if (p->get_capability(PGMCP_LLM_V1) == nullptr) return 1;
  if (p->get_capability(PGMCP_DRIVER_V1) != nullptr) return 1;
  std::printf("C++ %ld: plugin %s offers ratelimit and llm\n", static_cast<long>(__cplusplus),
              p->id);
  return 0;
}
