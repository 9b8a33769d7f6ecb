// QuotaStatus: what is left of one package, how fast it burns, when it resets or expires, and
// which alert applies. Computed from the catalog entry, the usage aggregates and the live
// observations taken from response headers. Pure: `now` (ms) is a parameter.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quotagate/catalog.hpp"
#include "quotagate/json.hpp"
#include "quotagate/usage_ledger.hpp"

namespace qg {

struct AlertThresholds {
  double credits_use_or_lose_days = 14;  // expiry within this many days ...
  double credits_topup_days = 2;         // runway below this -> topup
  double credits_watch_days = 14;        // runway below this -> watch
  double window_topup_ratio = 0.10;      // remaining ratio below this -> topup
  double window_watch_ratio = 0.30;
  double window_use_or_lose_elapsed = 0.75;  // reset within the last quarter of the window ...
  double window_use_or_lose_min_ratio = 0.50;  // ... with at least half left
  double burn_half_life_days = 2;
  int burn_lookback_days = 7;
};

// A provider-reported reading of one window, kept until that window resets.
struct ObservedWindow {
  int64_t observed_at = 0;
  double used = 0;  // in the package's units (utilization x limit)
  std::optional<int64_t> reset_at;
  bool rejected = false;
  std::optional<double> utilization;  // 0..1 as reported (a family window may have no known limit)
  std::string dialect;
  std::string source_window;  // the provider's window name ("5h", "per_day" ...)
  std::optional<double> window_minutes;
};

// The latest word on paid capacity beyond the plan windows (header_snapshot.hpp OverageState).
struct ObservedOverage {
  int64_t observed_at = 0;
  bool available = false;  // a request beyond the plan would still be served (and billed)
  bool in_use = false;
  std::string status, disabled_reason;
  std::optional<double> credits_balance;
};

// Learned from repeated 429s while the local count said there was room.
struct LearnedLimit {
  double limit = 0;
  double catalog_limit = 0;
  int rejections = 0;
  int64_t learned_at = 0;
  std::string evidence;
};

struct PackageLive {
  std::optional<ObservedWindow> primary;
  std::vector<std::optional<ObservedWindow>> secondary;  // parallel to Package::secondary_windows
  std::optional<LearnedLimit> learned;
  // Family windows the provider reported (scope -> latest reading), e.g. "opus" for 7d_opus.
  std::map<std::string, ObservedWindow> families;
  std::optional<ObservedOverage> overage;
  int rejections_below_limit = 0;  // consecutive 429s while local used < limit
  // ms since epoch. Signals from other instances arrive out of order: a success resets the run
  // only if newer than the last rejection (and a rejection older than the provider's last success,
  // ProviderHealth::last_success_at, is not counted).
  int64_t last_rejection_at = INT64_MIN;
};

struct SecondaryStatus {
  std::string name;
  double window_hours = 0;
  double limit = 0, used = 0, remaining = 0, remaining_ratio = 0;
  std::optional<int64_t> reset_at;
  bool observed = false;
};

// One model family's window (catalog model_windows, or reported by the provider only).
struct ModelWindowStatus {
  std::string family;
  double window_hours = 0;
  std::optional<double> limit, used, remaining, utilization;
  std::optional<int64_t> reset_at;
  std::string status;  // the provider's: allowed | allowed_warning | rejected, or ""
  bool observed = false;
  bool exhausted = false;  // requests of this family get no more from the plan until reset_at
  std::vector<std::string> models;  // declared patterns
};

struct QuotaStatus {
  std::string provider_id, package_id;
  // The account this state belongs to: its id (a credential fingerprint for auth: client
  // providers, the configured name for auth: key accounts; "" for a provider's only key) and
  // the name the operator gave it ("" when none).
  std::string account, account_name;
  PackageType package_type = PackageType::kCredits;
  std::string currency, unit;  // unit: the currency for credits, "requests" for windows
  double total = 0, used = 0, remaining = 0, remaining_ratio = 0;
  std::string_view alert = "ok";  // always one of the six static alert names
  std::string source, confidence, last_updated, notes;
  std::optional<double> window_hours;
  std::string window_mode;
  std::optional<int64_t> reset_at;
  std::optional<int64_t> primary_reset_at;  // the primary window's own reset (reset_at may be a binding secondary's)
  std::string reset_timezone;
  std::string expiry_date;
  std::optional<int64_t> expires_at;
  std::optional<double> days_until_expiry;
  double burn_per_day = 0;
  std::optional<double> projected_days_left;
  std::optional<double> pace_delta, elapsed_ratio;
  std::optional<int64_t> exhausts_at;
  double expiring_capacity = 0;
  // Units per day that exhausts_at and expiring_capacity are projected with: burn_per_day for
  // credits, the current window's pace (used / elapsed) for windows (0 when no window is active).
  double projection_per_day = 0;
  std::optional<int64_t> window_start;  // ms: the primary window's start, when one is active
  std::vector<SecondaryStatus> secondary_windows;
  std::string binding_window;  // the window whose ratio drives the alert ("" = primary)
  std::optional<LearnedLimit> learned_limit;
  std::vector<ModelWindowStatus> model_windows;
  std::optional<ObservedOverage> overage;
};

// Ledger bookkeeping the tracker owns: how an event lands in a package's aggregates.
void record_package_usage(const Package& p, PackageUsage& u, int64_t ts_ms, double units, double cost,
                          int64_t tokens_in, int64_t tokens_out, double requests = 1);
// How far back a package's timeline must be kept, given its windows and catalog anchor.
int64_t retention_cutoff(const Package& p, const PackageUsage& u);

QuotaStatus compute_status(const Package& p, const PackageUsage& u, const PackageLive& live,
                           const AlertThresholds& t, int64_t now_ms);

// EWMA of per-local-day usage over the lookback, normalised by the real history span.
double burn_per_day(const Package& p, const PackageUsage& u, const AlertThresholds& t, int64_t now_ms,
                    bool use_cost);

Json status_to_json(const QuotaStatus& s);
int alert_rank(std::string_view alert);  // urgency order: exhausted 0 .. ok 5

}  // namespace qg
