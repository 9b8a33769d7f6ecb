// Civil date arithmetic and timestamp parsing/formatting (UTC, milliseconds).
#include "quotagate/civil_time.hpp"

#include <cmath>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "quotagate/text.hpp"

namespace qg {

bool is_leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap_year(y)) ? 29 : kDays[m - 1];
}

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDate{yoe + era * 400 + (m <= 2), m, d};
}

int weekday_from_days(int64_t z) { return static_cast<int>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6); }

std::string format_date(int64_t days) {
  const CivilDate c = civil_from_days(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", static_cast<long long>(c.year), c.month, c.day);
  return buf;
}

std::string format_iso_utc(int64_t ms) {
  // Clamped to years 0001..9999 so that no input can overflow the civil arithmetic.
  ms = std::clamp<int64_t>(ms, -62135596800000LL, 253402300799999LL);
  const int64_t days = floor_div(ms, kMsPerDay);
  const int64_t rem = ms - days * kMsPerDay;
  const CivilDate c = civil_from_days(days);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", static_cast<long long>(c.year), c.month,
                c.day, static_cast<int>(rem / kMsPerHour), static_cast<int>(rem / kMsPerMinute % 60),
                static_cast<int>(rem / kMsPerSecond % 60), static_cast<int>(rem % 1000));
  return buf;
}

namespace {

// Reads exactly n decimal digits at pos.
bool read_digits(std::string_view s, size_t& pos, size_t n, int64_t& out) {
  if (n == 0 || n > 18 || pos + n > s.size()) return false;  // 18 digits always fit in int64
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

bool valid_date(int64_t y, int64_t m, int64_t d) {
  return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, static_cast<int>(m));
}

}  // namespace

std::optional<int64_t> parse_date_only(std::string_view text) {
  const std::string_view s = trim(text);
  size_t pos = 0;
  int64_t y = 0, m = 0, d = 0;
  if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-') || !read_digits(s, pos, 2, m) || !expect(s, pos, '-') ||
      !read_digits(s, pos, 2, d) || pos != s.size() || !valid_date(y, m, d))
    return std::nullopt;
  return days_from_civil(y, static_cast<int>(m), static_cast<int>(d));
}

std::optional<int64_t> parse_iso8601(std::string_view text) {
  const std::string_view s = trim(text);
  size_t pos = 0;
  int64_t y = 0, mo = 0, d = 0;
  if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-') || !read_digits(s, pos, 2, mo) || !expect(s, pos, '-') ||
      !read_digits(s, pos, 2, d) || !valid_date(y, mo, d))
    return std::nullopt;
  int64_t ms = days_from_civil(y, static_cast<int>(mo), static_cast<int>(d)) * kMsPerDay;
  if (pos == s.size()) return ms;
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  ++pos;
  int64_t hh = 0, mm = 0, ss = 0;
  if (!read_digits(s, pos, 2, hh) || !expect(s, pos, ':') || !read_digits(s, pos, 2, mm)) return std::nullopt;
  if (expect(s, pos, ':') && !read_digits(s, pos, 2, ss)) return std::nullopt;
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  if (ss == 60) ss = 59;  // leap second: clamp, we never need sub-second accuracy at that instant
  int64_t frac_ms = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) frac_ms *= 10;
  }
  ms += hh * kMsPerHour + mm * kMsPerMinute + ss * kMsPerSecond + frac_ms;
  if (pos == s.size()) return ms;
  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size() ? std::optional<int64_t>(ms) : std::nullopt;
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  const int sign = s[pos] == '-' ? -1 : 1;
  ++pos;
  int64_t oh = 0, om = 0;
  if (!read_digits(s, pos, 2, oh)) return std::nullopt;
  if (expect(s, pos, ':')) {
    if (!read_digits(s, pos, 2, om)) return std::nullopt;
  } else if (pos < s.size() && !read_digits(s, pos, 2, om)) {
    return std::nullopt;
  }
  if (pos != s.size() || oh > 23 || om > 59) return std::nullopt;
  return ms - sign * (oh * kMsPerHour + om * kMsPerMinute);
}

namespace {

int month_from_abbrev(std::string_view m) {
  static const char* kMonths[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                    "jul", "aug", "sep", "oct", "nov", "dec"};
  for (int i = 0; i < 12; ++i)
    if (iequals(m, kMonths[i])) return i + 1;
  return 0;
}

bool parse_hms(std::string_view t, int64_t& h, int64_t& m, int64_t& s) {
  size_t pos = 0;
  return read_digits(t, pos, 2, h) && expect(t, pos, ':') && read_digits(t, pos, 2, m) && expect(t, pos, ':') &&
         read_digits(t, pos, 2, s) && pos == t.size() && h <= 23 && m <= 59 && s <= 60;
}

std::optional<int64_t> assemble(int64_t y, int mo, int64_t d, std::string_view hms) {
  int64_t h = 0, m = 0, s = 0;
  if (mo == 0 || !valid_date(y, mo, d) || !parse_hms(hms, h, m, s)) return std::nullopt;
  if (s == 60) s = 59;
  return days_from_civil(y, mo, static_cast<int>(d)) * kMsPerDay + h * kMsPerHour + m * kMsPerMinute + s * kMsPerSecond;
}

}  // namespace

std::optional<int64_t> parse_http_date(std::string_view text) {
  const auto parts = split_ws(trim(text));
  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
  if (parts.size() == 6 && !parts[0].empty() && parts[0].back() == ',' && iequals(parts[5], "GMT")) {
    int64_t d = 0, y = 0;
    size_t p = 0, q = 0;
    if (!read_digits(parts[1], p, parts[1].size() == 1 ? 1 : 2, d) || p != parts[1].size()) return std::nullopt;
    if (!read_digits(parts[3], q, 4, y) || q != parts[3].size()) return std::nullopt;
    return assemble(y, month_from_abbrev(parts[2]), d, parts[4]);
  }
  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
  if (parts.size() == 4 && !parts[0].empty() && parts[0].back() == ',' && iequals(parts[3], "GMT")) {
    const std::string_view dmy = parts[1];
    if (dmy.size() != 9 || dmy[2] != '-' || dmy[6] != '-') return std::nullopt;
    int64_t d = 0, yy = 0;
    size_t p = 0, q = 7;
    if (!read_digits(dmy, p, 2, d) || !read_digits(dmy, q, 2, yy)) return std::nullopt;
    const int64_t y = yy < 70 ? 2000 + yy : 1900 + yy;
    return assemble(y, month_from_abbrev(dmy.substr(3, 3)), d, parts[2]);
  }
  // asctime: Sun Nov  6 08:49:37 1994
  if (parts.size() == 5) {
    int64_t d = 0, y = 0;
    size_t p = 0, q = 0;
    if (!read_digits(parts[2], p, parts[2].size(), d) || parts[2].size() > 2) return std::nullopt;
    if (!read_digits(parts[4], q, 4, y) || q != parts[4].size()) return std::nullopt;
    return assemble(y, month_from_abbrev(parts[1]), d, parts[3]);
  }
  return std::nullopt;
}

std::optional<int64_t> ms_from_double(double ms) {
  constexpr double kLimit = static_cast<double>(kMaxInstantMs);
  if (!(ms >= -kLimit && ms <= kLimit)) return std::nullopt;  // also NaN
  return static_cast<int64_t>(std::llround(ms));
}

}  // namespace qg
