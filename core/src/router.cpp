// The plan's order over one request's candidates: exclusion (cooldowns, exhausted, expired, a
// request heavier than the tightest window's headroom), then cost, value at risk and time to loss,
// with health, failures and latency as constraints and tie-breaks (docs/quota-model.md).
#include "quotagate/router.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "plan_forecast.hpp"
#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"

namespace qg {

const char* alert_name(int rank) {
  static const char* const kNames[6] = {"exhausted", "use_or_lose", "expired", "topup", "watch", "ok"};
  return rank >= 0 && rank < 6 ? kNames[rank] : "ok";
}

constexpr int kExhausted = 0, kExpired = 2;

const char* const kTermNames[kTermCount] = {"group_rank", "healthy",  "cost_usd", "urgency_usd_per_h", "at_risk", "at_risk_usd",
                                             "pull_in_h",  "hours_to_loss", "weight", "headroom", "failures", "latency_ms"};

using plan::Risk;

namespace {

const ProviderHealth kNoHistory{};
// Admission forgives 1 % of a window's limit: a provider's utilization comes rounded (2 of 3
// reported as 0.6667 leaves 0.9999, and a request of weight 1 still fits).
constexpr double kAdmissionSlack = 0.01;

// A price nobody among the candidates knows yet: one cent a request.
constexpr double kUnknownCost = 0.01;

// The mean of the known prices of one request (USD) among the candidates (decide_route).
double unknown_cost_of(const std::vector<RouteCandidateInput>& inputs) {
  double sum = 0;
  int n = 0;
  for (const auto& in : inputs) {
    if (!in.status && in.payg_cost_usd >= 0) sum += in.payg_cost_usd, ++n;
    if (in.status && in.status->package_type == PackageType::kCredits && in.status->cost_per_request)
      sum += in.status->unit_value * *in.status->cost_per_request, ++n;
  }
  return n ? sum / n : kUnknownCost;
}
constexpr double kNoLoss = 1e18;  // hours_to_loss when nothing is ever lost

int latency_band(const ProviderHealth& h, const RouterWeights& w) {
  if (!h.latency_ms) return 2;  // unknown: the middle band, so it is neither preferred nor starved
  for (int i = 0; i < 4; ++i)
    if (*h.latency_ms <= w.latency_band_ms[i]) return i;
  return 4;
}

// Everything the order needs, with no strings: cheap enough for 1,000 candidates.
// The order compares the computed terms at 1e-9 resolution (equal-looking values compare equal)
// through keys, term x 1e9, rounded only when two are within 1 (cmp_rounded): no division and
// no rounding per candidate. terms[] hold the raw values until
// finish_terms() rounds them for display (the winner and, when explaining, every candidate).
// Below 2^22 (4.2 million USD or hours) keys order exactly as the rounded terms do.
struct Scored {
  double terms[kTermCount];
  double cost_key, urgency_key, hours_key;
  bool at_risk_positive;
  int band;
  bool cooling, quota_blocked, too_heavy, excluded;
  std::optional<int64_t> available_at;
};


// Scores one candidate into c: every field is set (no value-initialised Scored, no copy: a block
// clear and a 150-byte copy per candidate otherwise).
void score(const RouteCandidateInput& in, const Risk& risk, const RouterWeights& w, int64_t now, double unknown_cost, Scored& c) {
  c.terms[kCostUsd] = c.terms[kUrgency] = c.terms[kAtRisk] = c.terms[kAtRiskUsd] = c.terms[kPullInH] = c.terms[kHeadroom] = 0;
  const ProviderHealth& h = in.health ? *in.health : kNoHistory;
  const RouteView* s = in.status;
  c.terms[kGroupRank] = in.group_rank;
  c.terms[kHealthy] = h.healthy() ? 1 : 0;
  c.terms[kFailures] = h.consecutive_failures;
  c.terms[kLatencyMs] = h.latency_ms ? *h.latency_ms : -1;
  c.terms[kWeight] = in.weight;
  c.terms[kHoursToLoss] = kNoLoss;
  c.band = latency_band(h, w);
  if (w.quota_aware) {
    if (!s) {
      c.terms[kCostUsd] = in.payg_cost_usd >= 0 ? in.payg_cost_usd : unknown_cost;
    } else {
      const bool credits = s->package_type == PackageType::kCredits;
      c.terms[kHeadroom] = s->headroom;
      c.terms[kPullInH] = risk.pull_in_h;
      // Before its latest start, valuable capacity at risk waits: it counts as not at risk yet.
      const double at_risk = risk.pull_in_h > 0 ? 0.0 : risk.at_risk;
      c.terms[kAtRisk] = at_risk;
      c.terms[kAtRiskUsd] = at_risk * s->unit_value;
      // Marginal cost: units the forecast leaves unused are lost anyway, so a request costs only
      // the part of it that at-risk capacity does not cover; the rest is worth its unit value
      // (it would have served a later request).
      const double units = credits ? (s->cost_per_request ? *s->cost_per_request : -1) : in.weight;
      if (units < 0) c.terms[kCostUsd] = at_risk > 0 ? 0 : unknown_cost;  // price unknown: assume the candidates' mean
      else c.terms[kCostUsd] = (credits ? s->unit_value : std::max(s->unit_value, in.shadow_per_unit)) * std::max(0.0, units - at_risk);
      if (risk.loss_at) {
        const double hours = std::max(0.0, static_cast<double>(*risk.loss_at - now) / kMsPerHour);
        c.terms[kHoursToLoss] = hours;
        c.terms[kUrgency] = c.terms[kAtRiskUsd] / std::max(1.0, hours);
      }
    }
  }
  c.cost_key = c.terms[kCostUsd] * 1e9;
  c.urgency_key = c.terms[kUrgency] * 1e9;
  c.hours_key = c.terms[kHoursToLoss] * 1e9;
  c.at_risk_positive = c.terms[kAtRisk] * 1e9 >= 0.5;  // round(at_risk x 1e9) > 0, at_risk >= 0
  c.cooling = h.cooldown_until && *h.cooldown_until > now;
  c.available_at = c.cooling ? h.cooldown_until : std::nullopt;
  if (in.block && (!in.block->until || *in.block->until > now)) {
    // Available again only once both the provider and the scoped block have cleared.
    if (!in.block->until) c.available_at.reset();
    else if (!c.cooling || (c.available_at && *in.block->until > *c.available_at)) c.available_at = in.block->until;
    c.cooling = true;
  }
  c.quota_blocked = s && w.quota_aware && ((s->alert == kExhausted && !s->overage_serves) || s->alert == kExpired);
  // Admission: a request heavier than what the tightest window still admits goes elsewhere.
  c.too_heavy = s && w.quota_aware && !c.quota_blocked && s->package_type != PackageType::kCredits && !s->overage_serves &&
                in.weight > s->headroom + kAdmissionSlack * s->total + 1e-9;
  if (c.quota_blocked || c.too_heavy) {
    const std::optional<int64_t> back = s->alert == kExpired ? std::nullopt : s->reset_at;
    // Available again only when every blocking condition has cleared.
    if (!back) c.available_at.reset();
    else if (!c.cooling || (c.available_at && *back > *c.available_at)) c.available_at = back;
  }
  c.excluded = c.cooling || c.quota_blocked || c.too_heavy;
}

// The computed terms as shown, at 1e-9 (the others are exact already).
void finish_terms(Scored& c) {
  for (int t : {kCostUsd, kUrgency, kAtRisk, kAtRiskUsd, kPullInH, kHoursToLoss})
    if (c.terms[t] < kNoLoss) c.terms[t] = round_to(c.terms[t], 9);
}

// The order of round(x) and round(y) (-1, 0, 1) for scaled terms x, y. Rounding is monotone and
// round(x + 1) >= round(x) + 1, so values 1 or more apart keep their order and only nearer ones
// are rounded (rarely: equal values return at once).
[[gnu::always_inline]] inline int cmp_rounded(double x, double y) {
  if (x == y) return 0;
  if (x - y >= 1) return 1;
  if (y - x >= 1) return -1;
  const double rx = std::round(x), ry = std::round(y);
  return rx < ry ? -1 : rx > ry ? 1 : 0;
}

// The plan's order (see Term). Among excluded candidates the one whose capacity returns first is
// the least bad.
[[gnu::always_inline]] inline bool better(const Scored& a, size_t ia, const Scored& b, size_t ib) {
  if (a.excluded != b.excluded) return !a.excluded;
  if (a.excluded) {
    const int64_t ta = a.available_at.value_or(INT64_MAX), tb = b.available_at.value_or(INT64_MAX);
    if (ta != tb) return ta < tb;
  }
  const double* x = a.terms;
  const double* y = b.terms;
  if (x[kGroupRank] != y[kGroupRank]) return x[kGroupRank] < y[kGroupRank];
  if (x[kHealthy] != y[kHealthy]) return x[kHealthy] > y[kHealthy];
  if (const int c = cmp_rounded(a.cost_key, b.cost_key)) return c < 0;
  if (const int c = cmp_rounded(a.urgency_key, b.urgency_key)) return c > 0;
  if (a.at_risk_positive != b.at_risk_positive) return a.at_risk_positive;
  if (const int c = cmp_rounded(a.hours_key, b.hours_key)) return c < 0;
  if (x[kFailures] != y[kFailures]) return x[kFailures] < y[kFailures];
  if (a.band != b.band) return a.band < b.band;
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
  if (c.too_heavy) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "needs %.6g units, the tightest window has %.6g left", in.weight, in.status->headroom);
    if (!out.empty()) out += "; ";
    out += buf;
    if (in.status->reset_at) out += " until " + format_iso_utc(*in.status->reset_at);
  }
  return out;
}

