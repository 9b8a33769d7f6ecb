// IANA time zones without I/O: the core embeds each zone's current POSIX TZ rule (generated
// from tzdata by tools/gen-tz-table.js) and evaluates it with integer arithmetic, so native and
// wasm agree to the millisecond. Used for daily quota resets ("midnight Pacific").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qg {

struct TzTransitionRule {
  enum class Kind { kJulianNoLeap, kZeroBasedDay, kMonthWeekDay } kind = Kind::kMonthWeekDay;
  int day = 0;      // J: 1..365, n: 0..365, M: weekday 0..6 (Sunday = 0)
  int month = 0;    // M only, 1..12
  int week = 0;     // M only, 1..5 (5 = last)
  int64_t time_s = 7200;  // local wall time of the change, seconds after local midnight (may be <0 or >24h)
};

struct TimeZone {
  std::string name;
  int64_t std_offset_s = 0;  // seconds east of UTC (local = utc + offset)
  int64_t dst_offset_s = 0;
  bool has_dst = false;
  TzTransitionRule dst_start, dst_end;
};

// Parses a POSIX TZ string such as "PST8PDT,M3.2.0,M11.1.0" or "<+0530>-5:30".
std::optional<TimeZone> parse_posix_tz(std::string_view rule);
// Looks up an IANA zone name ("America/Los_Angeles", "UTC"); nullopt when unknown.
std::optional<TimeZone> find_time_zone(std::string_view iana_name);

// Offset east of UTC in ms in force at the UTC instant.
int64_t utc_offset_ms(const TimeZone& tz, int64_t utc_ms);
// The first instant of the local calendar day containing utc_ms (handles a midnight that DST skips).
int64_t local_day_start(const TimeZone& tz, int64_t utc_ms);
// The first instant of the next local calendar day (strictly after utc_ms).
int64_t next_local_day_start(const TimeZone& tz, int64_t utc_ms);
// UTC instant of local midnight starting the given local civil day (days since epoch).
int64_t local_midnight_utc(const TimeZone& tz, int64_t local_days);

}  // namespace qg
