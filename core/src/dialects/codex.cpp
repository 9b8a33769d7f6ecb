// OpenAI Codex (ChatGPT plans): x-codex-{primary,secondary}-{used-percent,window-minutes,
// reset-at,reset-after-seconds}. used-percent is 0..100; reset-at is epoch seconds.
#include <cmath>

#include "dialects.hpp"

namespace qg::dialects {

void codex_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now) {
  bool seen = false;
  for (const char* which : {"primary", "secondary"}) {
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
  if (seen) s.add_dialect("codex");
}

}  // namespace qg::dialects
