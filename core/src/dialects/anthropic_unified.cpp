// Anthropic subscription (Claude Pro/Max) unified limits:
//   anthropic-ratelimit-unified-status: allowed | allowed_warning | rejected
//   anthropic-ratelimit-unified-<claim>-{utilization,reset,status}, claim = 5h, 7d, 7d_opus ...
//   anthropic-ratelimit-unified-reset (epoch s), -representative-claim (five_hour, seven_day ...)
// Utilization is a 0..1 fraction; resets are epoch seconds.
#include <algorithm>

#include "dialects.hpp"
#include "quotagate/text.hpp"

namespace qg::dialects {

namespace {

constexpr std::string_view kPrefix = "anthropic-ratelimit-unified-";

// "5h" -> 300, "7d" -> 10080, "7d_opus" -> 10080; nullopt when the claim has no length prefix.
std::optional<double> claim_minutes(std::string_view claim) {
  size_t i = 0;
  double n = 0;
  while (i < claim.size() && claim[i] >= '0' && claim[i] <= '9') n = n * 10 + (claim[i++] - '0');
  if (i == 0 || i >= claim.size()) return std::nullopt;
  switch (claim[i]) {
    case 'm': return n;
    case 'h': return n * 60;
    case 'd': return n * 1440;
    default: return std::nullopt;
  }
}

WindowState& window_named(HeaderSnapshot& s, const std::string& name) {
  for (auto& w : s.windows)
    if (w.name == name) return w;
  s.windows.push_back(WindowState{});
  s.windows.back().name = name;
  s.windows.back().window_minutes = claim_minutes(name);
  return s.windows.back();
}

}  // namespace

void anthropic_unified_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t) {
  bool seen = false;
  for (const auto& [key, value] : h.entries()) {
    if (key.size() <= kPrefix.size() || key.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    seen = true;
    const std::string rest = key.substr(kPrefix.size());
    if (rest == "status" || rest == "reset" || rest == "fallback-percentage" || rest == "overage-status" ||
        rest == "overage-reset" || rest == "fallback" || rest == "overage-disabled-reason")
      continue;
    if (rest == "representative-claim") {
      s.representative_claim = printable(value);
      continue;
    }
    const size_t dash = rest.rfind('-');
    if (dash == std::string::npos) continue;
    const std::string claim = rest.substr(0, dash);
    const std::string field = rest.substr(dash + 1);
    if (!claim_minutes(claim)) continue;  // e.g. overage-* fields handled above
    if (field == "utilization") {
      auto u = parse_number(value);
      if (u && *u >= 0) window_named(s, claim).utilization = std::min(*u, 1e6);
      else diagnose(s, key, value, "a utilization fraction 0..1");
    } else if (field == "reset") {
      auto t = parse_number(value);
      if (t && *t > 0) window_named(s, claim).reset_at = epoch_to_ms(*t);
      else diagnose(s, key, value, "epoch seconds");
    } else if (field == "status") {
      window_named(s, claim).status = printable(value);
    }
  }
  if (!seen) return;
  s.add_dialect("anthropic-unified");
  const auto overall = h.get("anthropic-ratelimit-unified-status");
  if (overall && trim(*overall) == "rejected") {
    // The representative claim names the binding window; mark it rejected if no per-window status.
    const std::string rc = s.representative_claim;
    const std::string name = rc == "five_hour" ? "5h" : rc == "seven_day" ? "7d" : rc == "seven_day_opus" ? "7d_opus" : "";
    for (auto& w : s.windows)
      if (w.name == name && w.status.empty()) w.status = "rejected";
    if (!s.retry_after_s)
      if (auto reset = h.get("anthropic-ratelimit-unified-reset"))
        if (auto t = parse_number(*reset); t && *t > 0 && name.empty())
          s.windows.push_back(WindowState{"unified", std::nullopt, 1.0, std::nullopt, "rejected", epoch_to_ms(*t)});
  }
}

}  // namespace qg::dialects
