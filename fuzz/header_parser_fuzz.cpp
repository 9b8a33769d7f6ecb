// libFuzzer target: a raw HTTP response (status line, headers, body) through every dialect.
#include <cstdint>
#include <string>

#include "quotagate/header_parser.hpp"
#include "quotagate/header_snapshot.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const qg::RawResponse r = qg::parse_raw_response(text);
  const qg::HeaderSnapshot s = qg::parse_rate_limit_response(r.status, r.headers, r.body, 1795867200000);
  (void)qg::dump_json(qg::snapshot_to_json(s));
  (void)s.earliest_retry_at();
  return 0;
}
