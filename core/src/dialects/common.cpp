// Shared readers for the dialect parsers.
#include <cmath>

#include "dialects.hpp"
#include "quotagate/duration.hpp"
#include "quotagate/text.hpp"

namespace qg::dialects {

void diagnose(HeaderSnapshot& s, std::string_view name, std::string_view value, std::string_view expected) {
  std::string v(value.substr(0, 80));
  for (char& c : v)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  s.diagnostics.push_back(std::string(name) + ": unreadable value \"" + v + "\", expected " + std::string(expected));
}

std::optional<double> read_number(const HeaderMap& h, const char* name, HeaderSnapshot& s) {
  const auto v = h.get(name);
  if (!v) return std::nullopt;
  const auto n = parse_number(*v);
  if (!n) diagnose(s, name, *v, "a number");
  return n;
}

int64_t epoch_to_ms(double epoch) {
  // Seconds until the year 5138; anything larger is already milliseconds.
  return epoch < 1e11 ? static_cast<int64_t>(std::llround(epoch * 1000)) : static_cast<int64_t>(std::llround(epoch));
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
