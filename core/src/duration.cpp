// Go-style duration parsing (time.ParseDuration grammar), milliseconds out.
#include "quotagate/duration.hpp"

#include "quotagate/text.hpp"

namespace qg {

std::optional<double> parse_go_duration_ms(std::string_view raw) {
  std::string_view s = trim(raw);
  if (s.empty() || s.size() > 128) return std::nullopt;
  if (s[0] == '-') return std::nullopt;
  if (s[0] == '+') s.remove_prefix(1);
  if (s == "0") return 0.0;
  if (s.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    const size_t num_start = i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    const std::string_view num = s.substr(num_start, i - num_start);
    if (num.empty() || num == ".") return std::nullopt;
    const auto value = parse_number(num);
    if (!value) return std::nullopt;
    const size_t unit_start = i;
    while (i < s.size() && !((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    const std::string_view unit = s.substr(unit_start, i - unit_start);
    double scale;
    if (unit == "ns") scale = 1e-6;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") scale = 1e-3;  // us, µ (U+00B5), μ (U+03BC)
    else if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60000;
    else if (unit == "h") scale = 3600000;
    else return std::nullopt;
    total += *value * scale;
  }
  if (total > 1e15) return std::nullopt;
  return total;
}

}  // namespace qg
