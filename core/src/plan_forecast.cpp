// The pooled forecast of capacity at risk (plan_forecast.hpp) and the view of a status the router
// reads (route_view_of, router.hpp).
#include "plan_forecast.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
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

namespace {

// The state behind each candidate with a status (UINT32_MAX: none), numbered in order of first
// listing: a state offered twice, by two group members, counts once. `firsts` receives each
// state's first candidate. Dense ids: one pass; otherwise a sort by status pointer.
std::vector<uint32_t> number_states(const std::vector<RouteCandidateInput>& inputs, std::vector<uint32_t>& firsts) {
  const size_t n = inputs.size();
  std::vector<uint32_t> state_of(n, UINT32_MAX);
  firsts.reserve(n);
  std::vector<uint32_t> seen;  // dense id -> the state's number (UINT32_MAX: not seen yet)
  bool dense = true;
  for (size_t i = 0; i < n && dense; ++i) {
    if (!inputs[i].status) continue;
    if (inputs[i].state < 0) {
      dense = false;
      break;
    }
    const size_t id = static_cast<size_t>(inputs[i].state);
    if (id >= seen.size()) seen.resize(std::max({id + 1, n, 2 * seen.size()}), UINT32_MAX);
    uint32_t& j = seen[id];
    if (j == UINT32_MAX) j = static_cast<uint32_t>(firsts.size()), firsts.push_back(static_cast<uint32_t>(i));
    state_of[i] = j;
  }
  if (dense) return state_of;
  firsts.clear();
  std::fill(state_of.begin(), state_of.end(), UINT32_MAX);
  std::vector<std::pair<const RouteView*, uint32_t>> by_state;
  by_state.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (inputs[i].status) by_state.emplace_back(inputs[i].status, static_cast<uint32_t>(i));
  std::sort(by_state.begin(), by_state.end());
  std::vector<uint32_t> first_of(n);
  for (size_t k = 0; k < by_state.size(); ++k)
    first_of[by_state[k].second] = k > 0 && by_state[k - 1].first == by_state[k].first ? first_of[by_state[k - 1].second] : by_state[k].second;
  for (size_t i = 0; i < n; ++i) {
    if (!inputs[i].status) continue;
    if (first_of[i] == i) state_of[i] = static_cast<uint32_t>(firsts.size()), firsts.push_back(static_cast<uint32_t>(i));
    else state_of[i] = state_of[first_of[i]];  // an earlier candidate: numbered already
  }
  return state_of;
}

}  // namespace

// See plan_forecast.hpp.
std::vector<uint32_t> order_by_key(std::vector<uint64_t> keys, std::vector<uint32_t> ids) {
  if (keys.size() < 256) {  // few lots: the radix passes' bucket arrays would cost more than a sort
    std::vector<std::pair<uint64_t, uint32_t>> keyed(keys.size());
    for (size_t k = 0; k < keys.size(); ++k) keyed[k] = {keys[k], ids[k]};
    std::sort(keyed.begin(), keyed.end());  // ids ascend in the input: (key, id) is the stable order
    for (size_t k = 0; k < keys.size(); ++k) ids[k] = keyed[k].second;
    return ids;
  }
  constexpr int kBits = 8;
  constexpr size_t kBuckets = size_t{1} << kBits;
  // Keys relative to the smallest: the passes cover only the spread of the deadlines.
  uint64_t min_key = UINT64_MAX, max_key = 0;
  for (uint64_t k : keys) min_key = std::min(min_key, k), max_key = std::max(max_key, k);
  for (uint64_t& k : keys) k -= min_key;
  max_key -= min_key;
  // Scatter buffers: every element is written by each pass, so none is cleared first.
  const size_t n = keys.size();
  std::unique_ptr<uint64_t[]> key_buf[2] = {std::unique_ptr<uint64_t[]>(new uint64_t[n]), std::unique_ptr<uint64_t[]>(new uint64_t[n])};
  std::unique_ptr<uint32_t[]> id_buf[2] = {std::unique_ptr<uint32_t[]>(new uint32_t[n]), std::unique_ptr<uint32_t[]>(new uint32_t[n])};
  std::copy(keys.begin(), keys.end(), key_buf[0].get());
  std::copy(ids.begin(), ids.end(), id_buf[0].get());
  int cur = 0;
  for (int shift = 0; shift < 64 && (max_key >> shift) != 0; shift += kBits) {
    uint32_t start[kBuckets + 1] = {};
    const uint64_t* from = key_buf[cur].get();
    for (size_t k = 0; k < n; ++k) ++start[((from[k] >> shift) & (kBuckets - 1)) + 1];
    for (size_t b = 1; b <= kBuckets; ++b) start[b] += start[b - 1];
    uint64_t* to = key_buf[1 - cur].get();
    const uint32_t* ids_from = id_buf[cur].get();
    uint32_t* ids_to = id_buf[1 - cur].get();
    for (size_t k = 0; k < n; ++k) {
      const uint32_t at = start[(from[k] >> shift) & (kBuckets - 1)]++;
      to[at] = from[k];
      ids_to[at] = ids_from[k];
    }
    cur = 1 - cur;
  }
  std::copy(id_buf[cur].get(), id_buf[cur].get() + n, ids.begin());
  return ids;
}

