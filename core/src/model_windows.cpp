// Model-family windows: statuses from the catalog's model_windows, local counts and provider
// readings; which family window blocks a request.
#include "quotagate/model_windows.hpp"

#include <algorithm>
#include <cmath>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"
#include "json_fields.hpp"

namespace qg {

namespace {

// A reading still describes the current window: before its reset, or (no reset given) within one
// window length of when it was taken.
bool reading_current(const ObservedWindow& o, int64_t window_ms, int64_t now) {
  if (o.reset_at) return *o.reset_at > now;
  return now - o.observed_at < window_ms;
}

}  // namespace

std::vector<ModelWindowStatus> model_window_statuses(const Package& p, const PackageUsage& u, const PackageLive& live,
                                                     int64_t now) {
  std::vector<ModelWindowStatus> out;
  for (size_t k = 0; k < p.model_windows.size(); ++k) {
    const ModelWindow& mw = p.model_windows[k];
    const int64_t wms = std::llround(mw.window_hours * kMsPerHour);
    ModelWindowStatus s;
    s.family = mw.family;
    s.window_hours = mw.window_hours;
    s.models = mw.models;
    const double local = k < u.family_usage.size() ? u.family_usage[k].units_in(now - wms, now) : 0.0;
    if (mw.limit > 0) {
      s.limit = mw.limit;
      s.used = local;
    }
    auto it = live.families.find(mw.family);
    if (it != live.families.end() && reading_current(it->second, wms, now)) {
      const ObservedWindow& o = it->second;
      s.observed = true;
      s.status = o.rejected ? "rejected" : "";
      s.utilization = o.utilization;
      s.reset_at = o.reset_at;
      if (mw.limit > 0 && o.utilization) s.used = std::max(local, *o.utilization * mw.limit);
      if (o.rejected || (o.utilization && *o.utilization >= 1)) s.exhausted = true;
    }
    if (s.limit) {
      s.remaining = std::max(0.0, *s.limit - *s.used);
      if (!s.utilization) s.utilization = round_to(*s.used / *s.limit, 6);
      if (*s.used >= *s.limit) {
        s.exhausted = true;
        // Sliding: the count falls below the limit once enough of the window's events leave it.
        if (!s.reset_at && k < u.family_usage.size())
          if (auto t = u.family_usage[k].when_cumulative_exceeds(now - wms, now, *s.used - *s.limit))
            s.reset_at = *t + wms;
      }
    }
    out.push_back(std::move(s));
  }
  for (const auto& entry : live.families) {
    const std::string& family = entry.first;
    const ObservedWindow& o = entry.second;
    if (std::any_of(p.model_windows.begin(), p.model_windows.end(), [&family](const ModelWindow& m) { return m.family == family; }))
      continue;
    const double minutes = o.window_minutes.value_or(7 * 1440.0);
    const int64_t wms = std::llround(minutes * kMsPerMinute);
    if (!reading_current(o, wms, now)) continue;
    ModelWindowStatus s;
    s.family = family;
    s.window_hours = round_to(minutes / 60.0, 6);
    s.observed = true;
    s.status = o.rejected ? "rejected" : "";
    s.utilization = o.utilization;
    s.reset_at = o.reset_at;
    s.exhausted = o.rejected || (o.utilization && *o.utilization >= 1);
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<FamilyBlock> family_block(const std::vector<ModelWindowStatus>& windows, std::string_view model,
                                        const std::vector<std::pair<std::string, std::string>>& learned,
                                        bool overage_serves) {
  for (const ModelWindowStatus& w : windows) {
    if (!w.exhausted) continue;
    const bool local_full = w.limit && w.used && *w.used >= *w.limit;
    if (overage_serves && !local_full) continue;
    bool member = model_in_family(w.family, model, w.models);
    for (const auto& [family, m] : learned) member = member || (family == w.family && m == model);
    if (!member) continue;
    return FamilyBlock{w.family, w.reset_at};
  }
  return std::nullopt;
}

void record_family_usage(const Package& p, PackageUsage& u, std::string_view model, int64_t ts, double units) {
  if (p.model_windows.empty()) return;
  if (u.family_usage.size() != p.model_windows.size()) u.family_usage.resize(p.model_windows.size());
  for (size_t k = 0; k < p.model_windows.size(); ++k) {
    const ModelWindow& mw = p.model_windows[k];
    if (!model_in_family(mw.family, model, mw.models)) continue;
    UsageTimeline& tl = u.family_usage[k];
    tl.add(ts, units, 0);
    if (tl.size() > 4096) tl.prune_before(ts - std::llround(mw.window_hours * kMsPerHour) - kMsPerHour);
  }
}

Json model_window_to_json(const ModelWindowStatus& w) {
  Json j = Json::object();
  j["family"] = w.family;
  j["window_hours"] = round_to(w.window_hours, 6);
  j["limit"] = num_or_null(w.limit);
  j["used"] = num_or_null(w.used);
  j["remaining"] = num_or_null(w.remaining);
  j["utilization"] = num_or_null(w.utilization);
  j["reset_at"] = iso_or_null(w.reset_at);
  j["status"] = str_or_null(w.status);
  j["observed"] = w.observed;
  j["exhausted"] = w.exhausted;
  j["models"] = w.models;
  return j;
}

}  // namespace qg
