#include "llm/providers.hpp"

#include <algorithm>

#include "log/log.hpp"

namespace pgmcp::llm {

void add_client_model(config::Settings &s, const plugins::PluginRegistry &registry) {
  bool named = std::any_of(s.llms.begin(), s.llms.end(),
                           [](const auto &l) { return l.name == kClientModel; });
  bool wanted = s.llms.empty() || s.query.llm == kClientModel;
  if (named || !wanted || !registry.find(kClientModel)) return;
  config::InstanceSpec spec;
  spec.kind = "llm";
  spec.name = kClientModel;
  spec.plugin = kClientModel;
  spec.description = "the MCP client's own model";
  spec.where = "(built in)";
  s.llms.push_back(spec);
}

std::shared_ptr<Client> query_client(const config::Settings &s, plugins::Instances &instances,
                                     observability::Metrics *metrics) {
  const config::InstanceSpec *chosen = nullptr;
  for (const auto &l : s.llms) {
    if (s.query.llm.empty() ? s.llms.size() == 1 : l.name == s.query.llm) chosen = &l;
  }
  if (chosen == nullptr && s.query.llm.empty()) {
    for (const auto &l : s.llms)
      if (l.name == kClientModel) chosen = &l;
  }
  if (chosen == nullptr) {
    if (!s.llms.empty())
      log::warning("host",
                   "several [llm.NAME] sections and no [tools] query.llm: the query tool is off "
                   "until query.llm names one");
    else
      log::warning("host",
                   "no LLM is configured and the sampling plugin is missing: the query tool is "
                   "off");
    return nullptr;
  }
  std::shared_ptr<plugins::RateLimiter> limiter;
  if (!chosen->rate_limiter.empty()) limiter = instances.rate_limiters.at(chosen->rate_limiter);
  return std::make_shared<Client>(chosen->name, instances.llms.at(chosen->name), limiter,
                                  chosen->llm, metrics);
}

}  // namespace pgmcp::llm
