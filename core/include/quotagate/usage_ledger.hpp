// Usage events and the incremental aggregates the tracker reads. The host persists the raw
// events; the core keeps only what a status query needs, so a query costs
// O(log events-in-window + days), never a scan of the whole ledger.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qg {

// Bounds on one event's numbers (Engine::record_usage counts anything outside them as 0).
constexpr double kMaxEventAmount = 1e12;  // tokens, or cost in the package currency
constexpr double kMaxEventCount = 1e9;    // requests one (simulator) event stands for

struct UsageEvent {
  int64_t ts_ms = 0;
  std::string provider_id;
  std::string model;
  int status = 200;   // HTTP status the client got from this provider (0 = connection error)
  double cost = 0;    // in the provider's package currency
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double count = 1;   // requests this event stands for (the simulator batches; the gateway sends 1)
  // The provider account that served it: a credential fingerprint (auth: client), an account
  // name (auth: key) or "" (the provider's only key). Never a credential.
  std::string account;
};
// The engine files every event under the start of its UTC second (second_floor): windows, resets
// and fixed-window starts have 1-second resolution, and the requests of one second with the same
// provider, model and status are held as one entry whatever the request rate.

// Counted usage of one package over time: weighted request units and cost, time-ordered, with
// absolute prefix sums so that any (from, to] range sum is two binary searches. Events at the same
// instant share one entry (the engine aggregates at 1-second resolution, so a busy second is one
// entry, 24 bytes). Old entries are pruned without changing the prefix values of the survivors.
class UsageTimeline {
 public:
  void add(int64_t ts_ms, double units, double cost);
  // Sums over events with from < ts <= to.
  double units_in(int64_t from_exclusive, int64_t to_inclusive) const;
  double cost_in(int64_t from_exclusive, int64_t to_inclusive) const;
  // Timestamp of the earliest event with from < ts <= to.
  std::optional<int64_t> first_in(int64_t from_exclusive, int64_t to_inclusive) const;
  // Timestamp of the first event in (from, to] at which the units counted since `from` exceed
  // `amount`: once it leaves a sliding window, the window's usage drops by more than `amount`.
  std::optional<int64_t> when_cumulative_exceeds(int64_t from_exclusive, int64_t to_inclusive, double amount) const;
  // The first event with ts >= at_or_after (used to start fixed windows).
  std::optional<int64_t> first_at_or_after(int64_t at_or_after) const;
  // Drops events with ts < cutoff; later range sums starting at or after cutoff stay exact.
  void prune_before(int64_t cutoff_ms);
  size_t size() const { return ts_.size(); }
  std::optional<int64_t> latest() const { return ts_.empty() ? std::nullopt : std::optional<int64_t>(ts_.back()); }

 private:
  size_t upper(int64_t ts) const;  // index of first event with ts_ > ts
  double units_prefix(size_t idx) const { return idx == 0 ? base_units_ : units_prefix_[idx - 1]; }
  double cost_prefix(size_t idx) const { return idx == 0 ? base_cost_ : cost_prefix_[idx - 1]; }
  // Sums of all events with ts <= t. Exact for t before every event ever added, and for t at or
  // after the prune cutoff; in between (pruned detail) it is the pruned total, an upper bound.
  double units_through(int64_t t) const { return t < earliest_ ? 0.0 : units_prefix(upper(t)); }
  double cost_through(int64_t t) const { return t < earliest_ ? 0.0 : cost_prefix(upper(t)); }

  std::vector<int64_t> ts_;
  std::vector<double> units_prefix_;  // inclusive prefix: sum of units of events [0..i]
  std::vector<double> cost_prefix_;
  double base_units_ = 0, base_cost_ = 0;  // sums of pruned events
  int64_t earliest_ = INT64_MAX;  // smallest timestamp ever added (survives pruning)
};

// Per local-day totals (the package's reset zone) for burn rate and the usage chart.
struct DayTotals {
  double units = 0;
  double cost = 0;
  double requests = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
};

// Fixed ("session") windows: a window starts at the first counted event after the previous
// window ended, and lasts window_ms. Kept incrementally; rebuilt if an event arrives out of order.
class FixedWindowStarts {
 public:
  FixedWindowStarts() = default;
  explicit FixedWindowStarts(int64_t window_ms) : window_ms_(window_ms) {}
  // Returns false when the event is older than the newest start (caller must rebuild).
  bool on_event(int64_t ts_ms);
  void rebuild(const UsageTimeline& timeline, int64_t from_ms);
  // Start of the window containing now, if one is active.
  std::optional<int64_t> active_start(int64_t now_ms) const;
  int64_t window_ms() const { return window_ms_; }

 private:
  int64_t window_ms_ = 0;
  std::vector<int64_t> starts_;
};

// Everything the core keeps about one package's usage.
struct PackageUsage {
  UsageTimeline timeline;
  std::map<int64_t, DayTotals> days;  // local day index (package zone) -> totals
  FixedWindowStarts primary_fixed;
  std::vector<FixedWindowStarts> secondary_fixed;
  std::vector<UsageTimeline> family_usage;  // parallel to Package::model_windows: that family's units
  std::optional<int64_t> first_event_ms;  // earliest counted event ever seen (survives pruning)
  int64_t latest_event_ms = INT64_MIN;
  size_t prune_at = 4096;  // timeline size that triggers the next prune
};

}  // namespace qg
