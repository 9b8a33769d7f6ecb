// Native micro-benchmarks (Google Benchmark): header parsing, status of 11 and 1,000 packages,
// and one route decision. `npm run bench` runs this next to the wasm benchmark.
#include <benchmark/benchmark.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "quotagate/engine.hpp"
#include "quotagate/simulator.hpp"
#include "quotagate/header_parser.hpp"

namespace {

const int64_t kNow = 1795867200000;  // 2026-11-28T12:00:00Z

const qg::HeaderMap& openai_headers() {
  static const qg::HeaderMap h = qg::parse_header_lines(
      "x-ratelimit-limit-requests: 60\nx-ratelimit-limit-tokens: 150000\nx-ratelimit-remaining-requests: 59\n"
      "x-ratelimit-remaining-tokens: 149984\nx-ratelimit-reset-requests: 1s\nx-ratelimit-reset-tokens: 6m0s\n"
      "content-type: application/json\ndate: Sat, 28 Nov 2026 12:00:00 GMT\n");
  return h;
}

std::string catalog_json(int packages) {
  std::string s = "{\"schema_version\":1,\"packages\":{";
  for (int i = 0; i < packages; ++i) {
    if (i) s += ",";
    const std::string id = std::to_string(i);
    switch (i % 3) {
      case 0: s += "\"c" + id + "\":{\"provider_id\":\"p" + id + "\",\"total_credits\":25,\"used_credits\":3,\"expiry_date\":\"2026-12-10\",\"models\":[\"*\"]}"; break;
      case 1: s += "\"w" + id + "\":{\"provider_id\":\"p" + id + "\",\"package_type\":\"rolling_window\",\"window_hours\":5,\"limit_per_window\":45,\"models\":[\"*\"]}"; break;
      default: s += "\"d" + id + "\":{\"provider_id\":\"p" + id + "\",\"package_type\":\"daily\",\"limit_per_day\":1000,\"reset_timezone\":\"America/Los_Angeles\",\"models\":[\"*\"]}";
    }
  }
  return s + "}}";
}

qg::Engine& engine(int packages) {
  static std::map<int, qg::Engine> engines;
  auto it = engines.find(packages);
  if (it != engines.end()) return it->second;
  qg::Engine& e = engines[packages];
  e.load_catalog(catalog_json(packages), "bench");
  for (int i = 0; i < 20000; ++i) {
    qg::UsageEvent ev;
    ev.ts_ms = kNow - 7LL * 86400000 + static_cast<int64_t>(i) * 30000;
    ev.provider_id = "p" + std::to_string(i % packages);
    ev.model = "m";
    ev.cost = 0.01;
    e.record_usage(ev);
  }
  return e;
}

void BM_HeaderParse(benchmark::State& state) {
  int64_t t = kNow;
  for (auto _ : state) benchmark::DoNotOptimize(qg::parse_rate_limit_response(200, openai_headers(), "", ++t));
}
BENCHMARK(BM_HeaderParse);

void BM_Statuses(benchmark::State& state) {
  qg::Engine& e = engine(static_cast<int>(state.range(0)));
  int64_t t = kNow;
  for (auto _ : state) benchmark::DoNotOptimize(e.statuses(++t));
}
BENCHMARK(BM_Statuses)->Arg(11)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_Route(benchmark::State& state) {
  qg::Engine& e = engine(static_cast<int>(state.range(0)));
  int64_t t = kNow;
  for (auto _ : state) benchmark::DoNotOptimize(e.route("auto", ++t, false));
}
BENCHMARK(BM_Route)->Arg(11)->Arg(1000)->Unit(benchmark::kMicrosecond);

// What the gateway calls per successful response: observe (header lines as text, parsed here as
// in the wasm binding) and record_usage.
void BM_ObserveAndRecord(benchmark::State& state) {
  qg::Engine& e = engine(11);
  const std::string lines =
      "x-ratelimit-limit-requests: 100000\nx-ratelimit-remaining-requests: 99999\nx-ratelimit-reset-requests: 1s\n"
      "x-ratelimit-limit-tokens: 10000000\nx-ratelimit-remaining-tokens: 9999000\nx-ratelimit-reset-tokens: 6m0s\n"
      "content-type: application/json\ncontent-length: 214\ndate: Sat, 28 Nov 2026 12:00:00 GMT\nconnection: keep-alive\n";
  int64_t t = kNow;
  for (auto _ : state) {
    ++t;
    benchmark::DoNotOptimize(e.observe("p1", "", "m", 200, qg::parse_header_lines(lines), "", 1.0, t));
    qg::UsageEvent ev;
    ev.ts_ms = t;
    ev.provider_id = "p1";
    ev.model = "m";
    ev.cost = 0.01;
    e.record_usage(ev);
  }
}
BENCHMARK(BM_ObserveAndRecord);

// The explained decision (/api/route, CLI): every candidate ranked with its terms.
void BM_RouteExplained(benchmark::State& state) {
  qg::Engine& e = engine(static_cast<int>(state.range(0)));
  int64_t t = kNow;
  for (auto _ : state) benchmark::DoNotOptimize(e.route("auto", ++t, true));
}
BENCHMARK(BM_RouteExplained)->Arg(11)->Arg(1000)->Unit(benchmark::kMicrosecond);

// A 30-day hindsight run on the template catalog (issue 16: at most 2 s native): the offline
// optimum for auto traffic at 40 requests an hour, costs settled at the credits' expiries.
void BM_HindsightTemplate30d(benchmark::State& state) {
  std::ifstream f(std::string(QG_SOURCE_DIR) + "/docs/examples/metadata/packages/catalog.v1.json");
  std::stringstream text;
  text << f.rdbuf();
  qg::Engine e;
  e.load_catalog(text.str(), "template");
  const std::string doc = e.state_document(kNow).dump();
  const std::string scenario = R"({"horizon_hours":720,"policy":"hindsight","traffic":[{"model":"auto","per_hour":40,"cost_per_request":0.02}]})";
  for (auto _ : state) benchmark::DoNotOptimize(qg::simulate_json(doc, scenario));
}
BENCHMARK(BM_HindsightTemplate30d)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
