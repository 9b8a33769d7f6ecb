// The router: the plan's order over the candidates (provider + package + account) of one request,
// with explainable terms. Use it or lose it: the cheapest capacity first, where capacity that will
// be lost anyway costs nothing, and among equals the capacity lost soonest.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quotagate/json.hpp"
#include "quotagate/quota_tracker.hpp"

namespace qg {

// How the plan orders candidates (docs/quota-model.md "The plan"). Capacity, value and loss are
// the order; health, failures and latency are constraints and tie-breaks, never points that
// outweigh capacity about to be lost.
struct RouterWeights {
  bool quota_aware = true;  // false: no quota order and no quota exclusions (the `naive` policy)
  // Latency tie-break bands (ms): candidates in the same band are equal on latency.
  double latency_band_ms[4] = {250, 750, 1500, 3000};
};

struct ProviderHealth {
  int consecutive_failures = 0;
  int unhealthy_after = 3;
  // Newest failure and success seen (ms since epoch). Signals from other instances arrive late
  // through the shared ledger: a success older than the last failure does not clear the failures,
  // and a failure older than the last success does not count towards them.
  int64_t last_failure_at = INT64_MIN;
  int64_t last_success_at = INT64_MIN;
  std::optional<double> latency_ms;  // EWMA of observed latency
  std::optional<int64_t> cooldown_until;
  std::string cooldown_reason;
  bool healthy() const { return consecutive_failures < unhealthy_after; }
};

// The part of a QuotaStatus the router reads: small and contiguous, so 1,000 candidates stay in cache.
// Units: the package's (currency units for credits, weighted requests for windows).
struct RouteView {
  const std::string* package_id = nullptr;
  PackageType package_type = PackageType::kCredits;
  int alert = 5;  // alert_rank(): 0 exhausted, 1 use_or_lose, 2 expired, 3 topup, 4 watch, 5 ok
  double total = 0, remaining = 0;
  std::optional<int64_t> reset_at;
  // What the tightest window still admits (min over the primary and secondary windows).
  double headroom = 0;
  // The capacity whose loss costs money: credits until expiry, or the longest window until its
  // reset (nullopt: nothing is lost, e.g. a fixed window not started). Units as above.
  std::optional<int64_t> value_loss_at;
  double value_remaining = 0;
  // A shorter window in front of the longest one (a 5 h session before the week): its reset, and
  // what its own pace leaves unused by then.
  std::optional<int64_t> short_loss_at;
  double short_at_risk = 0;
  // Capacity over time: headroom now, then rate_per_h (the tightest window's limit per hour)
  // from renew_at (the primary's next reset) on. Credits: rate 0.
  double rate_per_h = 0;
  std::optional<int64_t> renew_at;
  // Units used over the last 24 hours (per hour of 24): the demand forecast of the plan (it follows a
  // shift of traffic between candidates within a day; the burn's multi-day average does not).
  double recent_per_h = 0;
  std::optional<int64_t> recent_since;  // the first use inside those 24 hours
  double unit_value = 0;  // USD per unit (Package::unit_value_usd)
  // Credits: the mean cost of one request in the package currency over the burn lookback
  // (nullopt: no history yet).
  std::optional<double> cost_per_request;
  // Exhausted plan windows do not exclude: the provider serves beyond them (overage, credits)
  // and the operator allows it (provider `overage: allow`).
  bool overage_serves = false;
};

// A cooldown or block narrower than the provider: one account (a 429 on that account's window)
// or one model family of an account (a rejected 7d_opus window).
struct ScopedBlock {
  std::optional<int64_t> until;  // nullopt: unknown (blocks until a reading says otherwise)
  std::string reason;
};
RouteView route_view_of(const QuotaStatus& s, const Package& p, const std::string* package_id, int64_t now_ms);
const char* alert_name(int rank);

// One candidate as the router sees it. Pointers refer to engine-owned data that outlives the call.
struct RouteCandidateInput {
  const std::string* provider_id = nullptr;
  const RouteView* status = nullptr;       // nullptr: provider without a quota package
  const ProviderHealth* health = nullptr;  // nullptr: no history (healthy, latency unknown)
  const std::string* account = nullptr;    // nullptr or "": the provider's only key
  const ScopedBlock* block = nullptr;      // account or family block that applies to this request
  // Units this request takes from the package: the model's weight (windows) or the expected cost
  // of one request in the package currency (credits). Admission: more than the headroom excludes.
  double weight = 1;
  // USD one request costs at a provider without a package (pay as you go): the mean recorded
  // cost; negative when nothing is recorded yet (see decide_route).
  double payg_cost_usd = -1;
  // Window packages: USD per unit that the demand its units would otherwise serve pays elsewhere
  // (the highest price per unit, among the models it serves, at a pay-as-you-go provider). When
  // the window is scarce, a unit is worth that much, not just its own value (0: nothing known).
  double shadow_per_unit = 0;
  // Position of the candidate's member in an `ordered` model group (0 otherwise): lower first.
  int group_rank = 0;
  // The model this candidate sends upstream (nullptr: none named; the decision's model is "").
  const std::string* model = nullptr;
  // A dense id (0 <= state < 2^31) of the quota state behind `status`, or -1. Candidates of one
  // state (two group members on one package) share its capacity; with ids that is found in one
  // pass, without them by sorting the status pointers.
  int state = -1;
};

// Explained terms, in a fixed order; names in kTermNames. Lexicographic: eligible, group rank,
// healthy, cost_usd (lower first), urgency_usd_per_h (higher), at_risk > 0 first, hours_to_loss
// (sooner first), failures (fewer), latency band (faster), then the configured order.
enum Term {
  kGroupRank, kHealthy, kCostUsd, kUrgency, kAtRisk, kAtRiskUsd, kPullInH, kHoursToLoss, kWeight, kHeadroom, kFailures,
  kLatencyMs, kTermCount
};
extern const char* const kTermNames[kTermCount];

struct RankedCandidate {
  std::string provider_id, package_id, model, account;
  bool excluded = false;
  std::string exclusion;  // why: exhausted, expired, cooldown until ...
  std::optional<int64_t> available_at;  // when an excluded candidate has capacity again
  std::optional<int64_t> loss_at;       // when its remaining capacity is lost
  std::string why;                      // the terms in words
  std::vector<std::pair<std::string, double>> terms;
};

struct RouteDecision {
  bool ok = false;  // false: no candidate serves the model
  std::string provider_id, package_id, model, reason, error;
  std::string account;  // the winner's account id ("" for a provider's only key)
  size_t winner = 0;                    // index into the candidate inputs
  bool all_excluded = false;            // every candidate exhausted, expired or cooling down
  std::optional<int64_t> retry_at;      // earliest time any candidate has capacity again
  std::vector<RankedCandidate> ranked;  // best first; filled only when explain is requested
};

// What successive decide_route calls may share: the last order of the forecast's deadlines, a hint
// that is checked before use (an order that no longer sorts the lots is replaced), so a decision
// never depends on it. One per engine; not for concurrent calls.
struct RouteScratch {
  std::vector<uint32_t> lot_order;
};

// A price not yet known (credits whose requests have no recorded cost, a pay-as-you-go provider
// never used) is taken as the mean of the known ones among the candidates, else one cent.
// explain=false is the hot path: a linear scan with no per-candidate strings. explain=true also
// returns every candidate ranked with its terms. Both pick the same winner.
RouteDecision decide_route(const std::string& requested_model, const std::vector<RouteCandidateInput>& candidates,
                           const RouterWeights& w, int64_t now_ms, bool explain = true, RouteScratch* scratch = nullptr);
Json decision_to_json(const RouteDecision& d);

}  // namespace qg
