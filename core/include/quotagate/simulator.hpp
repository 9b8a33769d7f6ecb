// What-if simulator: replays a traffic scenario against a copy of the live state with the real
// router and tracker, minute by minute, under one or two routing policies, and reports remaining
// capacity over time, exhaustion, capacity wasted at expiry and resets, traffic share and unserved
// requests. Pure: the same state and scenario always give the same JSON (docs/simulator.md).
#pragma once
#include <string>
#include <string_view>

namespace qg {

// state_json: the engine state document (/api/state "state"); scenario_json: docs/simulator.md.
// Never throws: errors come back as {"error": "..."}.
std::string simulate_json(std::string_view state_json, std::string_view scenario_json);

}  // namespace qg
