// libFuzzer target: Go durations, ISO-8601 / RFC 3339, HTTP-dates and POSIX TZ rules.
#include <cstdint>
#include <string_view>

#include "quotagate/civil_time.hpp"
#include "quotagate/duration.hpp"
#include "quotagate/time_zone.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)qg::parse_go_duration_ms(text);
  (void)qg::parse_date_only(text);
  if (auto t = qg::parse_iso8601(text)) (void)qg::format_iso_utc(*t);
  (void)qg::parse_http_date(text);
  if (auto tz = qg::parse_posix_tz(text)) {
    for (int64_t t : {int64_t{0}, int64_t{1795867200000}, int64_t{-62135596800000}, int64_t{253402300799000}}) {
      (void)qg::local_day_start(*tz, t);
      (void)qg::next_local_day_start(*tz, t);
    }
  }
  return 0;
}
