// libFuzzer target: a stream of usage events, provider responses and failures, in any order and
// at any instant (extremes included), into an engine with one package of each kind. Checks:
//  - every status stays within bounds (0 <= remaining <= total, used >= 0);
//  - a catalog reload, which rebuilds usage from the engine's merged raw entries, gives the same
//    used for every package as the live aggregates did (merging is order-independent).
// Each op takes 12 bytes: kind, provider, model, status, a 4-byte time offset (signed, in units of
// 0.5 ms: about +-12 days, inside the 40-day raw retention), cost, tokens and count; kind 7 uses an
// extreme instant instead. An op whose status byte has its high bit set carries hostile numbers
// (NaN, infinities, negatives, 1e308 cost; negative or extreme token counts), which must count
// as 0 and never refund a package (issue 12 case 3: the bounds check catches a refund).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "quotagate/civil_time.hpp"
#include "quotagate/engine.hpp"
#include "quotagate/http_headers.hpp"

namespace {

constexpr int64_t kBase = 1795867200000;  // 2026-11-28T12:00:00Z
const char* kCatalog = R"({"schema_version":1,"packages":{
  "credits":{"provider_id":"a","total_credits":50,"used_credits":1,"last_updated":"2026-11-20T00:00:00.250Z","expiry_date":"2026-12-20"},
  "sliding":{"provider_id":"a","package_type":"rolling_window","window_hours":5,"limit_per_window":400,"models":["m0","m1"],
             "model_weights":{"m1":2},"secondary_windows":[{"name":"weekly","window_hours":168,"limit":3000}]},
  "fixed":{"provider_id":"b","package_type":"rolling_window","window_hours":3,"window_mode":"fixed","limit_per_window":200},
  "daily":{"provider_id":"c","package_type":"daily","limit_per_day":1000,"reset_timezone":"America/New_York"},
  "failed":{"provider_id":"c","total_credits":20,"count_failed":true}}})";
const char* kProviders[] = {"a", "b", "c", "d"};
const char* kModels[] = {"m0", "m1", "m2"};
const int kStatuses[] = {200, 200, 200, 429, 500, 0, 404, 201};
const int64_t kExtremes[] = {INT64_MIN, INT64_MAX, INT64_MIN + 999, INT64_MAX - 1, -253402300799999, 253402300799999, 0, -1};
const double kHostileCost[] = {NAN, INFINITY, -INFINITY, -3.0, 1e308, -1e-9, 2e12, 0.5};
const int64_t kHostileTokens[] = {-3, INT64_MIN, INT64_MAX, -1, 1000000000000000LL, 7, 0, 2};

void check_bounds(const qg::Engine& e, int64_t now) {
  for (const auto& s : e.statuses(now)) {
    if (!(s.used >= 0) || !(s.remaining >= 0) || !(s.remaining <= s.total + 1e-9)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qg::Engine e;
  if (!e.load_catalog(kCatalog, "fuzz.json").ok) std::abort();
  int64_t latest = kBase;
  for (size_t at = 0; at + 12 <= size; at += 12) {
    const uint8_t* op = data + at;
    int32_t offset;
    std::memcpy(&offset, op + 4, 4);
    const int kind = op[0] % 8;
    int64_t ts = kBase + offset / 2;
    if (kind == 7) ts = kExtremes[op[1] % 8];
    const std::string provider = kProviders[op[1] % 4];
    if (kind <= 3 || kind == 7) {
      qg::UsageEvent ev;
      ev.ts_ms = ts;
      ev.provider_id = provider;
      ev.model = kModels[op[2] % 3];
      ev.status = kStatuses[op[3] % 8];
      ev.cost = op[8] / 64.0;
      ev.tokens_in = op[9];
      ev.tokens_out = op[10];
      if (op[3] & 0x80) {
        ev.cost = kHostileCost[op[8] % 8];
        ev.tokens_in = kHostileTokens[op[9] % 8];
        ev.tokens_out = kHostileTokens[op[10] % 8];
      }
      ev.count = op[11] % 4 == 0 ? 1 : op[11] / 16.0;
      e.record_usage(ev);
    } else if (kind <= 5) {
      const std::string headers = "retry-after: " + std::to_string(op[8]) + "\nx-ratelimit-remaining-requests: " + std::to_string(op[9]) +
                                  "\nx-ratelimit-limit-requests: " + std::to_string(op[10]);
      e.observe(provider, kStatuses[op[3] % 8], qg::parse_header_lines(headers), "", op[11], ts);
    } else {
      e.record_failure(provider, "ECONNREFUSED", ts);
    }
    // `now` is always a real instant (the bindings clamp JS numbers to year +-9999); only event
    // timestamps, which come from storage, can be anything.
    const int64_t now = std::max(-qg::kMaxInstantMs, std::min(qg::kMaxInstantMs, ts));
    if (now > latest) latest = now;
    check_bounds(e, now);
  }
  const int64_t now = latest + 1;
  check_bounds(e, now);
  std::vector<double> live;
  for (const auto& s : e.statuses(now)) live.push_back(s.used);
  if (!e.load_catalog(kCatalog, "fuzz.json").ok) std::abort();
  const auto rebuilt = e.statuses(now);
  for (size_t i = 0; i < rebuilt.size(); ++i)
    if (std::fabs(rebuilt[i].used - live[i]) > 1e-6 * std::max(1.0, std::fabs(live[i]))) std::abort();
  (void)e.route("auto", now);
  return 0;
}
