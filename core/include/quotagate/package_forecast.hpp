// The forecast a package's card draws: remaining capacity from `now`, falling at the rate the
// status projects with, until it runs out or the window resets / the credits expire, and the
// capacity still left at that instant (what will be lost). Built from one QuotaStatus, so its
// numbers are the quotas document's own (remaining, exhausts_at, expiring_capacity). Pure.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "quotagate/json.hpp"
#include "quotagate/quota_tracker.hpp"

namespace qg {

struct ForecastPoint {
  int64_t t_ms = 0;      // ms since the epoch
  double remaining = 0;  // in the package's unit (currency for credits, requests for windows)
};

struct PackageForecast {
  // Why the line ends where it does (a static string):
  //   "exhaustion"  remaining reaches 0 at exhausts_at, before any reset or expiry, within
  //                 max(horizon, 30 days) (a later exhaustion is drawn to that horizon);
  //   "reset"       the window resets first: `lost` units are left unused at loss_at;
  //   "expiry"      the credits expire first: `lost` units are left unused at loss_at;
  //   "horizon"     neither happens within the horizon (no active window, credits without expiry,
  //                 an exhaustion centuries away at a trickle of use);
  //   "exhausted"   nothing is left now (the line stays at 0 until reset_at, when there is one);
  //   "expired"     the credits have expired (nothing more can be used or lost).
  std::string_view until = "horizon";
  double rate_per_day = 0;             // QuotaStatus::projection_per_day (units per day)
  std::optional<int64_t> exhausts_at;  // ms; = QuotaStatus::exhausts_at
  std::optional<int64_t> loss_at;      // ms; the reset or expiry, when `lost` > 0
  double lost = 0;                     // units; = QuotaStatus::expiring_capacity
  std::vector<ForecastPoint> points;   // 1 or 2 points, time-ordered; the first is (now, remaining)
};

// The forecast of `s` (computed at `now_ms`, ms since the epoch). `horizon_ms` (ms, > 0): how far
// a line that neither runs out nor meets a reset or expiry is drawn. Never throws.
PackageForecast package_forecast(const QuotaStatus& s, int64_t now_ms, int64_t horizon_ms);

// {"until", "rate_per_day", "exhausts_at" (ISO-8601 or null), "loss_at" (ISO or null), "lost",
//  "end" (ISO of the last point), "points": [{"t": ISO, "remaining": units}]}; numbers rounded to 6
// decimals like the quotas document.
Json forecast_to_json(const PackageForecast& f);

}  // namespace qg
