// Retry-After (RFC 9110: delay-seconds or HTTP-date) and retry-after-ms (OpenAI/Azure, more
// precise, so it wins when both are present).
#include "dialects.hpp"
#include "quotagate/civil_time.hpp"
#include "quotagate/text.hpp"

namespace qg::dialects {

void retry_after_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now) {
  if (auto ms = h.get("retry-after-ms")) {
    if (auto v = parse_number(*ms); v && *v >= 0) {
      s.retry_after_s = *v / 1000.0;
      return;
    }
    diagnose(s, "retry-after-ms", *ms, "milliseconds");
  }
  if (auto ra = h.get("retry-after")) {
    if (auto v = parse_number(*ra); v && *v >= 0) {
      s.retry_after_s = *v;
    } else if (auto t = parse_http_date(*ra)) {
      s.retry_after_s = *t > now ? static_cast<double>(*t - now) / 1000.0 : 0.0;
    } else {
      diagnose(s, "retry-after", *ra, "seconds or an HTTP-date");
    }
  }
}

}  // namespace qg::dialects
