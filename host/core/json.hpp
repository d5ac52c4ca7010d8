// The JSON type every layer speaks.
#pragma once

#include <nlohmann/json.hpp>

namespace pgmcp {

using json = nlohmann::json;

}  // namespace pgmcp