namespace {

// One state's figures, read once from its RouteView so that the forecast runs over a compact
// array (1,000 candidates stay in cache). Units: requests (divided by u), hours from now.
struct StateIn {
  double u;                // units of one request: its weight (windows) or its price (credits)
  double value_remaining;  // units
  double value_h;          // hours to the value-bearing capacity's loss
  double head_req;         // headroom, requests
  double rate_req_h;       // tightest window's rate, requests per hour
  double renew_h;          // hours to renew_at (0: none)
  double unit_value;       // USD per unit
  double headroom;         // units
  double short_at_risk;    // units
  double cap;              // at_risk never exceeds this (units)
  int64_t loss_at;         // ms; kNever: none ahead
  int64_t short_loss_at;   // ms; kNever: no shorter window in front
};
constexpr int64_t kNever = INT64_MIN;

// Whether `order` lists exactly the `lots` states with a deadline ahead, in (deadline, state)
// order: strictly increasing pairs of lots, as many as there are, are a sorted permutation.
bool order_fits(const std::vector<uint32_t>& order, size_t lots, const StateIn* states, size_t n) {
  if (order.size() != lots) return false;
  for (size_t k = 0; k < order.size(); ++k) {
    const uint32_t j = order[k];
    if (j >= n || states[j].loss_at == kNever) return false;
    if (k > 0) {
      const uint32_t i = order[k - 1];
      if (states[i].loss_at > states[j].loss_at || (states[i].loss_at == states[j].loss_at && i >= j)) return false;
    }
  }
  return true;
}

}  // namespace

