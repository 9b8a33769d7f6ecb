// Runs every dialect over one response and decides retryability.
#include "quotagate/header_parser.hpp"

#include <cstdio>

#include "dialects/dialects.hpp"
#include "quotagate/text.hpp"

namespace qg {

void cap_upstream_waits(HeaderSnapshot& s, int64_t now, int64_t max_wait_ms) {
  const double cap_s = static_cast<double>(max_wait_ms) / 1000.0;
  char buf[200];
  if (s.retry_after_s && !(*s.retry_after_s <= cap_s)) {
    std::snprintf(buf, sizeof buf, "retry-after: %.6g s capped at %.6g s (routing.max_upstream_wait_s)", *s.retry_after_s, cap_s);
    s.diagnostics.push_back(buf);
    s.retry_after_s = cap_s;
  }
  const int64_t latest = now + max_wait_ms;
  auto cap = [&](std::optional<int64_t>& reset_at, const std::string& what) {
    if (!reset_at || *reset_at <= latest) return;
    std::snprintf(buf, sizeof buf, "%s: reset %.6g s away capped at %.6g s (routing.max_upstream_wait_s)", what.c_str(),
                  static_cast<double>(*reset_at - now) / 1000.0, cap_s);
    s.diagnostics.push_back(buf);
    reset_at = latest;
  };
  cap(s.requests.reset_at, "requests");
  cap(s.tokens.reset_at, "tokens");
  cap(s.input_tokens.reset_at, "input_tokens");
  cap(s.output_tokens.reset_at, "output_tokens");
  for (auto& w : s.windows) cap(w.reset_at, "window " + w.name.substr(0, 60));
}

HeaderSnapshot parse_rate_limit_response(int status, const HeaderMap& headers, std::string_view body, int64_t now,
                                         int64_t max_wait_ms) {
  HeaderSnapshot s;
  s.status = status;
  s.observed_at = now;
  try {
    // One pass to see which dialects are present, so a response pays only for its own dialects.
    bool retry = false, openai = false, openrouter = false, anthropic = false, unified = false, codex = false, ietf = false;
    for (const auto& entry : headers.entries()) {
      const std::string& k = entry.first;  // already lower-case
      if (k.compare(0, 12, "x-ratelimit-") == 0) {
        if (k == "x-ratelimit-limit" || k == "x-ratelimit-remaining" || k == "x-ratelimit-reset") openrouter = true;
        else if (k.find("-requests") != std::string::npos || k.find("-tokens") != std::string::npos || k.find("-req-") != std::string::npos) openai = true;
      } else if (k.compare(0, 13, "x-tokenlimit-") == 0) {
        openrouter = true;  // Together AI's token limit, beside the x-ratelimit-limit family
      } else if (k.compare(0, 28, "anthropic-ratelimit-unified-") == 0) {
        unified = true;
      } else if (k.compare(0, 20, "anthropic-ratelimit-") == 0) {
        anthropic = true;
      } else if (k.compare(0, 8, "x-codex-") == 0) {
        codex = true;
      } else if (k.compare(0, 9, "ratelimit") == 0) {
        ietf = true;
      } else if (k.compare(0, 11, "retry-after") == 0) {
        retry = true;
      }
    }
    if (retry) dialects::retry_after_headers(headers, s, now);
    if (openai) dialects::openai_headers(headers, s, now);
    if (anthropic) dialects::anthropic_headers(headers, s, now);
    if (unified) dialects::anthropic_unified_headers(headers, s, now);
    if (codex) dialects::codex_headers(headers, s, now);
    if (openrouter) dialects::openrouter_headers(headers, s, now);
    if (ietf) dialects::ietf_headers(headers, s, now);
    const std::string_view trimmed = trim(body);
    if (!trimmed.empty() && (status >= 400 || trimmed.front() == '{') && trimmed.size() <= (1u << 20) && json_too_deep(trimmed)) {
      s.diagnostics.push_back("body: JSON nested too deep, ignored");
    } else if (!trimmed.empty() && (status >= 400 || trimmed.front() == '{') && trimmed.size() <= (1u << 20)) {
      const Json parsed = Json::parse(trimmed.begin(), trimmed.end(), nullptr, false);
      if (parsed.is_discarded()) {
        if (status >= 400) s.diagnostics.push_back("body: not JSON, ignored");
      } else if (!dialects::error_body(parsed, s, now) && status >= 400) {
        s.diagnostics.push_back("body: JSON with no error this gateway reads (expected {\"error\": ...} or an array of them)");
      }
    }
  } catch (const std::exception& e) {
    s.diagnostics.push_back(std::string("parser: ") + e.what());
  }
  cap_upstream_waits(s, now, max_wait_ms);
  const bool transient = status == 429 || status == 408 || status == 529 || (status >= 500 && status <= 599) || status == 0;
  const bool billing_stop = s.error_type == "insufficient_quota";
  s.retryable = transient && !s.request_too_large && !billing_stop;
  return s;
}

}  // namespace qg
