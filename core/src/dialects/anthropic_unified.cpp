// Anthropic subscription (Claude Pro/Max) unified limits:
//   anthropic-ratelimit-unified-status: allowed | allowed_warning | rejected
//   anthropic-ratelimit-unified-<claim>-{utilization,reset,status}, claim = 5h, 7d, 7d_opus ...
//   anthropic-ratelimit-unified-reset (epoch s), -representative-claim (five_hour, seven_day,
//   seven_day_opus ...), -overage-status (allowed | allowed_warning | rejected), -overage-in-use,
//   -overage-disabled-reason.
// Utilization is a 0..1 fraction; resets are epoch seconds. A claim with a family after the length
// (7d_opus, 7d_sonnet, 7d_oi, any 7d_<family>) is a window of that model family only (scope).
// Sources: the headers Claude Code reads (its rate-limit messages), as seen on api.anthropic.com
// with an OAuth login; https://docs.anthropic.com/en/api/rate-limits lists the API-key family.
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

// "7d_opus" -> "opus"; "5h" -> "" (the whole account).
std::string claim_scope(std::string_view claim) {
  const size_t us = claim.find('_');
  return us == std::string_view::npos ? std::string() : to_lower(claim.substr(us + 1));
}

WindowState& window_named(HeaderSnapshot& s, const std::string& name) {
  for (auto& w : s.windows)
    if (w.name == name) return w;
  s.windows.push_back(WindowState{});
  s.windows.back().name = name;
  s.windows.back().window_minutes = claim_minutes(name);
  s.windows.back().scope = claim_scope(name);
  return s.windows.back();
}

// The representative claim's window name: five_hour -> 5h, seven_day -> 7d, seven_day_opus ->
// 7d_opus (any family); "" when unknown.
std::string claim_window(std::string_view rc) {
  if (rc == "five_hour") return "5h";
  if (rc == "seven_day") return "7d";
  constexpr std::string_view kSevenDay = "seven_day_";
  if (rc.size() > kSevenDay.size() && rc.compare(0, kSevenDay.size(), kSevenDay) == 0)
    return "7d_" + to_lower(rc.substr(kSevenDay.size()));
  if (claim_minutes(rc)) return std::string(rc);  // already a window name ("7d_oi")
  return "";
}

std::optional<bool> read_bool(std::string_view v) {
  const std::string t = to_lower(trim(v));
  if (t == "true" || t == "1") return true;
  if (t == "false" || t == "0") return false;
  return std::nullopt;
}

}  // namespace

void anthropic_unified_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t) {
  bool seen = false;
  for (const auto& [key, value] : h.entries()) {
    if (key.size() <= kPrefix.size() || key.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    seen = true;
    const std::string rest = key.substr(kPrefix.size());
    if (rest == "overage-status") {
      s.overage.status = to_lower(printable(value));
      continue;
    }
    if (rest == "overage-in-use") {
      if (auto b = read_bool(value)) s.overage.in_use = b;
      else diagnose(s, key, value, "true or false");
      continue;
    }
    if (rest == "overage-disabled-reason") {
      s.overage.disabled_reason = printable(value);
      continue;
    }
    if (rest == "status" || rest == "reset" || rest == "fallback-percentage" || rest == "overage-reset" || rest == "fallback")
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
    const std::string name = claim_window(s.representative_claim);
    if (!name.empty()) {
      WindowState& w = window_named(s, name);
      if (w.status.empty()) w.status = "rejected";
      if (!w.reset_at)
        if (auto reset = h.get("anthropic-ratelimit-unified-reset"))
          if (auto t = parse_number(*reset); t && *t > 0) w.reset_at = epoch_to_ms(*t);
    }
    if (!s.retry_after_s)
      if (auto reset = h.get("anthropic-ratelimit-unified-reset"))
        if (auto t = parse_number(*reset); t && *t > 0 && name.empty())
          s.windows.push_back(WindowState{"unified", std::nullopt, 1.0, std::nullopt, "rejected", epoch_to_ms(*t), ""});
  }
}

}  // namespace qg::dialects
