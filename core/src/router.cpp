// Candidate scoring (faigate-compatible terms plus expiring capacity), exclusion and ranking.
#include "quotagate/router.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"

namespace qg {

RouteView route_view_of(const QuotaStatus& s, const std::string* package_id) {
  RouteView v;
  v.package_id = package_id;
  v.package_type = s.package_type;
  v.alert = alert_rank(s.alert);
  v.total = s.total;
  v.remaining = s.remaining;
  v.remaining_ratio = s.remaining_ratio;
  v.expiring_capacity = s.expiring_capacity;
  v.days_until_expiry = s.days_until_expiry;
  v.reset_at = s.reset_at;
  v.overage_serves = s.overage && s.overage->available;
  return v;
}

const char* alert_name(int rank) {
  static const char* const kNames[6] = {"exhausted", "use_or_lose", "expired", "topup", "watch", "ok"};
  return rank >= 0 && rank < 6 ? kNames[rank] : "ok";
}

constexpr int kExhausted = 0, kUseOrLoseAlert = 1, kExpired = 2;

const char* const kTermNames[kTermCount] = {"health", "failures", "latency", "package",
                                             "use_or_lose", "expiry", "expiring_capacity"};

namespace {

const ProviderHealth kNoHistory{};

double latency_term(const ProviderHealth& h, const RouterWeights& w) {
  if (!h.latency_ms) return w.latency_unknown;
  for (int i = 0; i < 4; ++i)
    if (*h.latency_ms <= w.latency_band_ms[i]) return w.latency_score[i];
  return w.latency_score[4];
}

// Everything the ranking needs, with no strings: cheap enough for 1,000 candidates.
struct Scored {
  double terms[kTermCount];
  double score;
  bool cooling, quota_blocked, excluded;
  std::optional<int64_t> available_at;
};

Scored score(const RouteCandidateInput& in, const RouterWeights& w, int64_t now) {
  Scored c{};
  const ProviderHealth& h = in.health ? *in.health : kNoHistory;
  const RouteView* s = in.status;
  c.terms[kHealth] = h.healthy() ? w.health : 0;
  c.terms[kFailures] = std::max(0.0, w.failures_base - w.failures_step * h.consecutive_failures);
  c.terms[kLatency] = latency_term(h, w);
  if (s && w.quota_aware) {
    c.terms[kPackage] = std::min(w.package_max, std::floor(s->remaining_ratio * w.package_max));
    if (s->alert == kUseOrLoseAlert) c.terms[kUseOrLose] = w.use_or_lose;
    if (s->package_type == PackageType::kCredits && s->days_until_expiry && *s->days_until_expiry > 0 && s->remaining > 0) {
      if (*s->days_until_expiry <= 7) c.terms[kExpiry] = w.expiry_7d;
      else if (*s->days_until_expiry <= 30) c.terms[kExpiry] = w.expiry_30d;
    }
    // Capacity lost soon matters more: windows lose theirs at the next reset (hours away); credits
    // count fully within 7 days of expiry, fading to nothing at 30 days.
    double urgency = 1;
    if (s->package_type == PackageType::kCredits)
      urgency = s->days_until_expiry ? std::clamp(1.0 - (*s->days_until_expiry - 7.0) / 23.0, 0.0, 1.0) : 0.0;
    if (s->total > 0) c.terms[kExpiringCapacity] = w.expiring_capacity * urgency * std::min(1.0, s->expiring_capacity / s->total);
  }
  double total = 0;
  for (double t : c.terms) total += t;
  c.score = round_to(total, 6);  // equal-looking scores compare equal, so the configured order breaks ties
  c.cooling = h.cooldown_until && *h.cooldown_until > now;
  if (c.cooling) c.available_at = h.cooldown_until;
  if (in.block && (!in.block->until || *in.block->until > now)) {
    // Available again only once both the provider and the scoped block have cleared.
    if (!in.block->until) c.available_at.reset();
    else if (!c.cooling || (c.available_at && *in.block->until > *c.available_at)) c.available_at = in.block->until;
    c.cooling = true;
  }
  c.quota_blocked = s && w.quota_aware && ((s->alert == kExhausted && !s->overage_serves) || s->alert == kExpired);
  if (c.quota_blocked) {
    const std::optional<int64_t> back = s->alert == kExhausted ? s->reset_at : std::nullopt;
    // Available again only when every blocking condition has cleared.
    if (!back) c.available_at.reset();
    else if (!c.cooling || (c.available_at && *back > *c.available_at)) c.available_at = back;
  }
  c.excluded = c.cooling || c.quota_blocked;
  return c;
}

// Eligible first, then by score, then the configured order; among excluded candidates the one
// whose capacity returns first is the least bad.
bool better(const Scored& a, size_t ia, const Scored& b, size_t ib) {
  if (a.excluded != b.excluded) return !a.excluded;
  if (a.excluded) {
    const int64_t ta = a.available_at.value_or(INT64_MAX), tb = b.available_at.value_or(INT64_MAX);
    if (ta != tb) return ta < tb;
  }
  if (a.score != b.score) return a.score > b.score;
  return ia < ib;
}

std::string exclusion_text(const RouteCandidateInput& in, const Scored& c, int64_t now) {
  std::string out;
  if (c.cooling && in.health && in.health->cooldown_until && *in.health->cooldown_until > now) {
    const ProviderHealth& h = *in.health;
    out = "cooldown until " + format_iso_utc(*h.cooldown_until) + (h.cooldown_reason.empty() ? "" : " (" + h.cooldown_reason + ")");
  }
  if (c.cooling && in.block && (!in.block->until || *in.block->until > now)) {
    if (!out.empty()) out += "; ";
    out += in.block->reason + (in.block->until ? " until " + format_iso_utc(*in.block->until) : "");
  }
  if (c.quota_blocked) {
    if (!out.empty()) out += "; ";
    out += alert_name(in.status->alert);
    if (in.status->alert == kExhausted && in.status->reset_at) out += " until " + format_iso_utc(*in.status->reset_at);
  }
  return out;
}

RankedCandidate explain_one(const RouteCandidateInput& in, const Scored& c, const std::string& model, int64_t now) {
  RankedCandidate r;
  r.provider_id = *in.provider_id;
  if (in.account) r.account = *in.account;
  if (in.status) r.package_id = *in.status->package_id;
  r.model = model;
  r.score = c.score;
  r.excluded = c.excluded;
  r.exclusion = exclusion_text(in, c, now);
  r.available_at = c.available_at;
  for (int t = 0; t < kTermCount; ++t) r.terms.emplace_back(kTermNames[t], round_to(c.terms[t], 6));
  return r;
}

std::string format_score(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

RouteDecision decide_route(const std::string& requested, const std::vector<RouteCandidateInput>& inputs,
                           const RouterWeights& w, int64_t now, bool explain, const std::vector<std::string>* models) {
  RouteDecision d;
  if (inputs.empty()) {
    d.error = "no provider serves model \"" + requested + "\"";
    return d;
  }
  std::vector<Scored> scored;
  scored.reserve(inputs.size());
  size_t best = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    scored.push_back(score(inputs[i], w, now));
    if (i > 0 && better(scored[i], i, scored[best], best)) best = i;
  }
  const Scored& top = scored[best];
  const RouteCandidateInput& winner = inputs[best];
  d.ok = true;
  d.winner = best;
  d.provider_id = *winner.provider_id;
  if (winner.status) d.package_id = *winner.status->package_id;
  if (winner.account) d.account = *winner.account;
  if (models && best < models->size()) d.model = (*models)[best];
  if (!top.excluded) {
    d.reason = "highest score " + format_score(top.score) +
               (inputs.size() > 1 ? " of " + std::to_string(inputs.size()) + " candidates" : " (only candidate)");
    if (top.terms[kUseOrLose] > 0 || top.terms[kExpiry] > 0 || top.terms[kExpiringCapacity] >= 5e-7)
      d.reason += "; use-or-lose capacity";
  } else {
    d.all_excluded = true;
    for (const Scored& c : scored)
      if (c.available_at && (!d.retry_at || *c.available_at < *d.retry_at)) d.retry_at = c.available_at;
    d.reason = "all " + std::to_string(inputs.size()) + " candidates excluded; least bad: " + d.provider_id + " (" +
               exclusion_text(winner, top, now) + ")";
  }
  if (explain) {
    std::vector<size_t> order(inputs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return better(scored[a], a, scored[b], b); });
    d.ranked.reserve(order.size());
    static const std::string kNoModel;
    for (size_t i : order) d.ranked.push_back(explain_one(inputs[i], scored[i], models && i < models->size() ? (*models)[i] : kNoModel, now));
  }
  return d;
}

Json decision_to_json(const RouteDecision& d) {
  Json j = Json::object();
  j["ok"] = d.ok;
  j["provider"] = d.ok ? Json(d.provider_id) : Json(nullptr);
  j["package_id"] = d.package_id.empty() ? Json(nullptr) : Json(d.package_id);
  if (!d.account.empty()) j["account_id"] = d.account;
  j["model"] = d.ok ? Json(d.model) : Json(nullptr);
  j["reason"] = d.ok ? Json(d.reason) : Json(d.error);
  j["all_excluded"] = d.all_excluded;
  j["retry_at"] = d.retry_at ? Json(format_iso_utc(*d.retry_at)) : Json(nullptr);
  Json ranked = Json::array();
  for (const auto& c : d.ranked) {
    Json cj = Json::object();
    cj["provider"] = c.provider_id;
    cj["package_id"] = c.package_id.empty() ? Json(nullptr) : Json(c.package_id);
    if (!c.account.empty()) cj["account_id"] = c.account;
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
