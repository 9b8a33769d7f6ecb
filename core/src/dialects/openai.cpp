// OpenAI / Azure OpenAI / Groq: x-ratelimit-{limit,remaining,reset}-{requests,tokens}.
// Resets are Go durations relative to the response ("1s", "6m0s", "59.345ms"). Azure sends -1
// for "unknown", which must never read as "exhausted".
// Period families beside them, each a window of its own length: Cerebras
// x-ratelimit-{limit,remaining,reset}-{requests-day,tokens-minute} (reset in seconds,
// https://inference-docs.cerebras.ai/support/rate-limits), Mistral x-ratelimit-*-tokens-minute and
// -tokens-month, and the same pattern for -hour. A request window comes after the token windows
// of the same length, so a request package takes the request reading.
#include <algorithm>
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
// Fireworks: prompt and generated tokens on their own (https://docs.fireworks.ai/guides/quotas_usage/rate-limits).
constexpr KindNames kPromptTokens{"x-ratelimit-limit-tokens-prompt", "x-ratelimit-remaining-tokens-prompt", "x-ratelimit-reset-tokens-prompt"};
constexpr KindNames kGeneratedTokens{"x-ratelimit-limit-tokens-generated", "x-ratelimit-remaining-tokens-generated", "x-ratelimit-reset-tokens-generated"};

void read_kind(const HeaderMap& h, HeaderSnapshot& s, int64_t now, const KindNames& names, LimitState& out) {
  if (auto v = count(h, names.limit, s)) out.limit = v;
  if (auto v = count(h, names.remaining, s)) out.remaining = v;
  const char* reset_name = names.reset;
  if (auto reset = h.get(reset_name)) {
    if (auto ms = parse_go_duration_ms(*reset)) {
      out.reset_at = after_seconds(now, std::ceil(*ms) / 1000);
    } else if (auto n = parse_number(*reset); n && *n >= 0) {
      // A bare number: delta seconds, or an epoch in seconds or milliseconds (by magnitude).
      out.reset_at = reset_instant(*n, now);
      if (*n >= 1e9 && out.reset_at && *out.reset_at == now) s.diagnostics.push_back(std::string(reset_name) + ": " + printable(*reset) + " is in the past, read as now");
    } else {
      diagnose(s, reset_name, *reset, "a Go duration such as \"6m0s\", seconds or an epoch");
    }
  }
}

struct Period {
  const char* suffix;
  double minutes;
};
constexpr Period kPeriods[] = {{"minute", 1}, {"hour", 60}, {"day", 1440}, {"month", 43200}};

// x-ratelimit-{limit,remaining,reset}-{kind}-{period} -> one window per (kind, period) present.
constexpr const char* kPeriodKinds[] = {"tokens", "requests", "req"};  // "req": Mistral's spelling of requests

// Bit (kind * 4 + period) is set when some header is x-ratelimit-{limit,remaining,reset}-{kind}-{period}:
// one pass over the names instead of 36 lookups of names built for every response.
unsigned present_periods(const HeaderMap& h) {
  unsigned mask = 0;
  constexpr std::string_view kPrefix = "x-ratelimit-";
  for (const auto& [name, value] : h.entries()) {
    std::string_view n = name;
    if (n.size() <= kPrefix.size() || n.substr(0, kPrefix.size()) != kPrefix) continue;
    n.remove_prefix(kPrefix.size());
    bool field = false;
    for (std::string_view f : {std::string_view("limit-"), std::string_view("remaining-"), std::string_view("reset-")})
      if (!field && n.substr(0, f.size()) == f) {
        n.remove_prefix(f.size());
        field = true;
      }
    if (!field) continue;
    for (unsigned k = 0; k < 3; ++k) {
      const std::string_view kind = kPeriodKinds[k];
      if (n.size() <= kind.size() + 1 || n.substr(0, kind.size()) != kind || n[kind.size()] != '-') continue;
      for (unsigned p = 0; p < 4; ++p)
        if (n.substr(kind.size() + 1) == kPeriods[p].suffix) mask |= 1u << (k * 4 + p);
    }
  }
  return mask;
}

void period_windows(const HeaderMap& h, HeaderSnapshot& s, int64_t now) {
  const unsigned mask = present_periods(h);
  if (!mask) return;
  for (unsigned k = 0; k < 3; ++k) {
    const char* kind = kPeriodKinds[k];
    for (unsigned pi = 0; pi < 4; ++pi) {
      if (!(mask & (1u << (k * 4 + pi)))) continue;
      const Period& p = kPeriods[pi];
      const std::string tail = std::string(kind) + "-" + p.suffix;
      const std::string ln = "x-ratelimit-limit-" + tail, rn = "x-ratelimit-remaining-" + tail, sn = "x-ratelimit-reset-" + tail;
      LimitState st;
      read_kind(h, s, now, KindNames{ln.c_str(), rn.c_str(), sn.c_str()}, st);
      if (st.empty()) continue;
      WindowState w;
      w.name = std::string(kind[2] == 'q' && kind[3] == '\0' ? "requests" : kind) + "_per_" + p.suffix;
      w.window_minutes = p.minutes;
      w.limit = st.limit;
      if (st.limit && st.remaining && *st.limit > 0) w.utilization = std::min(1.0, std::max(0.0, 1.0 - *st.remaining / *st.limit));
      if (st.remaining && *st.remaining <= 0) w.status = "rejected";
      w.reset_at = st.reset_at;
      s.windows.push_back(w);
    }
  }
}

}  // namespace

void openai_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now) {
  // Called only when an x-ratelimit-*-{requests,tokens} style header is present (see header_parser).
  s.add_dialect("openai");
  read_kind(h, s, now, kRequests, s.requests);
  read_kind(h, s, now, kTokens, s.tokens);
  read_kind(h, s, now, kPromptTokens, s.input_tokens);
  read_kind(h, s, now, kGeneratedTokens, s.output_tokens);
  period_windows(h, s, now);
}

}  // namespace qg::dialects
