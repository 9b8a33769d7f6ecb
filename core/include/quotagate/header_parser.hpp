// Rate-limit signal extraction from a provider response: every dialect quotagate knows, run
// over one response. Never throws: garbage yields nulls and a diagnostic.
#pragma once
#include <cstdint>
#include <string_view>

#include "quotagate/header_snapshot.hpp"
#include "quotagate/http_headers.hpp"

namespace qg {

// The longest wait any upstream signal may impose (retry-after, a reset instant): 7 days, the
// longest real window. Longer values are capped and named in the snapshot's diagnostics, so a
// `retry-after: 999999999` cannot disable a provider for decades.
constexpr int64_t kDefaultMaxUpstreamWaitMs = 7LL * 24 * 3600 * 1000;

// max_wait_ms: see kDefaultMaxUpstreamWaitMs (EngineConfig::max_upstream_wait_ms in the engine).
HeaderSnapshot parse_rate_limit_response(int status, const HeaderMap& headers, std::string_view body, int64_t now_ms,
                                         int64_t max_wait_ms = kDefaultMaxUpstreamWaitMs);

// Caps every wait in `s` (retry_after_s, reset instants) at now_ms + max_wait_ms; one diagnostic
// per capped value.
void cap_upstream_waits(HeaderSnapshot& s, int64_t now_ms, int64_t max_wait_ms);

}  // namespace qg
