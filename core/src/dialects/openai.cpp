// OpenAI / Azure OpenAI / Groq: x-ratelimit-{limit,remaining,reset}-{requests,tokens}.
// Resets are Go durations relative to the response ("1s", "6m0s", "59.345ms"). Azure sends -1
// for "unknown", which must never read as "exhausted".
#include <cmath>

#include "dialects.hpp"
#include "quotagate/duration.hpp"
#include "quotagate/text.hpp"

namespace qg::dialects {

namespace {

std::optional<double> count(const HeaderMap& h, const std::string& name, HeaderSnapshot& s) {
  auto v = read_number(h, name.c_str(), s);
  if (v && *v < 0) {
    s.diagnostics.push_back(name + ": " + std::to_string(static_cast<long long>(*v)) + " means unknown (Azure), ignored");
    return std::nullopt;
  }
  return v;
}

void read_kind(const HeaderMap& h, HeaderSnapshot& s, int64_t now, const char* kind, LimitState& out) {
  const std::string suffix = kind;
  if (auto v = count(h, "x-ratelimit-limit-" + suffix, s)) out.limit = v;
  if (auto v = count(h, "x-ratelimit-remaining-" + suffix, s)) out.remaining = v;
  const std::string reset_name = "x-ratelimit-reset-" + suffix;
  if (auto reset = h.get(reset_name)) {
    std::optional<double> ms = parse_go_duration_ms(*reset);
    if (!ms)
      if (auto secs = parse_number(*reset); secs && *secs >= 0) ms = *secs * 1000;  // bare seconds
    if (ms) out.reset_at = now + static_cast<int64_t>(std::ceil(*ms));
    else diagnose(s, reset_name, *reset, "a Go duration such as \"6m0s\"");
  }
}

}  // namespace

void openai_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now) {
  bool seen = false;
  for (const auto& [k, v] : h.entries())
    if (istarts_with(k, "x-ratelimit-") &&
        (k.size() > 9 && (k.find("-requests") != std::string::npos || k.find("-tokens") != std::string::npos)))
      seen = true;
  if (!seen) return;
  s.add_dialect("openai");
  read_kind(h, s, now, "requests", s.requests);
  read_kind(h, s, now, "tokens", s.tokens);
}

}  // namespace qg::dialects
