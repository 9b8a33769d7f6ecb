// The one JSON type of the core: nlohmann's ordered_json, so that a catalog written back keeps
// the operator's key order and every document the core emits has a stable, byte-identical layout.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace qg {
using Json = nlohmann::ordered_json;

// Serialises without ever throwing on text that is not valid UTF-8 (a provider's header bytes can be
// anything): invalid sequences become U+FFFD. Every document the core hands out goes through this.
inline std::string dump_json(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace qg
