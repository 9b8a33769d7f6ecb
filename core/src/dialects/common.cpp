// Shared readers for the dialect parsers.
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

std::optional<double> delay_in_message(std::string_view msg) {
  size_t at = ifind(msg, "try again in ");
  if (at == std::string_view::npos) at = ifind(msg, "retry in ");
  if (at == std::string_view::npos) at = ifind(msg, "retry after ");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = msg.substr(at);
  rest = rest.substr(rest.find(' ', rest.find("in") != std::string_view::npos ? 0 : 0));
  // Skip the phrase words to the first digit.
  size_t i = 0;
  while (i < rest.size() && !(rest[i] >= '0' && rest[i] <= '9')) ++i;
  size_t j = i;
  while (j < rest.size() && rest[j] != ' ' && rest[j] != ',' && rest[j] != ';' && rest[j] != ')') ++j;
  std::string_view token = rest.substr(i, j - i);
  while (!token.empty() && token.back() == '.') token.remove_suffix(1);
  if (auto ms = parse_go_duration_ms(token)) return *ms / 1000.0;
  // "20 seconds", "2 minutes"
  const auto n = parse_number(token);
  if (!n) return std::nullopt;
  const std::string_view unit = trim(rest.substr(j));
  if (istarts_with(unit, "ms") || istarts_with(unit, "millisecond")) return *n / 1000.0;
  if (istarts_with(unit, "min")) return *n * 60;
  if (istarts_with(unit, "hour")) return *n * 3600;
  return *n;  // seconds by default
}

}  // namespace qg::dialects