std::string money(double usd) {
  char buf[48];
  std::snprintf(buf, sizeof buf, usd != 0 && std::fabs(usd) < 0.01 ? "$%.4f" : "$%.2f", usd);
  return buf;
}

// The terms in words: what the request costs here, and what would be lost, when, at what value.
std::string why_text(const RouteCandidateInput& in, const Scored& c, const Risk& risk, const RouterWeights& w) {
  if (!w.quota_aware) return "naive: health, failures and latency only";
  char buf[256];
  const RouteView* s = in.status;
  if (!s) {
    std::snprintf(buf, sizeof buf, "pay as you go: about %s a request", money(c.terms[kCostUsd]).c_str());
    return buf;
  }
  std::string out = "costs " + money(c.terms[kCostUsd]) + " a request";
  const bool credits_loss = s->package_type == PackageType::kCredits;
  if (risk.loss_at && c.terms[kAtRisk] > 0) {
    std::snprintf(buf, sizeof buf, "; %.6g %s (%s) lost at the %s in %.1f h unless used", c.terms[kAtRisk],
                  credits_loss ? "credits" : "units", money(c.terms[kAtRiskUsd]).c_str(), credits_loss ? "expiry" : "reset",
                  c.terms[kHoursToLoss]);
    out += buf;
  } else if (risk.loss_at && c.terms[kPullInH] > 0) {
    std::snprintf(buf, sizeof buf, "; %.6g %s at risk at the %s in %.1f h, pulled in from %.1f h on", risk.at_risk,
                  credits_loss ? "credits" : "units", credits_loss ? "expiry" : "reset", c.terms[kHoursToLoss], c.terms[kPullInH]);
    out += buf;
  } else if (risk.loss_at) {
    std::snprintf(buf, sizeof buf, "; the forecast uses what is left before the %s in %.1f h", credits_loss ? "expiry" : "reset",
                  c.terms[kHoursToLoss]);
    out += buf;
  }
  return out;
}

