// Candidate scoring (faigate-compatible terms plus expiring capacity), exclusion and ranking.
#include "quotagate/router.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"

namespace qg {

namespace {

double latency_term(const ProviderHealth& h, const RouterWeights& w) {
  if (!h.latency_ms) return w.latency_unknown;
  for (int i = 0; i < 4; ++i)
    if (*h.latency_ms <= w.latency_band_ms[i]) return w.latency_score[i];
  return w.latency_score[4];
}

RankedCandidate score(const RouteCandidateInput& in, const RouterWeights& w, int64_t now) {
  RankedCandidate c;
  c.provider_id = in.provider_id;
  c.model = in.model;
  const QuotaStatus* s = in.status;
  if (s) c.package_id = s->package_id;
  const double health = in.health.healthy() ? w.health : 0;
  const double failures = std::max(0.0, w.failures_base - w.failures_step * in.health.consecutive_failures);
  const double latency = latency_term(in.health, w);
  double package = 0, uol = 0, expiry = 0, expiring = 0;
  if (s && w.quota_aware) {
    package = std::min(w.package_max, std::floor(s->remaining_ratio * w.package_max));
    if (s->alert == "use_or_lose") uol = w.use_or_lose;
    if (s->package_type == PackageType::kCredits && s->days_until_expiry && *s->days_until_expiry > 0 && s->remaining > 0) {
      if (*s->days_until_expiry <= 7) expiry = w.expiry_7d;
      else if (*s->days_until_expiry <= 30) expiry = w.expiry_30d;
    }
    if (s->total > 0) expiring = w.expiring_capacity * std::min(1.0, s->expiring_capacity / s->total);
  }
  c.terms = {{"health", health},   {"failures", failures},       {"latency", latency},
             {"package", package}, {"use_or_lose", uol},         {"expiry", expiry},
             {"expiring_capacity", round_to(expiring, 6)}};
  double total = 0;
  for (const auto& t : c.terms) total += t.second;
  c.score = round_to(total, 6);

  if (in.health.cooldown_until && *in.health.cooldown_until > now) {
    c.excluded = true;
    c.exclusion = "cooldown until " + format_iso_utc(*in.health.cooldown_until) +
                  (in.health.cooldown_reason.empty() ? "" : " (" + in.health.cooldown_reason + ")");
    c.available_at = in.health.cooldown_until;
  }
  if (s && w.quota_aware && (s->alert == "exhausted" || s->alert == "expired")) {
    const std::optional<int64_t> back = s->alert == "exhausted" ? s->reset_at : std::nullopt;
    c.exclusion = c.excluded ? c.exclusion + "; " + s->alert : s->alert;
    if (s->alert == "exhausted" && s->reset_at) c.exclusion += " until " + format_iso_utc(*s->reset_at);
    // Available again only when every blocking condition has cleared.
    if (!back) c.available_at.reset();
    else if (!c.excluded || (c.available_at && *back > *c.available_at)) c.available_at = back;
    c.excluded = true;
  }
  return c;
}

}  // namespace

RouteDecision decide_route(const std::string& requested, const std::vector<RouteCandidateInput>& inputs,
                           const RouterWeights& w, int64_t now) {
  RouteDecision d;
  if (inputs.empty()) {
    d.error = "no provider serves model \"" + requested + "\"";
    return d;
  }
  std::vector<std::pair<size_t, RankedCandidate>> ranked;
  ranked.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) ranked.emplace_back(i, score(inputs[i], w, now));
  // Eligible first, then by score, then the configured order (stable and deterministic).
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.second.excluded != b.second.excluded) return !a.second.excluded;
    if (a.second.excluded) {
      // Least bad among excluded: the one whose capacity returns first, then score.
      const int64_t ta = a.second.available_at.value_or(INT64_MAX), tb = b.second.available_at.value_or(INT64_MAX);
      if (ta != tb) return ta < tb;
    }
    if (a.second.score != b.second.score) return a.second.score > b.second.score;
    return a.first < b.first;
  });
  for (auto& r : ranked) d.ranked.push_back(std::move(r.second));
  const RankedCandidate& best = d.ranked.front();
  d.ok = true;
  d.provider_id = best.provider_id;
  d.package_id = best.package_id;
  d.model = best.model;
  if (!best.excluded) {
    char score_text[32];
    std::snprintf(score_text, sizeof score_text, "%.2f", best.score);
    d.reason = std::string("highest score ") + score_text +
               (d.ranked.size() > 1 ? " of " + std::to_string(d.ranked.size()) + " candidates" : " (only candidate)");
    for (const auto& t : best.terms)
      if ((t.first == "use_or_lose" || t.first == "expiry" || t.first == "expiring_capacity") && t.second > 0) {
        d.reason += "; use-or-lose capacity";
        break;
      }
  } else {
    d.all_excluded = true;
    for (const auto& c : d.ranked)
      if (c.available_at && (!d.retry_at || *c.available_at < *d.retry_at)) d.retry_at = c.available_at;
    d.reason = "all " + std::to_string(d.ranked.size()) + " candidates excluded; least bad: " + best.provider_id + " (" +
               best.exclusion + ")";
  }
  return d;
}

Json decision_to_json(const RouteDecision& d) {
  Json j = Json::object();
  j["ok"] = d.ok;
  j["provider"] = d.ok ? Json(d.provider_id) : Json(nullptr);
  j["package_id"] = d.package_id.empty() ? Json(nullptr) : Json(d.package_id);
  j["model"] = d.ok ? Json(d.model) : Json(nullptr);
  j["reason"] = d.ok ? Json(d.reason) : Json(d.error);
  j["all_excluded"] = d.all_excluded;
  j["retry_at"] = d.retry_at ? Json(format_iso_utc(*d.retry_at)) : Json(nullptr);
  Json ranked = Json::array();
  for (const auto& c : d.ranked) {
    Json cj = Json::object();
    cj["provider"] = c.provider_id;
    cj["package_id"] = c.package_id.empty() ? Json(nullptr) : Json(c.package_id);
    cj["model"] = c.model;
    cj["score"] = c.score;
    cj["excluded"] = c.excluded;
    cj["exclusion"] = c.exclusion.empty() ? Json(nullptr) : Json(c.exclusion);
    Json terms = Json::object();
    for (const auto& t : c.terms) terms[t.first] = round_to(t.second, 6);
    cj["terms"] = terms;
    ranked.push_back(cj);
  }
  j["ranked"] = ranked;
  return j;
}

}  // namespace qg
