// Runs every dialect over one response and decides retryability.
#include "quotagate/header_parser.hpp"

#include "dialects/dialects.hpp"
#include "quotagate/text.hpp"

namespace qg {

HeaderSnapshot parse_rate_limit_response(int status, const HeaderMap& headers, std::string_view body, int64_t now) {
  HeaderSnapshot s;
  s.status = status;
  s.observed_at = now;
  try {
    dialects::retry_after_headers(headers, s, now);
    dialects::openai_headers(headers, s, now);
    dialects::anthropic_headers(headers, s, now);
    dialects::anthropic_unified_headers(headers, s, now);
    dialects::codex_headers(headers, s, now);
    dialects::openrouter_headers(headers, s, now);
    dialects::ietf_headers(headers, s, now);
    const std::string_view trimmed = trim(body);
    if (!trimmed.empty() && (status >= 400 || trimmed.front() == '{') && trimmed.size() <= (1u << 20)) {
      const Json parsed = Json::parse(trimmed.begin(), trimmed.end(), nullptr, false);
      if (parsed.is_discarded()) {
        if (status >= 400) s.diagnostics.push_back("body: not JSON, ignored");
      } else {
        dialects::error_body(parsed, s, now);
      }
    }
  } catch (const std::exception& e) {
    s.diagnostics.push_back(std::string("parser: ") + e.what());
  }
  const bool transient = status == 429 || status == 408 || status == 529 || (status >= 500 && status <= 599) || status == 0;
  const bool billing_stop = s.error_type == "insufficient_quota";
  s.retryable = transient && !s.request_too_large && !billing_stop;
  return s;
}

}  // namespace qg