// See plan_forecast.hpp.
PooledRisk pooled_risk(const std::vector<RouteCandidateInput>& inputs, int64_t now, double unknown_cost, RouteScratch* scratch) {
  PooledRisk out;
  auto hours = [&](int64_t t) { return std::max(0.0, static_cast<double>(t - now) / kMsPerHour); };
  std::vector<uint32_t> firsts;
  out.state_of = number_states(inputs, firsts);
  // Every field is written below: no value-initialised (cleared) array first.
  const std::unique_ptr<StateIn[]> states(new StateIn[firsts.size()]);
  size_t lots = 0;  // states with a deadline ahead
  double demand_per_h = 0;
  std::optional<int64_t> since;  // the pool's first use in the last 24 hours
  for (size_t j = 0; j < firsts.size(); ++j) {
    const RouteCandidateInput& in = inputs[firsts[j]];
    const RouteView* s = in.status;
    StateIn& st = states[j];
    const bool credits = s->package_type == PackageType::kCredits;
    st.u = !credits ? (in.weight > 0 ? in.weight : 1.0)
                    : (s->cost_per_request ? std::max(*s->cost_per_request, 1e-9) : std::max(unknown_cost, 1e-9));
    demand_per_h += s->recent_per_h / st.u;
    if (s->recent_since && (!since || *s->recent_since < *since)) since = s->recent_since;
    st.value_remaining = s->value_remaining;
    st.loss_at = s->value_loss_at && *s->value_loss_at > now ? *s->value_loss_at : kNever;
    st.value_h = s->value_loss_at ? hours(*s->value_loss_at) : 0;
    st.head_req = s->headroom / st.u;
    st.rate_req_h = s->rate_per_h / st.u;
    st.renew_h = s->renew_at ? hours(*s->renew_at) : 0.0;
    st.unit_value = s->unit_value;
    st.headroom = s->headroom;
    st.short_loss_at = s->short_loss_at && *s->short_loss_at > now ? *s->short_loss_at : kNever;
    st.short_at_risk = s->short_at_risk;
    st.cap = s->headroom > 0 || credits ? s->remaining : 0.0;
    lots += st.loss_at != kNever;
  }
  // A younger history (a cold start) is a rate over the hours it covers, at least one.
  if (since) demand_per_h *= 24 / std::clamp(static_cast<double>(now - *since) / kMsPerHour, 1.0, 24.0);
  // Lots by deadline, ties in state order (the order of the candidates). The previous call's order
  // is tried first: when it still sorts these lots (the same candidates, no deadline passed by
  // another) no sort is needed; the check makes the result independent of the hint.
  std::vector<uint32_t> sorted;
  const bool hinted = scratch && order_fits(scratch->lot_order, lots, states.get(), firsts.size());
  if (!hinted) {
    std::vector<uint64_t> keys;  // ms from now to each lot's deadline
    std::vector<uint32_t> ids;   // the lots, in state order
    keys.reserve(lots);
    ids.reserve(lots);
    for (size_t j = 0; j < firsts.size(); ++j)
      if (states[j].loss_at != kNever) keys.push_back(static_cast<uint64_t>(states[j].loss_at - now)), ids.push_back(static_cast<uint32_t>(j));
    sorted = order_by_key(std::move(keys), std::move(ids));
    if (scratch) scratch->lot_order = sorted;
  }
  const std::vector<uint32_t>& order = hinted ? scratch->lot_order : sorted;
  std::vector<Risk>& risk = out.by_state;
  risk.resize(firsts.size());
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
  const bool exact = order.size() <= kExactLots;
  if (exact) before_lots.reserve(order.size());
  double head = 0, rate = 0, rate_x_renew = 0;
  // Pulling a lot in displaces capacity with an earlier deadline: worth it only when that
  // capacity is worth less (free quota before expiring credits; not one account's week before
  // another's of the same price), or when there is none.
  double cheapest_before = std::numeric_limits<double>::infinity();
  for (const uint32_t j : order) {
    const StateIn& st = states[j];
    Risk& r = risk[j];
    const double h = st.value_h;
    double offered = 0;
    if (exact) {
      for (const Lot& l : before_lots)
        offered += std::min(l.head + l.rate * std::max(0.0, h - l.renew_h), l.value_req + l.rate * std::max(0.0, h - l.value_h));
    } else {
      offered = head + rate * h - rate_x_renew;
    }
    const double before = std::min(demand_per_h * h, offered);
    const double reach = demand_per_h * h - before;  // requests left for this lot
    r.at_risk = std::max(0.0, st.value_remaining - reach * st.u);
    r.loss_at = st.loss_at;
    // Without any history the demand is unknown: nothing is pulled in on a guess.
    if (r.at_risk > 0 && st.unit_value > 0)
      r.pull_in_h = (std::isfinite(cheapest_before) && st.unit_value <= cheapest_before) || demand_per_h <= 0
                        ? h
                        : std::max(0.0, h - (kPullMargin * r.at_risk / st.u / demand_per_h + kPullLeadH));
    if (st.headroom > 0) cheapest_before = std::min(cheapest_before, st.unit_value);
    const Lot lot{std::min(st.head_req, demand_per_h * h), st.rate_req_h, st.renew_h, h,
                  std::min(st.value_remaining / st.u, demand_per_h * h)};
    if (exact) before_lots.push_back(lot);
    head += lot.head;
    rate += lot.rate;
    rate_x_renew += lot.rate * lot.renew_h;
  }
  for (size_t j = 0; j < firsts.size(); ++j) {
    const StateIn& st = states[j];
    Risk& r = risk[j];
    if (st.short_loss_at != kNever) {
      // Bounded by what the longer window loses, as far as it is pulled in at all.
      const double short_risk = std::min(st.short_at_risk, r.pull_in_h > 0 ? 0.0 : r.at_risk);
      if (short_risk > 0) r = Risk{short_risk, st.short_loss_at, r.pull_in_h};  // the short window's loss
    }
    r.at_risk = std::min(r.at_risk, st.cap);
  }
  return out;
}

}  // namespace plan
}  // namespace qg
