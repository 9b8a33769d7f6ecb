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
  std::optional<double> latency_ms;  // EWMA of observed latency
  std::optional<int64_t> cooldown_until;
  std::string cooldown_reason;
  bool healthy() const { return consecutive_failures < unhealthy_after; }
};

struct RouteCandidateInput {
  std::string provider_id;
  std::string model;                  // the model to send upstream
  const QuotaStatus* status = nullptr;  // nullptr: provider without a quota package
  ProviderHealth health;
};

struct RankedCandidate {
  std::string provider_id, package_id, model;
  double score = 0;
  bool excluded = false;
  std::string exclusion;  // why: exhausted, expired, cooldown until ...
  std::optional<int64_t> available_at;  // when an excluded candidate has capacity again
  std::vector<std::pair<std::string, double>> terms;
};

struct RouteDecision {
  bool ok = false;  // false: no candidate serves the model
  std::string provider_id, package_id, model, reason, error;
  bool all_excluded = false;            // every candidate exhausted, expired or cooling down
  std::optional<int64_t> retry_at;      // earliest time any candidate has capacity again
  std::vector<RankedCandidate> ranked;  // best first
};

RouteDecision decide_route(const std::string& requested_model, const std::vector<RouteCandidateInput>& candidates,
                           const RouterWeights& w, int64_t now_ms);
Json decision_to_json(const RouteDecision& d);

}  // namespace qg
