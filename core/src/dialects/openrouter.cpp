// OpenRouter: X-RateLimit-Limit / -Remaining / -Reset, the reset in epoch *milliseconds*.
// The same three also arrive inside a 429 body's error.metadata.headers (see error_body).
#include "dialects.hpp"

namespace qg::dialects {

void openrouter_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t) {
  const auto limit = h.get("x-ratelimit-limit");
  const auto remaining = h.get("x-ratelimit-remaining");
  const auto reset = h.get("x-ratelimit-reset");
  if (!limit && !remaining && !reset) return;
  s.add_dialect("openrouter");
  if (auto v = read_number(h, "x-ratelimit-limit", s)) s.requests.limit = *v;
  if (auto v = read_number(h, "x-ratelimit-remaining", s)) s.requests.remaining = *v;
  if (auto v = read_number(h, "x-ratelimit-reset", s)) {
    if (*v > 0) s.requests.reset_at = epoch_to_ms(*v);
    else diagnose(s, "x-ratelimit-reset", *reset, "epoch milliseconds");
  }
}

}  // namespace qg::dialects
