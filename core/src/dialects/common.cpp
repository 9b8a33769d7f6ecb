// Shared readers for the dialect parsers.
#include <algorithm>
#include <cmath>

#include "dialects.hpp"
#include "quotagate/duration.hpp"
#include "quotagate/text.hpp"

namespace qg::dialects {

std::string printable(std::string_view value, size_t max_len) {
  std::string v(trim(value).substr(0, max_len));
  for (char& c : v)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return v;
}

void diagnose(HeaderSnapshot& s, std::string_view name, std::string_view value, std::string_view expected) {
  s.diagnostics.push_back(printable(name, 80) + ": unreadable value \"" + printable(value, 80) + "\", expected " + std::string(expected));
}

std::optional<double> read_number(const HeaderMap& h, const char* name, HeaderSnapshot& s) {
  const auto v = h.get(name);
  if (!v) return std::nullopt;
  const auto n = parse_number(*v);
  if (!n) diagnose(s, name, *v, "a number");
  return n;
}

namespace {
constexpr double kLatestMs = 253402300799999.0;  // 9999-12-31T23:59:59.999Z
std::optional<int64_t> sane_ms(double ms) {
  if (!(ms >= 0 && ms <= kLatestMs)) return std::nullopt;  // also rejects NaN
  return static_cast<int64_t>(std::llround(ms));
}
}  // namespace

std::optional<int64_t> epoch_to_ms(double epoch) {
  // Seconds until the year 5138; anything larger is already milliseconds.
  return sane_ms(epoch < 1e11 ? epoch * 1000 : epoch);
}

std::optional<int64_t> after_seconds(int64_t now, double seconds) {
  return sane_ms(static_cast<double>(now) + seconds * 1000);
}

namespace {

// Seconds per unit word ("ms", "s", "sec", "seconds", "m", "min", "minutes", "h", "hours", "d",
// "days", "w", "weeks"), or nullopt.
std::optional<double> unit_seconds(std::string_view u) {
  std::string w = to_lower(u);
  while (!w.empty() && (w.back() == '.' || w.back() == ',')) w.pop_back();
  if (w == "ms" || w == "msec" || w == "millisecond" || w == "milliseconds") return 0.001;
  if (w == "s" || w == "sec" || w == "secs" || w == "second" || w == "seconds") return 1;
  if (w == "m" || w == "min" || w == "mins" || w == "minute" || w == "minutes") return 60;
  if (w == "h" || w == "hr" || w == "hrs" || w == "hour" || w == "hours") return 3600;
  if (w == "d" || w == "day" || w == "days") return 86400;
  if (w == "w" || w == "week" || w == "weeks") return 604800;
  return std::nullopt;
}

}  // namespace

std::optional<double> delay_in_message(std::string_view msg) {
  size_t at = std::string_view::npos;
  for (const char* phrase : {"try again in ", "retry in ", "retry after ", "retrying in ", "resets in ", "reset in ", "wait "}) {
    at = ifind(msg, phrase);
    if (at != std::string_view::npos) break;
  }
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = msg.substr(at);
  size_t i = 0;
  while (i < rest.size() && !(rest[i] >= '0' && rest[i] <= '9')) ++i;
  if (i > 16) return std::nullopt;  // the number must follow the phrase
  // Digits grouped with commas ("1,500ms") are one number.
  std::string joined;
  for (size_t p = i; p < rest.size(); ++p) {
    if (rest[p] == ',' && p > i && p + 1 < rest.size() && rest[p - 1] >= '0' && rest[p - 1] <= '9' && rest[p + 1] >= '0' && rest[p + 1] <= '9') continue;
    joined.push_back(rest[p]);
  }
  rest = joined;
  // Number-unit pairs, compact or in words: "644ms", "1m30s", "1h 30m", "20 seconds",
  // "3 days 4 hours", "2 hours, 3 minutes and 4 seconds", "1.5 s".
  double total = 0;
  bool any = false;
  size_t k = 0;
  while (k < rest.size()) {
    size_t n0 = k;
    while (k < rest.size() && ((rest[k] >= '0' && rest[k] <= '9') || rest[k] == '.')) ++k;
    if (k == n0) break;
    std::string_view num = rest.substr(n0, k - n0);
    while (!num.empty() && num.back() == '.') num.remove_suffix(1);
    const auto n = parse_number(num);
    if (!n) break;
    while (k < rest.size() && rest[k] == ' ') ++k;
    size_t u0 = k;
    while (k < rest.size() && ((rest[k] >= 'a' && rest[k] <= 'z') || (rest[k] >= 'A' && rest[k] <= 'Z'))) ++k;
    const auto per = unit_seconds(rest.substr(u0, k - u0));
    if (!per) {
      if (!any && u0 == k) return *n;  // a bare number: seconds
      break;
    }
    total += *n * *per;
    any = true;
    // Separators between parts: spaces, commas, "and".
    while (k < rest.size() && (rest[k] == ' ' || rest[k] == ',')) ++k;
    if (rest.substr(k, 4) == "and ") k += 4;
  }
  if (any) return total;
  return std::nullopt;
}

std::optional<int64_t> reset_instant(double v, int64_t now) {
  if (!(v >= 0) || !std::isfinite(v)) return std::nullopt;
  if (v >= 1e11) {  // epoch milliseconds (1e11 ms is 1973; no delta or epoch-seconds value is that large)
    const auto at = epoch_to_ms(v);
    return at ? std::optional<int64_t>(std::max(*at, now)) : std::nullopt;
  }
  if (v >= 1e9) {  // epoch seconds (2001 on); a delta of 31 years is no reset
    const auto at = epoch_to_ms(v);
    return at ? std::optional<int64_t>(std::max(*at, now)) : std::nullopt;
  }
  return after_seconds(now, v);  // delta seconds
}

}  // namespace qg::dialects
