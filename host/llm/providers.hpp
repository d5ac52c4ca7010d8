// Which configured LLM the query tool asks.
#pragma once

#include <memory>

#include "config/settings.hpp"
#include "llm/client.hpp"
#include "plugins/instances.hpp"
#include "plugins/loader.hpp"

namespace pgmcp::llm {

using config::kClientModel;

// With no [llm.NAME] section at all, or [tools] query.llm naming the client's
// model without such a section, adds the implicit [llm.sampling] (when its
// plugin is installed).
void add_client_model(config::Settings &settings, const plugins::PluginRegistry &registry);

// The LLM the query tool asks: [tools] query.llm, else the only one
// configured, else the client's model. Null (and a warning saying why) when
// none can be chosen.
std::shared_ptr<Client> query_client(const config::Settings &settings,
                                     plugins::Instances &instances,
                                     observability::Metrics *metrics);

}  // namespace pgmcp::llm
