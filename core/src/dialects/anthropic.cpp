// Anthropic API tiers: anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
// {limit,remaining,reset}, resets as RFC 3339 timestamps.
#include "dialects.hpp"
#include "quotagate/civil_time.hpp"

namespace qg::dialects {

namespace {

void read_kind(const HeaderMap& h, HeaderSnapshot& s, const char* kind, LimitState& out, bool& seen) {
  const std::string base = std::string("anthropic-ratelimit-") + kind + "-";
  if (h.get(base + "limit") || h.get(base + "remaining") || h.get(base + "reset")) seen = true;
  if (auto v = read_number(h, (base + "limit").c_str(), s)) out.limit = v;
  if (auto v = read_number(h, (base + "remaining").c_str(), s)) out.remaining = v;
  if (auto reset = h.get(base + "reset")) {
    if (auto t = parse_iso8601(*reset)) out.reset_at = *t;
    else diagnose(s, base + "reset", *reset, "an RFC 3339 timestamp");
  }
}

}  // namespace

void anthropic_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t) {
  bool seen = false;
  read_kind(h, s, "requests", s.requests, seen);
  read_kind(h, s, "tokens", s.tokens, seen);
  read_kind(h, s, "input-tokens", s.input_tokens, seen);
  read_kind(h, s, "output-tokens", s.output_tokens, seen);
  if (seen) s.add_dialect("anthropic");
}

}  // namespace qg::dialects
