// plan_hindsight: candidates from the router's explained view at the start, their capacity
// periods (primary and secondary windows, credits until expiry), costs, and the flow solution.
#include "sim_hindsight.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "quotagate/civil_time.hpp"

namespace qg::sim {

namespace {

// Periods of one window from `start` to `end`: the first ends at `first_end` with `first_cap`
// units left; the later ones hold `limit` each and end at next_end(previous end).
template <typename NextEnd>
std::vector<CapacityPeriod> tile(int64_t start, int64_t end, int64_t first_end, double first_cap, double limit, double weight,
                                 NextEnd next_end) {
  std::vector<CapacityPeriod> out;
  auto requests = [&](double units) { return static_cast<int64_t>(std::floor(std::max(0.0, units) / weight + 1e-9)); };
  int64_t from = start, to = std::max(first_end, start + 1);
  double cap = first_cap;
  while (from < end && out.size() < 200000) {
    out.push_back({from, to, requests(cap)});
    from = to;
    const int64_t nxt = next_end(to);
    to = nxt > from ? nxt : from + kMsPerHour;
    cap = limit;
  }
  return out;
}

}  // namespace

HindsightSolution plan_hindsight(const Engine& engine, const Scenario& sc, const std::vector<std::vector<int64_t>>& demand) {
  HindsightSolution out;
  HindsightProblem pb;
  pb.start_ms = sc.start;
  pb.slot_ms = sc.slot_ms();
  pb.demand = demand;
  // One candidate per (state, demand stream): a flow carries requests, and a request of each
  // stream takes its own units (weight, price). A state that serves several streams is split
  // between them in proportion to their demand (a restriction: the plan stays feasible; with one
  // stream per state it is the optimum).
  std::vector<double> stream_total(sc.traffic.size(), 0);
  for (size_t s = 0; s < sc.traffic.size(); ++s)
    for (int64_t x : demand[s]) stream_total[s] += static_cast<double>(x);
  std::map<std::string, double> state_demand;  // "provider\tpackage\taccount" -> demand of the streams it serves
  std::vector<std::string> state_of;           // per candidate
  for (size_t s = 0; s < sc.traffic.size(); ++s) {
    const RouteDecision d = engine.route(sc.traffic[s].model, sc.start, true, sc.disabled_providers, kAnyAccount);
    for (const RankedCandidate& c : d.ranked) {
      const std::string key = c.provider_id + "\t" + c.package_id + "\t" + c.account;
      PlanCandidate pc;
      pc.provider = c.provider_id;
      pc.package_id = c.package_id;
      pc.account = c.account;
      pc.stream = s;
      pc.model = c.model;
      out.candidates.push_back(std::move(pc));
      pb.candidates.push_back({});
      pb.candidates.back().serves.assign(sc.traffic.size(), false);
      pb.candidates.back().serves[s] = true;
      state_demand[key] += stream_total[s];
      state_of.push_back(key);
    }
  }
  for (size_t k = 0; k < out.candidates.size(); ++k) {
    const PlanCandidate& pc = out.candidates[k];
    HindsightCandidate& hc = pb.candidates[k];
    const Package* p = nullptr;
    for (const auto& pkg : engine.catalog().packages)
      if (pkg.id == pc.package_id) p = &pkg;
    const Traffic& tr = sc.traffic[pc.stream];
    // Units of one request here: its price (credits, pay as you go) or its model's weight.
    const double weight = !p || p->type == PackageType::kCredits ? (p ? tr.cost_per_request : 1.0) : p->weight_for(pc.model);
    const double usd = tr.cost_per_request;
    out.candidates[k].weight = weight;
    // This stream's part of the state's capacity.
    const double all = state_demand[state_of[k]];
    const double share = all > 0 ? stream_total[pc.stream] / all : 1;
    if (!p) {  // pay as you go: unlimited, at its price
      hc.cost_usd = usd;
      continue;
    }
    const auto st = engine.status_of(p->id, sc.start, pc.account);
    if (!st || weight <= 0) {
      hc.serves.assign(hc.serves.size(), false);
      continue;
    }
    const double value = p->unit_value_usd();
    if (p->type == PackageType::kCredits) {
      const bool durable = !p->expires_at || *p->expires_at >= sc.settle;
      const int64_t until = p->expires_at ? std::min(*p->expires_at, sc.settle) : sc.settle;
      out.candidates[k].durable = durable;
      if (until > sc.start) {
        hc.levels.push_back(
            {{sc.start, until, static_cast<int64_t>(std::floor(st->remaining * share / weight + 1e-9)), (durable ? 1 : -1) * value * weight}});
        out.candidates[k].top_units = {st->remaining * share};
        out.candidates[k].top_lost_at_end = {p->expires_at && sc.loss_in_horizon(*p->expires_at)};
      }
      else hc.serves.assign(hc.serves.size(), false);  // expired: no period (no levels would mean unlimited)
      // Spending a balance that outlasts the horizon costs its value; one that expires inside it
      // saves what would be lost.
      continue;
    }
    const int64_t wms = p->window_ms();
    const std::string account = pc.account;
    // The longest window's first remaining and limit (units): what a top-level period holds.
    double top_first_units = st->remaining, top_limit_units = st->total, top_hours = p->type == PackageType::kDaily ? 24 : p->window_hours;
    for (size_t i = 0; i < p->secondary_windows.size(); ++i)
      if (p->secondary_windows[i].window_hours > top_hours) {
        top_hours = p->secondary_windows[i].window_hours;
        top_limit_units = p->secondary_windows[i].limit;
        top_first_units = i < st->secondary_windows.size() ? st->secondary_windows[i].remaining : top_limit_units;
      }
    if (p->type == PackageType::kDaily) {
      hc.levels.push_back(tile(sc.start, sc.settle, st->primary_reset_at.value_or(sc.start + kMsPerDay), st->remaining * share, st->total * share, weight,
                               [&](int64_t at) {
                                 const auto later = engine.status_of(p->id, at, account);
                                 return later && later->primary_reset_at ? *later->primary_reset_at : at + kMsPerDay;
                               }));
    } else {
      hc.levels.push_back(tile(sc.start, sc.settle, st->primary_reset_at.value_or(sc.start + wms), st->remaining * share, st->total * share, weight,
                               [&](int64_t at) { return at + wms; }));
    }
    // Longer windows, shortest first, each bounding the level below.
    std::vector<size_t> order(p->secondary_windows.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return p->secondary_windows[a].window_hours < p->secondary_windows[b].window_hours; });
    for (size_t i : order) {
      const SecondaryWindow& sw = p->secondary_windows[i];
      const int64_t len = std::llround(sw.window_hours * kMsPerHour);
      const SecondaryStatus* ss = i < st->secondary_windows.size() ? &st->secondary_windows[i] : nullptr;
      hc.levels.push_back(tile(sc.start, sc.settle, ss && ss->reset_at ? *ss->reset_at : sc.start + len,
                               (ss ? ss->remaining : sw.limit) * share, sw.limit * share, weight, [&](int64_t at) { return at + len; }));
    }
    // A request served in a longest-window period that resets inside the settlement saves its
    // value (that capacity would be lost); one that resets after it saves nothing.
    for (size_t i = 0; i < hc.levels.back().size(); ++i) {
      CapacityPeriod& top = hc.levels.back()[i];
      top.cost_usd = sc.loss_in_horizon(top.end_ms) ? -value * weight : 0;
      out.candidates[k].top_lost_at_end.push_back(sc.loss_in_horizon(top.end_ms));
      out.candidates[k].top_units.push_back((i == 0 ? top_first_units : top_limit_units) * share);
    }
  }
  out.plan = solve_hindsight(pb);
  return out;
}

}  // namespace qg::sim
