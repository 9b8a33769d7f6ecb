// UsageTimeline prefix sums and fixed-window bookkeeping.
#include "quotagate/usage_ledger.hpp"

#include <algorithm>

namespace qg {

size_t UsageTimeline::upper(int64_t ts) const {
  return static_cast<size_t>(std::upper_bound(ts_.begin(), ts_.end(), ts) - ts_.begin());
}

void UsageTimeline::add(int64_t ts, double units, double cost) {
  earliest_ = std::min(earliest_, ts);
  if (!ts_.empty() && ts == ts_.back()) {  // the same instant: one entry
    units_prefix_.back() += units;
    cost_prefix_.back() += cost;
    return;
  }
  if (ts_.empty() || ts > ts_.back()) {
    ts_.push_back(ts);
    units_prefix_.push_back(units_prefix(ts_.size() - 1) + units);
    cost_prefix_.push_back(cost_prefix(ts_.size() - 1) + cost);
    return;
  }
  // Out of order (replay from another instance, or a late write): merge into an entry of the same
  // instant, else insert; then fix the suffix.
  const size_t same = static_cast<size_t>(std::lower_bound(ts_.begin(), ts_.end(), ts) - ts_.begin());
  if (ts_[same] == ts) {
    for (size_t i = same; i < ts_.size(); ++i) {
      units_prefix_[i] += units;
      cost_prefix_[i] += cost;
    }
    return;
  }
  const size_t at = upper(ts);
  ts_.insert(ts_.begin() + static_cast<std::ptrdiff_t>(at), ts);
  units_prefix_.insert(units_prefix_.begin() + static_cast<std::ptrdiff_t>(at), 0.0);
  cost_prefix_.insert(cost_prefix_.begin() + static_cast<std::ptrdiff_t>(at), 0.0);
  units_prefix_[at] = units_prefix(at) + units;
  cost_prefix_[at] = cost_prefix(at) + cost;
  for (size_t i = at + 1; i < ts_.size(); ++i) {
    units_prefix_[i] += units;
    cost_prefix_[i] += cost;
  }
}

double UsageTimeline::units_in(int64_t from, int64_t to) const {
  if (to <= from) return 0;
  return units_through(to) - units_through(from);
}

double UsageTimeline::cost_in(int64_t from, int64_t to) const {
  if (to <= from) return 0;
  return cost_through(to) - cost_through(from);
}

std::optional<int64_t> UsageTimeline::first_in(int64_t from, int64_t to) const {
  const size_t i = upper(from);
  if (i < ts_.size() && ts_[i] <= to) return ts_[i];
  return std::nullopt;
}

std::optional<int64_t> UsageTimeline::when_cumulative_exceeds(int64_t from, int64_t to, double amount) const {
  const size_t lo = upper(from), hi = upper(to);
  const double base = units_through(from);
  // Prefix sums are non-decreasing (units >= 0): binary search the first crossing.
  auto it = std::upper_bound(units_prefix_.begin() + static_cast<std::ptrdiff_t>(lo),
                             units_prefix_.begin() + static_cast<std::ptrdiff_t>(hi), base + amount + 1e-9);
  if (it == units_prefix_.begin() + static_cast<std::ptrdiff_t>(hi)) return std::nullopt;
  return ts_[static_cast<size_t>(it - units_prefix_.begin())];
}

std::optional<int64_t> UsageTimeline::first_at_or_after(int64_t at) const {
  auto it = std::lower_bound(ts_.begin(), ts_.end(), at);
  if (it == ts_.end()) return std::nullopt;
  return *it;
}

void UsageTimeline::prune_before(int64_t cutoff) {
  const size_t n = static_cast<size_t>(std::lower_bound(ts_.begin(), ts_.end(), cutoff) - ts_.begin());
  if (n == 0) return;
  base_units_ = units_prefix_[n - 1];
  base_cost_ = cost_prefix_[n - 1];
  ts_.erase(ts_.begin(), ts_.begin() + static_cast<std::ptrdiff_t>(n));
  units_prefix_.erase(units_prefix_.begin(), units_prefix_.begin() + static_cast<std::ptrdiff_t>(n));
  cost_prefix_.erase(cost_prefix_.begin(), cost_prefix_.begin() + static_cast<std::ptrdiff_t>(n));
}

bool FixedWindowStarts::on_event(int64_t ts) {
  if (window_ms_ <= 0) return true;
  if (starts_.empty()) {
    starts_.push_back(ts);
    return true;
  }
  if (ts < starts_.back()) return false;
  if (ts >= starts_.back() + window_ms_) starts_.push_back(ts);
  return true;
}

void FixedWindowStarts::rebuild(const UsageTimeline& timeline, int64_t from) {
  starts_.clear();
  if (window_ms_ <= 0) return;
  std::optional<int64_t> next = timeline.first_at_or_after(from);
  while (next) {
    starts_.push_back(*next);
    next = timeline.first_at_or_after(*next + window_ms_);
  }
}

std::optional<int64_t> FixedWindowStarts::active_start(int64_t now) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), now);
  if (it == starts_.begin()) return std::nullopt;
  const int64_t start = *(it - 1);
  if (now < start + window_ms_) return start;
  return std::nullopt;
}

}  // namespace qg
