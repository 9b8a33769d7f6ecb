// QuotaStatus computation: windows (sliding, fixed, daily in a time zone), credits, burn EWMA,
// pace, exhaustion forecast, expiring capacity and the alert rules (docs/quota-model.md).
#include "quotagate/quota_tracker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"
#include "json_fields.hpp"
#include "quotagate/model_windows.hpp"

namespace qg {

namespace {

constexpr int64_t kDayBucketsKept = 40;
constexpr int64_t kNoAnchor = std::numeric_limits<int64_t>::min();

int64_t local_day_index(const Package& p, int64_t ts) {
  return floor_div(ts + utc_offset_ms(p.zone, ts), kMsPerDay);
}

int64_t max_window_ms(const Package& p) {
  int64_t w = p.type == PackageType::kDaily ? 26 * kMsPerHour : p.window_ms();
  for (const auto& s : p.secondary_windows) w = std::max<int64_t>(w, std::llround(s.window_hours * kMsPerHour));
  return w;
}

struct WindowReading {
  double used = 0;
  std::optional<int64_t> start;     // start of the current window, when one is active
  std::optional<int64_t> reset_at;  // when the counted usage (or the window) resets
  int64_t length_ms = 0;
  bool observed = false;
};

WindowReading read_window(const UsageTimeline& tl, WindowMode mode, const FixedWindowStarts& fixed, int64_t window_ms,
                          double limit, int64_t now) {
  WindowReading r;
  r.length_ms = window_ms;
  if (mode == WindowMode::kFixed) {
    if (auto start = fixed.active_start(now)) {
      r.start = *start;
      r.reset_at = *start + window_ms;
      r.used = tl.units_in(*start - 1, now);
    }
    return r;
  }
  const int64_t from = now - window_ms;
  r.used = tl.units_in(from, now);
  if (auto oldest = tl.first_in(from, now)) {
    r.reset_at = *oldest + window_ms;
    r.start = *oldest;
  }
  // Over the limit: capacity returns only once enough old events have left the window.
  if (limit > 0 && r.used >= limit)
    if (auto t = tl.when_cumulative_exceeds(from, now, r.used - limit)) r.reset_at = *t + window_ms;
  return r;
}

WindowReading read_daily(const Package& p, const UsageTimeline& tl, int64_t now) {
  WindowReading r;
  const int64_t start = local_day_start(p.zone, now);
  r.start = start;
  r.reset_at = next_local_day_start(p.zone, now);
  r.length_ms = *r.reset_at - start;
  r.used = tl.units_in(start - 1, now);
  return r;
}

// Merges a provider's reading: its count plus what we sent since it was taken.
void apply_observation(WindowReading& r, const std::optional<ObservedWindow>& obs, const UsageTimeline& tl,
                       double limit, int64_t now) {
  if (!obs) return;
  const bool valid = obs->reset_at ? now < *obs->reset_at : (now - obs->observed_at) < r.length_ms;
  if (!valid || obs->observed_at > now) return;
  const double observed_used = obs->rejected ? std::max(limit, obs->used) : obs->used + tl.units_in(obs->observed_at, now);
  r.used = std::max(r.used, observed_used);
  if (obs->reset_at) {
    r.reset_at = *obs->reset_at;
    r.start = *obs->reset_at - r.length_ms;
  }
  r.observed = true;
}

double finite_or_zero(double v) { return std::isfinite(v) ? v : 0.0; }

}  // namespace

int alert_rank(std::string_view a) {
  if (a == "exhausted") return 0;
  if (a == "use_or_lose") return 1;
  if (a == "expired") return 2;
  if (a == "topup") return 3;
  if (a == "watch") return 4;
  return 5;
}

void record_package_usage(const Package& p, PackageUsage& u, int64_t ts, double units, double cost, int64_t tokens_in,
                          int64_t tokens_out, double requests) {
  if (u.primary_fixed.window_ms() != (p.window_mode == WindowMode::kFixed ? p.window_ms() : 0))
    u.primary_fixed = FixedWindowStarts(p.window_mode == WindowMode::kFixed ? p.window_ms() : 0);
  if (u.secondary_fixed.size() != p.secondary_windows.size()) {
    u.secondary_fixed.clear();
    for (const auto& s : p.secondary_windows)
      u.secondary_fixed.emplace_back(s.mode == WindowMode::kFixed ? std::llround(s.window_hours * kMsPerHour) : 0);
  }
  u.timeline.add(ts, units, cost);
  DayTotals& d = u.days[local_day_index(p, ts)];
  d.units += units;
  d.cost += cost;
  d.requests += requests;
  d.tokens_in += tokens_in;
  d.tokens_out += tokens_out;
  if (!u.first_event_ms || ts < *u.first_event_ms) u.first_event_ms = ts;
  u.latest_event_ms = std::max(u.latest_event_ms, ts);

  const int64_t cutoff = retention_cutoff(p, u);
  if (!u.primary_fixed.on_event(ts)) u.primary_fixed.rebuild(u.timeline, INT64_MIN);
  for (auto& f : u.secondary_fixed)
    if (!f.on_event(ts)) f.rebuild(u.timeline, INT64_MIN);

  // Amortised pruning: only when the timeline has doubled since the last prune.
  if (u.timeline.size() >= u.prune_at) {
    u.timeline.prune_before(cutoff);
    u.prune_at = std::max<size_t>(4096, u.timeline.size() * 2);
  }
  const int64_t newest_day = local_day_index(p, u.latest_event_ms);
  while (!u.days.empty() && u.days.begin()->first < newest_day - kDayBucketsKept) u.days.erase(u.days.begin());
}

int64_t retention_cutoff(const Package& p, const PackageUsage& u) {
  if (u.latest_event_ms == INT64_MIN) return INT64_MIN;
  int64_t cutoff = u.latest_event_ms - max_window_ms(p) - kMsPerHour;
  if (p.type == PackageType::kCredits && p.last_updated_ms) cutoff = std::min(cutoff, second_floor(*p.last_updated_ms));
  return cutoff;
}

double burn_per_day(const Package& p, const PackageUsage& u, const AlertThresholds& t, int64_t now, bool use_cost) {
  if (!u.first_event_ms || *u.first_event_ms > now) return 0;
  const int64_t today = local_day_index(p, now);
  const int64_t first_day = std::max(local_day_index(p, *u.first_event_ms), today - (t.burn_lookback_days - 1));
  const int64_t day_start = local_day_start(p.zone, now);
  const int64_t day_len = next_local_day_start(p.zone, now) - day_start;
  // Today counts as the fraction of it that has passed (at least one hour, to damp the first minutes).
  const double today_fraction = std::clamp(static_cast<double>(now - day_start) / static_cast<double>(day_len), 1.0 / 24, 1.0);
  const double half_life = t.burn_half_life_days > 0 ? t.burn_half_life_days : 2;
  double weighted_units = 0, weighted_days = 0;
  for (int64_t d = first_day; d <= today; ++d) {
    const double w = det_exp2(-static_cast<double>(today - d) / half_life);
    double amount = 0;
    if (auto it = u.days.find(d); it != u.days.end()) amount = use_cost ? it->second.cost : it->second.units;
    weighted_units += w * amount;
    weighted_days += w * (d == today ? today_fraction : 1.0);
  }
  return weighted_days > 0 ? weighted_units / weighted_days : 0;
}

QuotaStatus compute_status(const Package& p, const PackageUsage& u, const PackageLive& live, const AlertThresholds& t,
                           int64_t now) {
  QuotaStatus s;
  s.provider_id = p.provider_id;
  s.package_id = p.id;
  s.package_type = p.type;
  s.currency = p.currency;
  s.source = p.source;
  s.confidence = p.confidence;
  s.last_updated = p.last_updated;
  s.notes = p.notes;
  s.reset_timezone = p.reset_timezone;
  s.expiry_date = p.expiry_date;
  s.expires_at = p.expires_at;
  if (p.expires_at) s.days_until_expiry = round_to(static_cast<double>(*p.expires_at - now) / kMsPerDay, 3);
  const bool expired = p.expires_at && now >= *p.expires_at;

  if (p.type == PackageType::kCredits) {
    s.unit = p.currency;
    // Usage is filed by second: the snapshot's own second counts as after it (an overcount of at
    // most that second's requests, never an undercount).
    const int64_t snapshot_second = p.last_updated_ms ? second_floor(*p.last_updated_ms) : kNoAnchor;
    const int64_t anchor = snapshot_second == kNoAnchor ? kNoAnchor : snapshot_second - 1;
    s.total = p.total_credits;
    s.used = p.used_credits + u.timeline.cost_in(anchor, now);
    s.remaining = std::max(0.0, s.total - s.used);
    s.remaining_ratio = s.total > 0 ? s.remaining / s.total : 0;
    const double burn = burn_per_day(p, u, t, now, true);
    s.burn_per_day = burn;
    s.projection_per_day = burn;
    const double days_left = p.expires_at ? static_cast<double>(*p.expires_at - now) / kMsPerDay : 0;
    if (burn > 0) {
      s.projected_days_left = s.remaining / burn;
      if (s.remaining > 0) {
        if (auto in_ms = ms_from_double(*s.projected_days_left * kMsPerDay)) {  // none beyond year 9999
          const int64_t at = now + *in_ms;
          if (!p.expires_at || at < *p.expires_at) s.exhausts_at = at;
        }
      }
    }
    if (p.expires_at && !expired) {
      s.expiring_capacity = std::max(0.0, s.remaining - burn * days_left);
      if (s.total > 0) s.pace_delta = (std::min(burn * days_left, s.total) - s.remaining) / s.total;
    }
    const double runway = s.projected_days_left ? *s.projected_days_left : std::numeric_limits<double>::infinity();
    if (s.remaining <= 0) s.alert = "exhausted";
    else if (expired) s.alert = "expired";
    else if (p.expires_at && days_left <= t.credits_use_or_lose_days && burn * days_left < s.remaining) s.alert = "use_or_lose";
    else if (runway < t.credits_topup_days) s.alert = "topup";
    else if (runway < t.credits_watch_days) s.alert = "watch";
    else s.alert = "ok";
  } else {
    s.unit = "requests";
    s.window_mode = p.type == PackageType::kDaily ? "daily" : to_string(p.window_mode);
    double limit = p.capacity();
    if (live.learned && live.learned->limit < limit) {
      limit = live.learned->limit;
      s.learned_limit = live.learned;
    }
    WindowReading r = p.type == PackageType::kDaily
                          ? read_daily(p, u.timeline, now)
                          : read_window(u.timeline, p.window_mode, u.primary_fixed, p.window_ms(), limit, now);
    apply_observation(r, live.primary, u.timeline, limit, now);
    if (p.type == PackageType::kRollingWindow) s.window_hours = p.window_hours;
    else s.window_hours = 24;
    s.total = limit;
    s.used = r.used;
    s.remaining = std::max(0.0, limit - r.used);
    s.remaining_ratio = limit > 0 ? s.remaining / limit : 0;
    s.reset_at = r.reset_at;
    s.primary_reset_at = r.reset_at;
    if (r.observed) s.confidence = "high";
    const double burn = burn_per_day(p, u, t, now, false);
    s.burn_per_day = burn;
    if (burn > 0) s.projected_days_left = s.remaining / burn;

    const double elapsed_ms = r.start ? static_cast<double>(now - *r.start) : 0;
    s.elapsed_ratio = r.reset_at ? std::clamp(elapsed_ms / static_cast<double>(r.length_ms), 0.0, 1.0) : 0.0;
    const double rate_per_ms = elapsed_ms > 0 ? r.used / elapsed_ms : 0;
    s.projection_per_day = rate_per_ms * kMsPerDay;
    s.window_start = r.start;
    if (r.reset_at && limit > 0) s.pace_delta = r.used / limit - *s.elapsed_ratio;
    if (rate_per_ms > 0 && s.remaining > 0) {
      if (auto in_ms = ms_from_double(s.remaining / rate_per_ms))
        if (r.reset_at && now + *in_ms < *r.reset_at) s.exhausts_at = now + *in_ms;
    }
    if (r.reset_at) s.expiring_capacity = std::max(0.0, s.remaining - rate_per_ms * static_cast<double>(*r.reset_at - now));

    // Secondary windows: each may bind (a weekly cap exhausts a package with 5 h capacity left).
    double binding_ratio = s.remaining_ratio;
    bool any_exhausted = s.remaining <= 0;
    for (size_t i = 0; i < p.secondary_windows.size(); ++i) {
      const SecondaryWindow& sw = p.secondary_windows[i];
      const int64_t wms = std::llround(sw.window_hours * kMsPerHour);
      static const FixedWindowStarts kNoFixed;
      const FixedWindowStarts& fixed = i < u.secondary_fixed.size() ? u.secondary_fixed[i] : kNoFixed;
      WindowReading wr = read_window(u.timeline, sw.mode, fixed, wms, sw.limit, now);
      if (i < live.secondary.size()) apply_observation(wr, live.secondary[i], u.timeline, sw.limit, now);
      SecondaryStatus ss;
      ss.name = sw.name;
      ss.window_hours = sw.window_hours;
      ss.limit = sw.limit;
      ss.used = wr.used;
      ss.remaining = std::max(0.0, sw.limit - wr.used);
      ss.remaining_ratio = ss.remaining / sw.limit;
      ss.reset_at = wr.reset_at;
      ss.observed = wr.observed;
      if (wr.observed) s.confidence = "high";
      if (ss.remaining <= 0 && !any_exhausted) {
        any_exhausted = true;
        s.binding_window = ss.name;
        s.reset_at = ss.reset_at;  // capacity returns only when the binding window resets
        s.exhausts_at.reset();
      }
      if (ss.remaining_ratio < binding_ratio && !any_exhausted) {
        binding_ratio = ss.remaining_ratio;
        s.binding_window = ss.name;
      }
      s.secondary_windows.push_back(ss);
    }
    if (any_exhausted) s.alert = "exhausted";
    else if (expired) s.alert = "expired";
    else if (binding_ratio < t.window_topup_ratio) s.alert = "topup";
    else if (binding_ratio < t.window_watch_ratio) s.alert = "watch";
    else if (r.reset_at && *s.elapsed_ratio >= t.window_use_or_lose_elapsed && s.remaining_ratio >= t.window_use_or_lose_min_ratio)
      s.alert = "use_or_lose";
    else s.alert = "ok";
  }
  s.used = finite_or_zero(s.used);
  s.model_windows = model_window_statuses(p, u, live, now);
  s.overage = live.overage;
  return s;
}

Json status_to_json(const QuotaStatus& s) {
  Json j = Json::object();
  j["provider_id"] = s.provider_id;
  j["package_id"] = s.package_id;
  j["package_type"] = to_string(s.package_type);
  j["unit"] = s.unit;
  j["currency"] = s.currency;
  j["total"] = round_to(s.total, 6);
  j["used"] = round_to(s.used, 6);
  j["remaining"] = round_to(s.remaining, 6);
  j["remaining_ratio"] = round_to(s.remaining_ratio, 6);
  j["alert"] = std::string(s.alert);
  j["source"] = s.source;
  j["confidence"] = s.confidence;
  j["last_updated"] = str_or_null(s.last_updated);
  j["window_hours"] = num_or_null(s.window_hours);
  j["window_mode"] = str_or_null(s.window_mode);
  j["reset_at"] = iso_or_null(s.reset_at);
  j["reset_timezone"] = s.reset_timezone;
  j["expiry_date"] = str_or_null(s.expiry_date);
  j["expires_at"] = iso_or_null(s.expires_at);
  j["days_until_expiry"] = num_or_null(s.days_until_expiry, 3);
  j["burn_per_day"] = round_to(s.burn_per_day, 6);
  j["projected_days_left"] = num_or_null(s.projected_days_left, 3);
  j["pace_delta"] = num_or_null(s.pace_delta);
  j["elapsed_ratio"] = num_or_null(s.elapsed_ratio);
  j["exhausts_at"] = iso_or_null(s.exhausts_at);
  j["expiring_capacity"] = round_to(s.expiring_capacity, 6);
  j["binding_window"] = str_or_null(s.binding_window);
  Json sec = Json::array();
  for (const auto& w : s.secondary_windows) {
    Json wj = Json::object();
    wj["name"] = w.name;
    wj["window_hours"] = round_to(w.window_hours, 6);
    wj["limit"] = round_to(w.limit, 6);
    wj["used"] = round_to(w.used, 6);
    wj["remaining"] = round_to(w.remaining, 6);
    wj["remaining_ratio"] = round_to(w.remaining_ratio, 6);
    wj["reset_at"] = iso_or_null(w.reset_at);
    wj["observed"] = w.observed;
    sec.push_back(wj);
  }
  j["secondary_windows"] = sec;
  if (s.learned_limit) {
    Json l = Json::object();
    l["limit"] = round_to(s.learned_limit->limit, 6);
    l["catalog_limit"] = round_to(s.learned_limit->catalog_limit, 6);
    l["rejections"] = s.learned_limit->rejections;
    l["learned_at"] = format_iso_utc(s.learned_limit->learned_at);
    l["evidence"] = s.learned_limit->evidence;
    j["learned_limit"] = l;
  } else {
    j["learned_limit"] = nullptr;
  }
  j["notes"] = s.notes;
  // Only where they apply, so documents of packages without accounts or families keep their shape.
  if (!s.account.empty()) {
    j["account"] = s.account_name.empty() ? s.account : s.account_name;
    j["account_id"] = s.account;
  }
  if (!s.model_windows.empty()) {
    Json mw = Json::array();
    for (const auto& w : s.model_windows) mw.push_back(model_window_to_json(w));
    j["model_windows"] = mw;
  }
  if (s.overage) {
    Json o = Json::object();
    o["available"] = s.overage->available;
    o["in_use"] = s.overage->in_use;
    o["status"] = str_or_null(s.overage->status);
    o["disabled_reason"] = str_or_null(s.overage->disabled_reason);
    o["credits_balance"] = num_or_null(s.overage->credits_balance);
    o["observed_at"] = format_iso_utc(s.overage->observed_at);
    j["overage"] = o;
  }
  return j;
}

}  // namespace qg
