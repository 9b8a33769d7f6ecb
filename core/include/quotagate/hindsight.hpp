// The hindsight optimum: the cheapest way to serve a known demand (every request of the horizon,
// slot by slot) from packages whose capacity lives in periods (window resets, credit expiry),
// as a max-flow over a time-expanded network solved greedily in order of cost. The simulator's
// `hindsight` policy (docs/simulator.md, docs/quota-model.md).
//
// Why greedy is optimal: the vectors "requests served by each candidate" that some routing can
// achieve form a polymatroid (its rank is a max-flow into the chosen candidates), and a linear
// objective over a polymatroid is optimised by the greedy order. Serving is worth a large M per
// request, so every feasible request is served first, then cost decides.
#pragma once
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace qg {

// [start_ms, end_ms) with a capacity in requests of this candidate's weight. cost_usd: per request
// served in this period, read on the top level only (a subscription's week that resets inside the
// horizon saves its value; one that resets after it saves nothing).
struct CapacityPeriod {
  int64_t start_ms = 0, end_ms = 0;
  int64_t capacity = 0;
  double cost_usd = 0;
};

// One candidate: a package on one account, or a pay-as-you-go provider (no levels: unlimited).
// levels[0] are the shortest windows' periods (or the credits' one period until expiry); each
// period of level i+1 bounds the periods of level i that start inside it (a 5 h window within its
// week). A level-i period that straddles two longer periods is cut in two, each piece with the
// whole period's capacity (a relaxation: the result stays a bound).
struct HindsightCandidate {
  double cost_usd = 0;  // objective per request without levels (pay as you go); else per top period
  std::vector<std::vector<CapacityPeriod>> levels;
  std::vector<bool> serves;  // per demand stream
};

struct HindsightProblem {
  int64_t start_ms = 0, slot_ms = 60000;
  std::vector<std::vector<int64_t>> demand;  // [stream][slot] requests arriving in the slot
  std::vector<HindsightCandidate> candidates;
};

struct HindsightPlan {
  // [slot][stream] -> (candidate index, requests): what the optimum serves where.
  std::vector<std::vector<std::vector<std::pair<uint32_t, int64_t>>>> take;
  int64_t served = 0, unserved = 0;
  double cost_usd = 0;  // sum of cost_usd x requests over the plan
  // [candidate][top-level period] requests served in it (one entry for a levelless candidate).
  std::vector<std::vector<int64_t>> top_flow;
};

// Deterministic; O(top-level periods x max-flow phases). Each top-level period (or a levelless
// candidate) is one element of the greedy, opened in order of cost (ties: candidate, then period).
HindsightPlan solve_hindsight(const HindsightProblem& problem);

}  // namespace qg
