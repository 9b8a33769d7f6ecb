// solve_hindsight: the time-expanded network (source -> demand of a stream in a slot -> the
// candidate's shortest period holding that slot -> its longer periods -> the candidate's gate ->
// sink) and Dinic's max-flow, run once per candidate as the candidates' gates open in order of
// cost (see hindsight.hpp for why that order is optimal).
#include "quotagate/hindsight.hpp"

#include <algorithm>
#include <numeric>

namespace qg {

namespace {

constexpr int64_t kUnlimited = INT64_MAX / 4;

// Dinic's algorithm with an iterative depth-first search (no recursion: paths that alternate
// through reverse arcs can be as long as the graph, and the wasm stack is small).
class MaxFlow {
 public:
  explicit MaxFlow(size_t nodes) : head_(nodes, -1), level_(nodes), it_(nodes) {}
  // Returns the index of the arc (its reverse is index + 1).
  int add(int from, int to, int64_t cap) {
    arcs_.push_back({to, head_[from], cap});
    head_[from] = static_cast<int>(arcs_.size()) - 1;
    arcs_.push_back({from, head_[to], 0});
    head_[to] = static_cast<int>(arcs_.size()) - 1;
    return static_cast<int>(arcs_.size()) - 2;
  }
  void set_capacity(int arc, int64_t cap) { arcs_[arc].cap = cap; }
  int64_t flow_on(int arc) const { return arcs_[arc ^ 1].cap; }  // the reverse arc holds the flow
  int64_t augment(int s, int t) {
    int64_t total = 0;
    while (bfs(s, t)) {
      for (size_t v = 0; v < head_.size(); ++v) it_[v] = head_[v];
      total += blocking(s, t);
    }
    return total;
  }

