// The simulator's hindsight policy: the offline problem (every candidate's capacity as periods,
// its cost per request, the demand of every slot) built from the engine's state at the start of
// the horizon, and solved by solve_hindsight (hindsight.hpp). Internal to the simulator.
#pragma once
#include <string>
#include <vector>

#include "quotagate/engine.hpp"
#include "quotagate/hindsight.hpp"
#include "sim_scenario.hpp"

namespace qg::sim {

struct PlanCandidate {
  std::string provider, package_id, account;  // package_id "": pay as you go
  size_t stream = 0;                          // the one demand stream it serves
  std::string model;                          // what it would send for that stream
  double weight = 1;                          // units one request of the stream takes here
  // The top level's periods in units (credits: the balance until expiry; windows: the longest
  // window), and whether each one's end is a loss inside the settlement.
  std::vector<double> top_units;
  std::vector<bool> top_lost_at_end;
  bool durable = false;  // credits that outlast the settlement
};

struct HindsightSolution {
  std::vector<PlanCandidate> candidates;
  HindsightPlan plan;
};

// Approximations (docs/quota-model.md): fixed windows that start at first use are tiled back to
// back from their current reset; sliding windows are tiled as fixed ones (a relaxation); family
// windows are not modelled; a state that serves several demand streams is split between them in
// proportion to their demand (exact with one stream, a feasible plan otherwise). The simulator
// reports the plan itself, not a replay.
HindsightSolution plan_hindsight(const Engine& engine, const Scenario& sc, const std::vector<std::vector<int64_t>>& demand);

}  // namespace qg::sim
