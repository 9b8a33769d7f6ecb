// libFuzzer target: a raw HTTP response (status line, headers, body) through every dialect.
// Invariants checked on every input: the snapshot serialises, and no wait it imposes (retry-after,
// any reset instant) lies beyond the cap (kDefaultMaxUpstreamWaitMs, issue 12 case 15).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "quotagate/header_parser.hpp"
#include "quotagate/header_snapshot.hpp"
#include "quotagate/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const int64_t now = 1795867200000;
  const qg::RawResponse r = qg::parse_raw_response(text);
  const qg::HeaderSnapshot s = qg::parse_rate_limit_response(r.status, r.headers, r.body, now);
  (void)qg::dump_json(qg::snapshot_to_json(s));
  const int64_t latest = now + qg::kDefaultMaxUpstreamWaitMs;
  if (auto at = s.earliest_retry_at(); at && *at > latest) std::abort();
  if (s.retry_after_s && !(*s.retry_after_s <= qg::kDefaultMaxUpstreamWaitMs / 1000.0)) std::abort();
  for (const auto& w : s.windows)
    if (w.reset_at && *w.reset_at > latest) std::abort();
  for (const qg::LimitState* l : {&s.requests, &s.tokens, &s.input_tokens, &s.output_tokens})
    if (l->reset_at && *l->reset_at > latest) std::abort();
  (void)qg::json_too_deep(text);
  return 0;
}