RankedCandidate explain_one(const RouteCandidateInput& in, const Scored& c, const Risk& risk, const std::string& model,
                            const RouterWeights& w, int64_t now) {
  RankedCandidate r;
  r.provider_id = *in.provider_id;
  if (in.account) r.account = *in.account;
  if (in.status) r.package_id = *in.status->package_id;
  r.model = model;
  r.excluded = c.excluded;
  r.exclusion = exclusion_text(in, c, now);
  r.available_at = c.available_at;
  if (in.status && w.quota_aware) r.loss_at = risk.loss_at;
  r.why = why_text(in, c, risk, w);
  for (int t = 0; t < kTermCount; ++t) {
    const double v = t == kHoursToLoss && c.terms[t] >= kNoLoss ? -1 : c.terms[t];
    r.terms.emplace_back(kTermNames[t], round_to(v, 6));
  }
  return r;
}

}  // namespace

RouteDecision decide_route(const std::string& requested, const std::vector<RouteCandidateInput>& inputs,
                           const RouterWeights& w, int64_t now, bool explain, RouteScratch* scratch) {
  RouteDecision d;
  if (inputs.empty()) {
    d.error = "no provider serves model \"" + requested + "\"";
    return d;
  }
  std::vector<Scored> scored;  // every candidate's terms: only to explain
  if (explain) scored.reserve(inputs.size());
  size_t best = 0;
  Scored slots[2];  // the best so far and the one being scored: swapped, never copied
  int top_slot = 0;
  std::optional<int64_t> retry_at;  // the earliest return of any candidate
  const double unknown_cost = unknown_cost_of(inputs);
  const plan::PooledRisk risks = w.quota_aware ? plan::pooled_risk(inputs, now, unknown_cost, scratch) : plan::PooledRisk{};
  for (size_t i = 0; i < inputs.size(); ++i) {
    Scored& c = slots[i == 0 ? top_slot : 1 - top_slot];
    score(inputs[i], risks.of(i), w, now, unknown_cost, c);
    if (c.available_at && (!retry_at || *c.available_at < *retry_at)) retry_at = c.available_at;
    if (explain) scored.push_back(c);
    if (i > 0 && better(c, i, slots[top_slot], best)) top_slot = 1 - top_slot, best = i;
  }
  Scored& top = slots[top_slot];
  finish_terms(top);
  const RouteCandidateInput& winner = inputs[best];
  d.ok = true;
  d.winner = best;
  d.provider_id = *winner.provider_id;
  if (winner.status) d.package_id = *winner.status->package_id;
  if (winner.account) d.account = *winner.account;
  if (winner.model) d.model = *winner.model;
  if (!top.excluded) {
    d.reason = (inputs.size() > 1 ? "first of " + std::to_string(inputs.size()) + " candidates: " : "only candidate: ") +
               why_text(winner, top, risks.of(best), w);
  } else {
    d.all_excluded = true;
    d.retry_at = retry_at;
    d.reason = "all " + std::to_string(inputs.size()) + " candidates excluded; least bad: " + d.provider_id + " (" +
               exclusion_text(winner, top, now) + ")";
  }
  if (explain) {
    std::vector<size_t> order(inputs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return better(scored[a], a, scored[b], b); });
    for (Scored& c : scored) finish_terms(c);
    d.ranked.reserve(order.size());
    static const std::string kNoModel;
    for (size_t i : order)
      d.ranked.push_back(explain_one(inputs[i], scored[i], risks.of(i), inputs[i].model ? *inputs[i].model : kNoModel, w, now));
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
    cj["excluded"] = c.excluded;
    cj["exclusion"] = c.exclusion.empty() ? Json(nullptr) : Json(c.exclusion);
    cj["loss_at"] = c.loss_at ? Json(format_iso_utc(*c.loss_at)) : Json(nullptr);
    cj["why"] = c.why;
    Json terms = Json::object();
    for (const auto& t : c.terms) terms[t.first] = round_to(t.second, 6);
    cj["terms"] = terms;
    ranked.push_back(cj);
  }
  j["ranked"] = ranked;
  return j;
}

}  // namespace qg
