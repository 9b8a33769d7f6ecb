// The plan's order over one request's candidates: exclusion (cooldowns, exhausted, expired, a
// request heavier than the tightest window's headroom), then cost, value at risk and time to loss,
// with health, failures and latency as constraints and tie-breaks (docs/quota-model.md).
#include "quotagate/router.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"

namespace qg {

RouteView route_view_of(const QuotaStatus& s, const Package& p, const std::string* package_id, int64_t now) {
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
  v.unit_value = p.unit_value_usd();
  v.burn_per_day = s.burn_per_day;
  v.headroom = s.remaining;
  if (s.package_type == PackageType::kCredits) {
    if (s.expires_at && *s.expires_at > now && s.remaining > 0) {
      v.value_loss_at = s.expires_at;
      v.value_remaining = s.remaining;
    }
    return v;
  }
  const double primary_hours = s.window_hours.value_or(24);
  v.rate_per_h = primary_hours > 0 ? s.total / primary_hours : 0;
  // A window not running yet (a fixed window starts with its first request; an idle sliding one)
  // loses its capacity over time all the same: each idle hour is an hour of its rate that no
  // request can use later. It counts as if started now.
  const std::optional<int64_t> primary_reset =
      s.primary_reset_at ? s.primary_reset_at : std::optional<int64_t>(now + static_cast<int64_t>(primary_hours * kMsPerHour));
  v.renew_at = primary_reset;
  v.value_loss_at = primary_reset;
  v.value_remaining = s.remaining;
  double longest = primary_hours;
  for (const SecondaryStatus& ss : s.secondary_windows) {
    v.headroom = std::min(v.headroom, ss.remaining);
    if (ss.window_hours > 0) v.rate_per_h = std::min(v.rate_per_h, ss.limit / ss.window_hours);
    if (ss.window_hours > longest) {
      longest = ss.window_hours;
      v.value_loss_at = ss.reset_at ? ss.reset_at : std::optional<int64_t>(now + static_cast<int64_t>(ss.window_hours * kMsPerHour));
      v.value_remaining = ss.remaining;
    }
  }
  if (longest > primary_hours) {
    v.short_loss_at = primary_reset;
    v.short_at_risk = std::max(0.0, std::min(s.primary_reset_at ? s.expiring_capacity : s.remaining, v.headroom));
  }
  v.headroom = std::max(0.0, v.headroom);
  return v;
}

const char* alert_name(int rank) {
  static const char* const kNames[6] = {"exhausted", "use_or_lose", "expired", "topup", "watch", "ok"};
  return rank >= 0 && rank < 6 ? kNames[rank] : "ok";
}

constexpr int kExhausted = 0, kExpired = 2;

const char* const kTermNames[kTermCount] = {"group_rank", "healthy",  "cost_usd", "urgency_usd_per_h", "at_risk", "at_risk_usd",
                                             "pull_in_h",  "hours_to_loss", "weight", "headroom", "failures", "latency_ms"};

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
struct Scored {
  double terms[kTermCount];
  int band;
  bool cooling, quota_blocked, too_heavy, excluded;
  std::optional<int64_t> available_at;
};

// What the pooled forecast says one candidate loses, and when (pooled_risk).
struct Risk {
  double at_risk = 0;  // units
  std::optional<int64_t> loss_at;
  // Hours until valuable capacity at risk must be pulled in: serving it before costs free
  // capacity that the demand would have used (0: now).
  double pull_in_h = 0;
};

// Valuable capacity at risk is pulled in (served ahead of free capacity with earlier deadlines)
// only from its latest start on: when the time left is within kPullMargin times what the demand
// needs to absorb it, plus kPullLeadH hours. Earlier, the forecast's noise would pull it in for nothing and
// cost free capacity that the demand would have used.
constexpr double kPullMargin = 10;
constexpr double kPullLeadH = 12;

// Use it or lose it, pooled: the demand forecast is the candidates' use over the last 24 hours
// (requests per hour), served earliest deadline first. A candidate's value-bearing capacity (credits until
// expiry, the longest window until its reset) is at risk by what that demand cannot reach after
// the capacity of every candidate whose deadline comes first (each one's headroom now, as far as
// the demand until that deadline reaches it, plus its tightest window's rate until then). A shorter window in front (a 5 h session) is at risk only
// as far as its own pace leaves it unused and the longer window is at risk too.
std::vector<Risk> pooled_risk(const std::vector<RouteCandidateInput>& inputs, int64_t now, double unknown_cost) {
  std::vector<Risk> out(inputs.size());
  // Units of one request at a candidate: its weight (windows) or its price (credits).
  auto units = [&](const RouteCandidateInput& in) {
    if (in.status->package_type != PackageType::kCredits) return in.weight > 0 ? in.weight : 1.0;
    return in.status->cost_per_request ? std::max(*in.status->cost_per_request, 1e-9) : std::max(unknown_cost, 1e-9);
  };
  auto hours = [&](int64_t t) { return std::max(0.0, static_cast<double>(t - now) / kMsPerHour); };
  double demand_per_h = 0;
  // Each candidate's first listing of its state (a state offered twice, by two group members,
  // counts once): a sort by state, no allocation per candidate.
  std::vector<std::pair<const RouteView*, size_t>> by_state;
  by_state.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].status) by_state.emplace_back(inputs[i].status, i);
  std::sort(by_state.begin(), by_state.end());
  std::vector<size_t> first_of(inputs.size());
  for (size_t k = 0; k < by_state.size(); ++k)
    first_of[by_state[k].second] = k > 0 && by_state[k - 1].first == by_state[k].first ? first_of[by_state[k - 1].second] : by_state[k].second;
  std::optional<int64_t> since;  // the pool's first use in the last 24 hours
  std::vector<size_t> lots;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const RouteView* s = inputs[i].status;
    if (!s) continue;
    const bool first = first_of[i] == i;
    if (first) demand_per_h += s->recent_per_h / units(inputs[i]);
    if (first && s->recent_since && (!since || *s->recent_since < *since)) since = s->recent_since;
    if (first && s->value_loss_at && *s->value_loss_at > now) lots.push_back(i);
  }
  // A younger history (a cold start) is a rate over the hours it covers, at least one.
  if (since) demand_per_h *= 24 / std::clamp(static_cast<double>(now - *since) / kMsPerHour, 1.0, 24.0);
  {
    std::vector<std::pair<int64_t, size_t>> keyed;  // (deadline, index): sorted without chasing pointers
    keyed.reserve(lots.size());
    for (size_t i : lots) keyed.emplace_back(*inputs[i].status->value_loss_at, i);
    std::sort(keyed.begin(), keyed.end());
    for (size_t k = 0; k < keyed.size(); ++k) lots[k] = keyed[k].second;
  }
  // Capacity (requests) a lot j offers until hour h >= its own deadline h_j: what is left now (as
  // far as the demand until h_j reaches it) plus its rate from its next reset, but never more
  // than what its value-bearing window holds until h_j plus that rate afterwards (a week nearly
  // spent gives little until it resets, whatever its sessions hold).
  struct Lot {
    double head, rate, renew_h, value_h, value_req;
  };
  std::vector<Lot> before_lots;
  // Sums for the linear form, used past kExactLots lots (without the second bound).
  constexpr size_t kExactLots = 64;
  double head = 0, rate = 0, rate_x_renew = 0;
  // Pulling a lot in displaces capacity with an earlier deadline: worth it only when that
  // capacity is worth less (free quota before expiring credits; not one account's week before
  // another's of the same price), or when there is none.
  double cheapest_before = std::numeric_limits<double>::infinity();
  for (size_t i : lots) {
    const RouteView* s = inputs[i].status;
    const double u = units(inputs[i]);
    const double h = hours(*s->value_loss_at);
    double offered = 0;
    if (lots.size() <= kExactLots) {
      for (const Lot& l : before_lots)
        offered += std::min(l.head + l.rate * std::max(0.0, h - l.renew_h), l.value_req + l.rate * std::max(0.0, h - l.value_h));
    } else {
      offered = head + rate * h - rate_x_renew;
    }
    const double before = std::min(demand_per_h * h, offered);
    const double reach = demand_per_h * h - before;  // requests left for this lot
    out[i].at_risk = std::max(0.0, s->value_remaining - reach * u);
    out[i].loss_at = s->value_loss_at;
    // Without any history the demand is unknown: nothing is pulled in on a guess.
    if (out[i].at_risk > 0 && s->unit_value > 0)
      out[i].pull_in_h = (std::isfinite(cheapest_before) && s->unit_value <= cheapest_before) || demand_per_h <= 0
                             ? h
                             : std::max(0.0, h - (kPullMargin * out[i].at_risk / u / demand_per_h + kPullLeadH));
    if (s->headroom > 0) cheapest_before = std::min(cheapest_before, s->unit_value);
    const Lot lot{std::min(s->headroom / u, demand_per_h * h), s->rate_per_h / u, s->renew_at ? hours(*s->renew_at) : 0.0, h,
                  std::min(s->value_remaining / u, demand_per_h * h)};
    before_lots.push_back(lot);
    head += lot.head;
    rate += lot.rate;
    rate_x_renew += lot.rate * lot.renew_h;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const RouteView* s = inputs[i].status;
    if (!s) continue;
    if (first_of[i] != i) out[i] = out[first_of[i]];  // a state listed again
    if (s->short_loss_at && *s->short_loss_at > now) {
      // Bounded by what the longer window loses, as far as it is pulled in at all.
      const double short_risk = std::min(s->short_at_risk, out[i].pull_in_h > 0 ? 0.0 : out[i].at_risk);
      if (short_risk > 0) out[i] = Risk{short_risk, s->short_loss_at, out[i].pull_in_h};
    }
    out[i].at_risk = std::min(out[i].at_risk, s->headroom > 0 || s->package_type == PackageType::kCredits ? s->remaining : 0.0);
  }
  return out;
}

