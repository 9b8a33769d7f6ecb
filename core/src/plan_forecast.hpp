// The plan's forecast (docs/quota-model.md "Routing as a plan"): what each candidate of one
// request would lose, and when, if the demand the ledger shows goes on, served earliest deadline
// first; and when valuable capacity at risk must be pulled in. Internal to the router.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "quotagate/router.hpp"

namespace qg::plan {

// What the pooled forecast says one candidate loses (units of its package), and when.
struct Risk {
  double at_risk = 0;  // units
  std::optional<int64_t> loss_at;
  // Hours until valuable capacity at risk must be pulled in: serving it before costs free
  // capacity that the demand would have used (0: now).
  double pull_in_h = 0;
};

// Valuable capacity at risk is pulled in (served ahead of free capacity with earlier deadlines)
// only from its latest start on: when the time left is within kPullMargin times what the demand
// needs to absorb it, plus kPullLeadH hours. Earlier, the forecast's noise would pull it in for
// nothing and cost free capacity that the demand would have used.
constexpr double kPullMargin = 10;
constexpr double kPullLeadH = 12;

// Use it or lose it, pooled: the demand forecast is the candidates' use over the last 24 hours
// (requests per hour), served earliest deadline first. A candidate's value-bearing capacity
// (credits until expiry, the longest window until its reset) is at risk by what that demand
// cannot reach after the capacity of every candidate whose deadline comes first (each one's
// headroom now, as far as the demand until that deadline reaches it, plus its tightest window's
// rate until then). A shorter window in front (a 5 h session) is at risk only as far as its own
// pace leaves it unused and the longer window is at risk too.
// `ids` (ascending, parallel to keys) in order of their keys, ties in id order (a stable sort).
// Many keys: an LSD radix sort, 8 bits a pass over the keys' spread (four passes when the
// deadlines lie within 49 days of each other, in ms).
std::vector<uint32_t> order_by_key(std::vector<uint64_t> keys, std::vector<uint32_t> ids);

// The forecast per state; candidates listing the same state share its Risk.
struct PooledRisk {
  std::vector<Risk> by_state;
  std::vector<uint32_t> state_of;  // per candidate: index into by_state (UINT32_MAX: no status)
  // Candidate i's Risk (none for a candidate without a status, or when nothing was forecast).
  const Risk& of(size_t i) const {
    static const Risk kNone{};
    return i < state_of.size() && state_of[i] != UINT32_MAX ? by_state[state_of[i]] : kNone;
  }
};
// unknown_cost: the price (USD) of a request whose credits have no recorded mean cost. now: ms
// since the epoch.
// scratch (optional): the last order of the lots, tried first and verified (results never depend
// on it), and updated.
PooledRisk pooled_risk(const std::vector<RouteCandidateInput>& inputs, int64_t now, double unknown_cost, RouteScratch* scratch = nullptr);

}  // namespace qg::plan
