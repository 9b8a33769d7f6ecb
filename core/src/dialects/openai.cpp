// OpenAI / Azure OpenAI / Groq: x-ratelimit-{limit,remaining,reset}-{requests,tokens}.
// Resets are Go durations relative to the response ("1s", "6m0s", "59.345ms"). Azure sends -1
// for "unknown", which must never read as "exhausted".
#include <cmath>
#include <cstdio>

#include "dialects.hpp"
#include "quotagate/duration.hpp"
#include "quotagate/text.hpp"

namespace qg::dialects {

namespace {

std::optional<double> count(const HeaderMap& h, const char* name, HeaderSnapshot& s) {
  auto v = read_number(h, name, s);
  if (v && *v < 0) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%.6g", *v);  // any double: a cast to an integer could overflow
    s.diagnostics.push_back(std::string(name) + ": " + shown + " means unknown (Azure), ignored");
    return std::nullopt;
  }
  return v;
}

struct KindNames {
  const char* limit;
  const char* remaining;
  const char* reset;
};
constexpr KindNames kRequests{"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"};
constexpr KindNames kTokens{"x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"};

void read_kind(const HeaderMap& h, HeaderSnapshot& s, int64_t now, const KindNames& names, LimitState& out) {
  if (auto v = count(h, names.limit, s)) out.limit = v;
  if (auto v = count(h, names.remaining, s)) out.remaining = v;
  const char* reset_name = names.reset;
  if (auto reset = h.get(reset_name)) {
    std::optional<double> ms = parse_go_duration_ms(*reset);
    if (!ms)
      if (auto secs = parse_number(*reset); secs && *secs >= 0) ms = *secs * 1000;  // bare seconds
    if (ms) out.reset_at = after_seconds(now, std::ceil(*ms) / 1000);
    else diagnose(s, reset_name, *reset, "a Go duration such as \"6m0s\"");
  }
}

}  // namespace

void openai_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now) {
  // Called only when an x-ratelimit-*-{requests,tokens} style header is present (see header_parser).
  s.add_dialect("openai");
  read_kind(h, s, now, kRequests, s.requests);
  read_kind(h, s, now, kTokens, s.tokens);
}

}  // namespace qg::dialects