Scored score(const RouteCandidateInput& in, const Risk& risk, const RouterWeights& w, int64_t now, double unknown_cost) {
  Scored c{};
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
  // Equal-looking values compare equal (the computed terms; the others are exact already). Inline
  // round_to(v, 9): the same value, without a call per term on the hot path.
  for (int t : {kCostUsd, kUrgency, kAtRisk, kAtRiskUsd, kPullInH, kHoursToLoss}) {
    const double v = c.terms[t];
    if (v != 0 && v < kNoLoss) {
      const double r = std::round(v * 1e9) / 1e9;
      c.terms[t] = r == 0 ? 0.0 : r;
    }
  }
  c.cooling = h.cooldown_until && *h.cooldown_until > now;
  if (c.cooling) c.available_at = h.cooldown_until;
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
  return c;
}

// The plan's order (see Term). Among excluded candidates the one whose capacity returns first is
// the least bad.
bool better(const Scored& a, size_t ia, const Scored& b, size_t ib) {
  if (a.excluded != b.excluded) return !a.excluded;
  if (a.excluded) {
    const int64_t ta = a.available_at.value_or(INT64_MAX), tb = b.available_at.value_or(INT64_MAX);
    if (ta != tb) return ta < tb;
  }
  const double* x = a.terms;
  const double* y = b.terms;
  if (x[kGroupRank] != y[kGroupRank]) return x[kGroupRank] < y[kGroupRank];
  if (x[kHealthy] != y[kHealthy]) return x[kHealthy] > y[kHealthy];
  if (x[kCostUsd] != y[kCostUsd]) return x[kCostUsd] < y[kCostUsd];
  if (x[kUrgency] != y[kUrgency]) return x[kUrgency] > y[kUrgency];
  if ((x[kAtRisk] > 0) != (y[kAtRisk] > 0)) return x[kAtRisk] > 0;
  if (x[kHoursToLoss] != y[kHoursToLoss]) return x[kHoursToLoss] < y[kHoursToLoss];
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
                           const RouterWeights& w, int64_t now, bool explain, const std::vector<std::string>* models) {
  RouteDecision d;
  if (inputs.empty()) {
    d.error = "no provider serves model \"" + requested + "\"";
    return d;
  }
  std::vector<Scored> scored;
  scored.reserve(inputs.size());
  size_t best = 0;
  const double unknown_cost = unknown_cost_of(inputs);
  const std::vector<Risk> risks = w.quota_aware ? pooled_risk(inputs, now, unknown_cost) : std::vector<Risk>(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    scored.push_back(score(inputs[i], risks[i], w, now, unknown_cost));
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
    d.reason = (inputs.size() > 1 ? "first of " + std::to_string(inputs.size()) + " candidates: " : "only candidate: ") +
               why_text(winner, top, risks[best], w);
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
    for (size_t i : order)
      d.ranked.push_back(explain_one(inputs[i], scored[i], risks[i], models && i < models->size() ? (*models)[i] : kNoModel, w, now));
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
