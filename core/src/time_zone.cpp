// POSIX TZ rule parsing and evaluation, plus the embedded IANA zone table.
#include "quotagate/time_zone.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "quotagate/civil_time.hpp"

namespace qg {

namespace {

struct ZoneRow {
  const char* name;
  const char* rule;
};

const ZoneRow kZones[] = {
#include "tz_table.inc"
};

class RuleReader {
 public:
  explicit RuleReader(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  bool eat(char c) {
    if (peek() == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool name() {
    if (eat('<')) {
      const size_t start = i_;
      while (!done() && peek() != '>') ++i_;
      if (!eat('>')) return false;
      return i_ - start >= 4;  // at least 3 characters inside the brackets
    }
    size_t n = 0;
    while (!done() && ((peek() >= 'A' && peek() <= 'Z') || (peek() >= 'a' && peek() <= 'z'))) ++i_, ++n;
    return n >= 3;
  }
  bool number(int64_t& out, int max_digits) {
    int64_t v = 0;
    int n = 0;
    while (!done() && peek() >= '0' && peek() <= '9' && n < max_digits) v = v * 10 + (s_[i_++] - '0'), ++n;
    out = v;
    return n > 0;
  }
  // [+-]hh[:mm[:ss]] in seconds; hours up to 167 (RFC 8536 extension).
  bool hms(int64_t& out) {
    int64_t sign = 1;
    if (eat('-')) sign = -1;
    else eat('+');
    int64_t h = 0, m = 0, s = 0;
    if (!number(h, 3) || h > 167) return false;
    if (eat(':')) {
      if (!number(m, 2) || m > 59) return false;
      if (eat(':') && (!number(s, 2) || s > 59)) return false;
    }
    out = sign * (h * 3600 + m * 60 + s);
    return true;
  }
  bool rule(TzTransitionRule& r) {
    int64_t v = 0;
    if (eat('M')) {
      int64_t w = 0, d = 0;
      if (!number(v, 2) || !eat('.') || !number(w, 1) || !eat('.') || !number(d, 1)) return false;
      if (v < 1 || v > 12 || w < 1 || w > 5 || d > 6) return false;
      r.kind = TzTransitionRule::Kind::kMonthWeekDay;
      r.month = static_cast<int>(v);
      r.week = static_cast<int>(w);
      r.day = static_cast<int>(d);
    } else if (eat('J')) {
      if (!number(v, 3) || v < 1 || v > 365) return false;
      r.kind = TzTransitionRule::Kind::kJulianNoLeap;
      r.day = static_cast<int>(v);
    } else {
      if (!number(v, 3) || v > 365) return false;
      r.kind = TzTransitionRule::Kind::kZeroBasedDay;
      r.day = static_cast<int>(v);
    }
    r.time_s = 7200;
    if (eat('/')) return hms(r.time_s);
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// Days since epoch of the rule's date in the given year.
int64_t rule_day(const TzTransitionRule& r, int64_t year) {
  switch (r.kind) {
    case TzTransitionRule::Kind::kJulianNoLeap: {
      int64_t day = days_from_civil(year, 1, 1) + r.day - 1;
      if (is_leap_year(year) && r.day >= 60) ++day;  // J counts never include Feb 29
      return day;
    }
    case TzTransitionRule::Kind::kZeroBasedDay:
      return days_from_civil(year, 1, 1) + r.day;
    case TzTransitionRule::Kind::kMonthWeekDay:
    default: {
      const int64_t first = days_from_civil(year, r.month, 1);
      const int first_wd = weekday_from_days(first);
      int64_t day = first + ((r.day - first_wd + 7) % 7) + 7 * (r.week - 1);
      const int64_t month_end = first + days_in_month(year, r.month);
      while (day >= month_end) day -= 7;
      return day;
    }
  }
}

bool in_dst(const TimeZone& tz, int64_t utc_ms) {
  const int64_t year = civil_from_days(floor_div(utc_ms + tz.std_offset_s * 1000, kMsPerDay)).year;
  // The start is given in standard local time, the end in daylight local time.
  const int64_t start = (rule_day(tz.dst_start, year) * 86400 + tz.dst_start.time_s - tz.std_offset_s) * 1000;
  const int64_t end = (rule_day(tz.dst_end, year) * 86400 + tz.dst_end.time_s - tz.dst_offset_s) * 1000;
  if (start < end) return utc_ms >= start && utc_ms < end;
  return utc_ms < end || utc_ms >= start;  // southern hemisphere: DST spans the new year
}

}  // namespace

std::optional<TimeZone> parse_posix_tz(std::string_view s) {
  RuleReader r(s);
  TimeZone tz;
  int64_t off = 0;
  if (!r.name() || !r.hms(off)) return std::nullopt;
  tz.std_offset_s = -off;  // POSIX offsets are west-positive
  tz.dst_offset_s = tz.std_offset_s;
  if (r.done()) return tz;
  if (!r.name()) return std::nullopt;
  tz.has_dst = true;
  tz.dst_offset_s = tz.std_offset_s + 3600;
  if (r.peek() != ',') {
    if (!r.hms(off)) return std::nullopt;
    tz.dst_offset_s = -off;
  }
  if (!r.eat(',') || !r.rule(tz.dst_start) || !r.eat(',') || !r.rule(tz.dst_end) || !r.done()) return std::nullopt;
  return tz;
}

std::optional<TimeZone> find_time_zone(std::string_view name) {
  const auto* begin = std::begin(kZones);
  const auto* end = std::end(kZones);
  const auto* it = std::lower_bound(begin, end, name,
                                    [](const ZoneRow& row, std::string_view n) { return std::string_view(row.name) < n; });
  if (it == end || std::string_view(it->name) != name) return std::nullopt;
  auto tz = parse_posix_tz(it->rule);
  if (tz) tz->name = std::string(name);
  return tz;
}

int64_t utc_offset_ms(const TimeZone& tz, int64_t utc_ms) {
  return 1000 * ((tz.has_dst && in_dst(tz, utc_ms)) ? tz.dst_offset_s : tz.std_offset_s);
}

int64_t local_midnight_utc(const TimeZone& tz, int64_t local_days) {
  const int64_t local = local_days * kMsPerDay;
  // Candidate instants for each offset; a valid one maps back to the same local time.
  const int64_t offsets[2] = {tz.dst_offset_s * 1000, tz.std_offset_s * 1000};
  int64_t best = INT64_MAX;
  for (int64_t off : offsets) {
    const int64_t u = local - off;
    if (u + utc_offset_ms(tz, u) == local) best = std::min(best, u);
  }
  if (best != INT64_MAX) return best;
  // Midnight falls in a spring-forward gap: the day starts at the transition instant.
  int64_t lo = local - std::max(offsets[0], offsets[1]);
  int64_t hi = local - std::min(offsets[0], offsets[1]);
  const int64_t lo_off = utc_offset_ms(tz, lo);
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (utc_offset_ms(tz, mid) == lo_off) lo = mid;
    else hi = mid;
  }
  return hi;
}

int64_t local_day_start(const TimeZone& tz, int64_t utc_ms) {
  const int64_t local_days = floor_div(utc_ms + utc_offset_ms(tz, utc_ms), kMsPerDay);
  const int64_t start = local_midnight_utc(tz, local_days);
  return start <= utc_ms ? start : local_midnight_utc(tz, local_days - 1);
}

int64_t next_local_day_start(const TimeZone& tz, int64_t utc_ms) {
  const int64_t local_days = floor_div(utc_ms + utc_offset_ms(tz, utc_ms), kMsPerDay);
  const int64_t next = local_midnight_utc(tz, local_days + 1);
  return next > utc_ms ? next : local_midnight_utc(tz, local_days + 2);
}

}  // namespace qg
