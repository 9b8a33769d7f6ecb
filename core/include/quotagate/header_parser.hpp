// Rate-limit signal extraction from a provider response: every dialect quotagate knows, run
// over one response. Never throws: garbage yields nulls and a diagnostic.
#pragma once
#include <cstdint>
#include <string_view>

#include "quotagate/header_snapshot.hpp"
#include "quotagate/http_headers.hpp"

namespace qg {

HeaderSnapshot parse_rate_limit_response(int status, const HeaderMap& headers, std::string_view body, int64_t now_ms);

}  // namespace qg
