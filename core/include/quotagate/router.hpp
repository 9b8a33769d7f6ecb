// The router: scores each candidate (provider + package) with explainable terms and picks one.
// Use it or lose it: capacity that would otherwise expire or reset unused scores higher.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quotagate/json.hpp"
#include "quotagate/quota_tracker.hpp"

namespace qg {

struct RouterWeights {
  double health = 25;            // healthy provider
  double failures_base = 12;     // max(0, base - step * consecutive failures)
  double failures_step = 3;
  double latency_band_ms[4] = {250, 750, 1500, 3000};
  double latency_score[5] = {10, 8, 5, 2, 0};
  double latency_unknown = 5;    // no latency observed yet: the middle band
  double package_max = 5;        // min(package_max, floor(remaining_ratio * package_max))
  double use_or_lose = 3;
  double expiry_7d = 5;          // credits expiring within 7 days
  double expiry_30d = 2;         // ... within 30 days
  double expiring_capacity = 4;  // x min(1, expiring_capacity / total): capacity about to be lost wins ties
  bool quota_aware = true;       // false: the same weights without quota terms or quota exclusions
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
struct RouteView {
  const std::string* package_id = nullptr;
  PackageType package_type = PackageType::kCredits;
  int alert = 5;  // alert_rank(): 0 exhausted, 1 use_or_lose, 2 expired, 3 topup, 4 watch, 5 ok
  double total = 0, remaining = 0, remaining_ratio = 0, expiring_capacity = 0;
  std::optional<double> days_until_expiry;
  std::optional<int64_t> reset_at;
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
RouteView route_view_of(const QuotaStatus& s, const std::string* package_id);
const char* alert_name(int rank);

// One candidate as the router sees it. Pointers refer to engine-owned data that outlives the call.
struct RouteCandidateInput {
  const std::string* provider_id = nullptr;
  const RouteView* status = nullptr;       // nullptr: provider without a quota package
  const ProviderHealth* health = nullptr;  // nullptr: no history (healthy, latency unknown)
  const std::string* account = nullptr;    // nullptr or "": the provider's only key
  const ScopedBlock* block = nullptr;      // account or family block that applies to this request
};

// Terms in a fixed order; names in kTermNames.
enum Term { kHealth, kFailures, kLatency, kPackage, kUseOrLose, kExpiry, kExpiringCapacity, kTermCount };
extern const char* const kTermNames[kTermCount];

struct RankedCandidate {
  std::string provider_id, package_id, model, account;
  double score = 0;
  bool excluded = false;
  std::string exclusion;  // why: exhausted, expired, cooldown until ...
  std::optional<int64_t> available_at;  // when an excluded candidate has capacity again
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

// explain=false is the hot path: a linear scan with no per-candidate strings. explain=true also
// returns every candidate ranked with its terms. Both pick the same winner.
// models (optional, parallel to candidates) name what each candidate would send upstream.
RouteDecision decide_route(const std::string& requested_model, const std::vector<RouteCandidateInput>& candidates,
                           const RouterWeights& w, int64_t now_ms, bool explain = true,
                           const std::vector<std::string>* models = nullptr);
Json decision_to_json(const RouteDecision& d);

}  // namespace qg
