// The one JSON type of the core: nlohmann's ordered_json, so that a catalog written back keeps
// the operator's key order and every document the core emits has a stable, byte-identical layout.
#pragma once
#include <nlohmann/json.hpp>

namespace qg {
using Json = nlohmann::ordered_json;
}  // namespace qg