 private:
  struct Arc {
    int to, next;
    int64_t cap;
  };
  bool bfs(int s, int t) {
    std::fill(level_.begin(), level_.end(), -1);
    std::vector<int> queue{s};
    level_[s] = 0;
    for (size_t i = 0; i < queue.size(); ++i) {
      const int v = queue[i];
      for (int a = head_[v]; a != -1; a = arcs_[a].next)
        if (arcs_[a].cap > 0 && level_[arcs_[a].to] < 0) {
          level_[arcs_[a].to] = level_[v] + 1;
          queue.push_back(arcs_[a].to);
        }
    }
    return level_[t] >= 0;
  }
  // Pushes along level-increasing paths until none is left (a blocking flow).
  int64_t blocking(int s, int t) {
    int64_t total = 0;
    std::vector<int> path;  // arcs from s
    int v = s;
    while (true) {
      if (v == t) {
        int64_t push = kUnlimited;
        for (int a : path) push = std::min(push, arcs_[a].cap);
        for (int a : path) {
          arcs_[a].cap -= push;
          arcs_[a ^ 1].cap += push;
        }
        total += push;
        // Restart from the tail of the first saturated arc.
        size_t keep = 0;
        while (keep < path.size() && arcs_[path[keep]].cap > 0) ++keep;
        path.resize(keep);
        v = path.empty() ? s : arcs_[path.back()].to;
        continue;
      }
      int& a = it_[v];
      while (a != -1 && !(arcs_[a].cap > 0 && level_[arcs_[a].to] == level_[v] + 1)) a = arcs_[a].next;
      if (a != -1) {
        path.push_back(a);
        v = arcs_[a].to;
        continue;
      }
      // Dead end: retreat, and never try this node again in this phase.
      level_[v] = -1;
      if (path.empty()) break;
      const int back = path.back();
      path.pop_back();
      v = arcs_[back ^ 1].to;
      it_[v] = arcs_[it_[v]].next;
    }
    return total;
  }
  std::vector<int> head_, level_, it_;
  std::vector<Arc> arcs_;
};

// The period of `periods` (sorted, disjoint) holding instant t, or -1.
int period_at(const std::vector<CapacityPeriod>& periods, int64_t t) {
  auto it = std::upper_bound(periods.begin(), periods.end(), t, [](int64_t x, const CapacityPeriod& p) { return x < p.start_ms; });
  if (it == periods.begin()) return -1;
  --it;
  return t < it->end_ms ? static_cast<int>(it - periods.begin()) : -1;
}

// Splits every period of a lower level at the boundaries of the level above, so that each piece
// lies inside one longer period (a laminar family: a flow network). Each piece keeps the whole
// capacity of the period it was cut from: a relaxation (a 5 h window that straddles a weekly reset
// may serve its limit on each side), so the optimum stays a bound.
std::vector<std::vector<CapacityPeriod>> laminar(const std::vector<std::vector<CapacityPeriod>>& levels) {
  std::vector<std::vector<CapacityPeriod>> out = levels;
  for (size_t l = out.size(); l-- > 1;) {
    std::vector<CapacityPeriod> cut;
    const std::vector<CapacityPeriod>& upper = out[l];
    for (const CapacityPeriod& p : out[l - 1]) {
      int64_t from = p.start_ms;
      for (const CapacityPeriod& u : upper)
        if (u.start_ms > from && u.start_ms < p.end_ms) {
          cut.push_back({from, u.start_ms, p.capacity, p.cost_usd});
          from = u.start_ms;
        }
      cut.push_back({from, p.end_ms, p.capacity, p.cost_usd});
    }
    out[l - 1] = std::move(cut);
  }
  return out;
}

}  // namespace

HindsightPlan solve_hindsight(const HindsightProblem& problem) {
  HindsightProblem pb = problem;
  for (auto& c : pb.candidates) c.levels = laminar(c.levels);
  HindsightPlan plan;
  const size_t streams = pb.demand.size();
  const size_t slots = streams ? pb.demand[0].size() : 0;
  plan.take.assign(slots, std::vector<std::vector<std::pair<uint32_t, int64_t>>>(streams));
  // Nodes: source, sink, one per (stream, slot) with demand, one per period, one gate per candidate.
  int next = 2;
  const int source = 0, sink = 1;
  std::vector<std::vector<int>> demand_node(streams, std::vector<int>(slots, -1));
  for (size_t s = 0; s < streams; ++s)
    for (size_t t = 0; t < slots; ++t)
      if (pb.demand[s][t] > 0) demand_node[s][t] = next++;
  std::vector<std::vector<std::vector<int>>> period_node(pb.candidates.size());
  std::vector<int> gate(pb.candidates.size());
  for (size_t k = 0; k < pb.candidates.size(); ++k) {
    for (const auto& level : pb.candidates[k].levels) {
      period_node[k].emplace_back();
      for (size_t i = 0; i < level.size(); ++i) period_node[k].back().push_back(next++);
    }
    gate[k] = next++;
  }
  size_t top_periods = 0;
  for (const auto& c : pb.candidates)
    if (!c.levels.empty()) top_periods += c.levels.back().size();
  int next_gate = next;
  MaxFlow g(static_cast<size_t>(next) + top_periods);
  for (size_t s = 0; s < streams; ++s)
    for (size_t t = 0; t < slots; ++t)
      if (demand_node[s][t] >= 0) g.add(source, demand_node[s][t], pb.demand[s][t]);
  // Arcs from demand to candidates, remembered to read the plan back.
  struct Use {
    size_t slot, stream;
    uint32_t candidate;
    int arc;
    double cost;  // of the top period the slot's capacity belongs to
  };
  std::vector<Use> uses;
  // Greedy elements: a top-level period, or a candidate without levels; each drains into the sink
  // through an arc closed until its turn.
  struct Element {
    double cost;
    int arc;
    size_t candidate, period;  // period: index in the top level (0 for a levelless candidate)
  };
  std::vector<Element> elements;
  for (size_t k = 0; k < pb.candidates.size(); ++k) {
    const HindsightCandidate& c = pb.candidates[k];
    // Periods chain upwards; the top level drains into the gate.
    for (size_t l = 0; l < c.levels.size(); ++l)
      for (size_t i = 0; i < c.levels[l].size(); ++i) {
        int up = gate[k];
        if (l + 1 < c.levels.size()) {
          const int j = period_at(c.levels[l + 1], c.levels[l][i].start_ms);
          if (j < 0) continue;  // outside every longer period: unusable
          up = period_node[k][l + 1][j];
        } else {
          up = next_gate++;
        }
        g.add(period_node[k][l][i], up, std::max<int64_t>(0, c.levels[l][i].capacity));
        if (l + 1 == c.levels.size()) elements.push_back({c.levels[l][i].cost_usd, g.add(up, sink, 0), k, i});
      }
    if (c.levels.empty()) elements.push_back({c.cost_usd, g.add(gate[k], sink, 0), k, 0});
    for (size_t s = 0; s < streams; ++s) {
      if (s >= c.serves.size() || !c.serves[s]) continue;
      for (size_t t = 0; t < slots; ++t) {
        if (demand_node[s][t] < 0) continue;
        int to = gate[k];
        double cost = c.cost_usd;
        const int64_t at = pb.start_ms + static_cast<int64_t>(t) * pb.slot_ms;
        if (!c.levels.empty()) {
          const int i = period_at(c.levels[0], at);
          if (i < 0) continue;
          to = period_node[k][0][i];
          const int top = period_at(c.levels.back(), c.levels[0][i].start_ms);
          cost = top >= 0 ? c.levels.back()[top].cost_usd : 0;
        }
        uses.push_back({t, s, static_cast<uint32_t>(k), g.add(demand_node[s][t], to, kUnlimited), cost});
      }
    }
  }
  std::stable_sort(elements.begin(), elements.end(), [](const Element& a, const Element& b) { return a.cost < b.cost; });
  // Elements of equal cost open together: the order among them does not change the objective.
  for (size_t i = 0; i < elements.size();) {
    size_t j = i;
    while (j < elements.size() && elements[j].cost == elements[i].cost) g.set_capacity(elements[j++].arc, kUnlimited);
    g.augment(source, sink);
    i = j;
  }
  int64_t demand = 0;
  for (const auto& row : pb.demand) demand = std::accumulate(row.begin(), row.end(), demand);
  for (const Use& u : uses) {
    const int64_t f = g.flow_on(u.arc);
    if (f <= 0) continue;
    plan.take[u.slot][u.stream].emplace_back(u.candidate, f);
    plan.served += f;
    plan.cost_usd += static_cast<double>(f) * u.cost;
  }
  plan.unserved = demand - plan.served;
  plan.top_flow.resize(pb.candidates.size());
  for (size_t k = 0; k < pb.candidates.size(); ++k) plan.top_flow[k].assign(pb.candidates[k].levels.empty() ? 1 : pb.candidates[k].levels.back().size(), 0);
  for (const Element& e : elements) plan.top_flow[e.candidate][e.period] = g.flow_on(e.arc);
  return plan;
}

}  // namespace qg
