// The pooled forecast of capacity at risk (plan_forecast.hpp) and the view of a status the router
// reads (route_view_of, router.hpp).
#include "plan_forecast.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "quotagate/civil_time.hpp"

namespace qg {

RouteView route_view_of(const QuotaStatus& s, const Package& p, const std::string* package_id, int64_t now) {
  RouteView v;
  v.package_id = package_id;
  v.package_type = s.package_type;
  v.alert = alert_rank(s.alert);
  v.total = s.total;
  v.remaining = s.remaining;
  v.reset_at = s.reset_at;
  v.overage_serves = s.overage && s.overage->available;
  v.unit_value = p.unit_value_usd();
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

namespace plan {

// See plan_forecast.hpp.
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

}  // namespace plan
}  // namespace qg
