// OpenAI Codex (ChatGPT plans): x-codex-{primary,secondary,tertiary}-{used-percent,window-minutes,
// reset-at,reset-after-seconds} and x-codex-credits-{has-credits,unlimited,balance}.
// used-percent is 0..100; reset-at is epoch seconds. The position says nothing about the length
// (for a while in 2026 the 5 h window was gone and "primary" was the weekly one): the engine tells
// windows apart by window-minutes only. Source: the header names the Codex CLI reads
// (codex-rs, backend-client rate-limit snapshot), as served by chatgpt.com/backend-api/codex.
#include <cmath>

#include "quotagate/text.hpp"

#include "dialects.hpp"

namespace qg::dialects {

void codex_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now) {
  bool seen = false;
  for (const char* which : {"primary", "secondary", "tertiary"}) {
    const std::string base = std::string("x-codex-") + which + "-";
    const auto pct = read_number(h, (base + "used-percent").c_str(), s);
    const auto minutes = read_number(h, (base + "window-minutes").c_str(), s);
    const auto reset_at = read_number(h, (base + "reset-at").c_str(), s);
    const auto reset_after = read_number(h, (base + "reset-after-seconds").c_str(), s);
    if (!pct && !minutes && !reset_at && !reset_after) continue;
    seen = true;
    WindowState w;
    w.name = which;
    if (minutes && *minutes > 0) w.window_minutes = *minutes;
    if (pct) w.utilization = std::max(0.0, *pct / 100.0);
    if (reset_at && *reset_at > 0) w.reset_at = epoch_to_ms(*reset_at);
    else if (reset_after && *reset_after >= 0) w.reset_at = after_seconds(now, *reset_after);
    if (w.utilization && *w.utilization >= 1) w.status = "rejected";
    s.windows.push_back(w);
  }
  auto flag = [&](const char* name) -> std::optional<bool> {
    const auto v = h.get(name);
    if (!v) return std::nullopt;
    const std::string t = to_lower(trim(*v));
    if (t == "true" || t == "1") return true;
    if (t == "false" || t == "0") return false;
    diagnose(s, name, *v, "true or false");
    return std::nullopt;
  };
  if (auto b = flag("x-codex-credits-has-credits")) s.overage.has_credits = b, seen = true;
  if (auto b = flag("x-codex-credits-unlimited")) s.overage.unlimited = b, seen = true;
  if (h.get("x-codex-credits-balance")) {
    const auto bal = read_number(h, "x-codex-credits-balance", s);
    if (bal && *bal >= 0) s.overage.credits_balance = *bal, seen = true;
  }
  if (seen) s.add_dialect("codex");
}

}  // namespace qg::dialects
