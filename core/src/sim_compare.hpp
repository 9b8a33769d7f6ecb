// The simulator's comparison of policies (docs/simulator.md "Results"): what the plan saves over
// naive, in words and per currency, and how far it is from the hindsight optimum. Internal.
#pragma once
#include "quotagate/json.hpp"

namespace qg::sim {

// policies: {"quota_aware": result, "naive"?: result, "hindsight"?: result}, each result as the
// simulator prints it. Returns {"messages": [...], "unserved_delta", "wasted_money_saved"
// (per currency, naive minus quota_aware), "hindsight"?: {gap_usd, gap_ratio, unserved_delta,
// within_target, ...}}.
Json compare(const Json& policies);

}  // namespace qg::sim
