// Civil (proleptic Gregorian, UTC) time arithmetic and the timestamp formats quotagate reads.
// All instants are int64 milliseconds since the Unix epoch (UTC). Pure functions, no clock.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qg {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

struct CivilDate {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int m, int d);
CivilDate civil_from_days(int64_t days);
// 0 = Sunday .. 6 = Saturday.
int weekday_from_days(int64_t days);
int days_in_month(int64_t y, int m);
bool is_leap_year(int64_t y);

// floor division for day/bucket indices of possibly negative instants.
// A millisecond count held in a double, as int64 when it is finite and within +-(year 9999 in ms);
// nullopt otherwise. Every double-to-instant conversion goes through here: casting an out-of-range
// double to an integer is undefined behaviour.
std::optional<int64_t> ms_from_double(double ms);
// Instants the engine accepts: years -9999 .. 9999 (ms). Anything outside is a corrupt input, and
// arithmetic on it (now - window, ts + retention) could overflow int64.
constexpr int64_t kMaxInstantMs = 253402300799999;  // 9999-12-31T23:59:59.999Z
inline bool is_valid_instant(int64_t ms) { return ms >= -kMaxInstantMs && ms <= kMaxInstantMs; }

inline int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The start of the UTC second holding `ms` (usage is aggregated at 1-second resolution). Never
// overflows: instants within a second of INT64_MIN map to INT64_MIN.
inline int64_t second_floor(int64_t ms) {
  const int64_t r = ms % kMsPerSecond;
  if (r >= 0) return ms - r;
  return ms - r >= INT64_MIN + kMsPerSecond ? ms - r - kMsPerSecond : INT64_MIN;
}

// "2026-11-28T18:55:00.123Z" (always UTC, millisecond precision).
std::string format_iso_utc(int64_t ms);
// "2026-11-28"
std::string format_date(int64_t days_since_epoch);

// RFC 3339 / ISO-8601: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.frac]]" with "Z", "+hh:mm", "+hhmm"
// or no offset (taken as UTC). Lower-case 't'/'z' and a space separator are accepted.
std::optional<int64_t> parse_iso8601(std::string_view text);
// Exactly "YYYY-MM-DD"; returns days since epoch.
std::optional<int64_t> parse_date_only(std::string_view text);
// HTTP-date (RFC 9110): IMF-fixdate, obsolete RFC 850 and asctime forms.
std::optional<int64_t> parse_http_date(std::string_view text);

}  // namespace qg
