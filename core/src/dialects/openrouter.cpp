// The X-RateLimit-Limit / -Remaining / -Reset family: OpenRouter sends the reset in epoch
// milliseconds (https://openrouter.ai/docs/api-reference/limits); several OpenAI-compatible
// servers send delta seconds ("2") and others epoch seconds. reset_instant() tells them apart by
// magnitude against now. The same three also arrive inside a 429 body's error.metadata.headers.
// Together AI sends its token limit beside them under names of its own: x-tokenlimit-limit and
// x-tokenlimit-remaining (https://docs.together.ai/docs/rate-limits).
#include "dialects.hpp"

namespace qg::dialects {

void openrouter_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now) {
  const auto limit = h.get("x-ratelimit-limit");
  const auto remaining = h.get("x-ratelimit-remaining");
  const auto reset = h.get("x-ratelimit-reset");
  const bool tokens = h.get("x-tokenlimit-limit") || h.get("x-tokenlimit-remaining");
  if (!limit && !remaining && !reset && !tokens) return;
  s.add_dialect("openrouter");
  if (auto v = read_number(h, "x-tokenlimit-limit", s)) s.tokens.limit = *v;
  if (auto v = read_number(h, "x-tokenlimit-remaining", s)) s.tokens.remaining = *v;
  if (auto v = read_number(h, "x-ratelimit-limit", s)) s.requests.limit = *v;
  if (auto v = read_number(h, "x-ratelimit-remaining", s)) s.requests.remaining = *v;
  if (auto v = read_number(h, "x-ratelimit-reset", s)) {
    if (auto at = reset_instant(*v, now)) {
      s.requests.reset_at = at;
      if (*v >= 1e9 && *at == now) s.diagnostics.push_back("x-ratelimit-reset: " + printable(*reset) + " is in the past, read as now");
    } else {
      diagnose(s, "x-ratelimit-reset", *reset, "delta seconds, epoch seconds or epoch milliseconds");
    }
  }
}

}  // namespace qg::dialects
