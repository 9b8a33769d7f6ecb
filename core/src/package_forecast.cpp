// The card's forecast line (package_forecast.hpp): read off one QuotaStatus, never recomputed, so
// the dashboard draws exactly the quotas document's remaining, exhausts_at and expiring_capacity.
#include "quotagate/package_forecast.hpp"

#include <algorithm>
#include <cmath>

#include "json_fields.hpp"

namespace qg {

namespace {
constexpr int64_t kMaxHorizonMs = 400 * kMsPerDay;
constexpr int64_t kFarMs = 30 * kMsPerDay;  // exhaustion further than this is drawn to the horizon
}

PackageForecast package_forecast(const QuotaStatus& s, int64_t now, int64_t horizon_ms) {
  PackageForecast f;
  f.rate_per_day = std::isfinite(s.projection_per_day) ? std::max(0.0, s.projection_per_day) : 0.0;
  f.exhausts_at = s.exhausts_at;
  f.lost = s.expiring_capacity;
  f.points.push_back({now, s.remaining});
  const bool credits = s.package_type == PackageType::kCredits;
  if (s.alert == "exhausted" || s.remaining <= 0) {
    // Nothing can be used until the (binding) window resets: the line stays where it is.
    f.until = "exhausted";
    if (s.reset_at && *s.reset_at > now) f.points.push_back({*s.reset_at, s.remaining});
    return f;
  }
  if (s.alert == "expired") {
    f.until = "expired";
    return f;
  }
  // An exhaustion beyond the display horizon (max(horizon, 30 days): a runway of centuries at a
  // trickle of use) is drawn to that horizon; exhausts_at still says when.
  const int64_t far = now + std::max<int64_t>(std::clamp<int64_t>(horizon_ms, 1, kMaxHorizonMs), kFarMs);
  if (s.exhausts_at && *s.exhausts_at >= now && *s.exhausts_at <= far) {
    f.until = "exhaustion";
    f.points.push_back({*s.exhausts_at, 0});
    return f;
  }
  // The instant the status projected expiring_capacity to: the credits' expiry, the primary
  // window's reset (a binding secondary window's reset is not where primary capacity is lost).
  const std::optional<int64_t> end = credits ? s.expires_at : s.primary_reset_at;
  if (end && *end > now) {
    f.until = credits ? "expiry" : "reset";
    f.points.push_back({*end, s.expiring_capacity});
    if (s.expiring_capacity > 0) f.loss_at = *end;
    return f;
  }
  f.until = "horizon";
  const int64_t h = s.exhausts_at && *s.exhausts_at > far ? far - now : std::clamp<int64_t>(horizon_ms, 1, kMaxHorizonMs);
  const double left = s.remaining - f.rate_per_day * (static_cast<double>(h) / kMsPerDay);
  f.points.push_back({now + h, std::isfinite(left) ? std::max(0.0, left) : s.remaining});
  return f;
}

Json forecast_to_json(const PackageForecast& f) {
  Json j = Json::object();
  j["until"] = std::string(f.until);
  j["rate_per_day"] = round_to(f.rate_per_day, 6);
  j["exhausts_at"] = iso_or_null(f.exhausts_at);
  j["loss_at"] = iso_or_null(f.loss_at);
  j["lost"] = round_to(f.lost, 6);
  j["end"] = f.points.empty() ? Json(nullptr) : Json(format_iso_utc(f.points.back().t_ms));
  Json points = Json::array();
  for (const auto& p : f.points) points.push_back(Json{{"t", format_iso_utc(p.t_ms)}, {"remaining", round_to(p.remaining, 6)}});
  j["points"] = points;
  return j;
}

}  // namespace qg
