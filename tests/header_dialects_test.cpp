// Header parser: one test per dialect, built from the providers' documented examples, plus the
// failure paths (garbage gives nulls and a diagnostic, never a throw).
#include "quotagate/header_parser.hpp"
#include "quotagate/catalog.hpp"
#include "quotagate/text.hpp"
#include "test_util.hpp"

using namespace qg;

namespace {
const int64_t kNow = T("2026-11-28T12:00:00Z");

HeaderSnapshot parse(const std::string& raw, int64_t now = kNow) {
  const RawResponse r = parse_raw_response(raw);
  return parse_rate_limit_response(r.status, r.headers, r.body, now);
}
}  // namespace

TEST(RawResponse, ReadsStatusHeadersAndBody) {
  const RawResponse r = parse_raw_response("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nX-A: 1\r\nx-a: 2\r\n\r\n{\"e\":1}\n");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.get("retry-after"), "7");
  EXPECT_EQ(r.headers.get("X-A"), "1, 2");  // repeated fields join
  EXPECT_EQ(r.body, "{\"e\":1}\n");
  const RawResponse no_status = parse_raw_response("x-ratelimit-limit-requests: 60\n");
  EXPECT_EQ(no_status.status, 200);
  EXPECT_EQ(no_status.headers.get("X-RateLimit-Limit-Requests"), "60");
}

TEST(OpenAiDialect, ReadsLimitsAndGoDurationResets) {
  const auto s = parse(
      "HTTP/1.1 200 OK\nx-ratelimit-limit-requests: 60\nx-ratelimit-limit-tokens: 150000\n"
      "x-ratelimit-remaining-requests: 59\nx-ratelimit-remaining-tokens: 149984\n"
      "x-ratelimit-reset-requests: 1s\nx-ratelimit-reset-tokens: 6m0s\n");
  EXPECT_EQ(s.dialect, "openai");
  EXPECT_EQ(*s.requests.limit, 60);
  EXPECT_EQ(*s.requests.remaining, 59);
  EXPECT_EQ(iso(*s.requests.reset_at), "2026-11-28T12:00:01.000Z");
  EXPECT_EQ(*s.tokens.limit, 150000);
  EXPECT_EQ(iso(*s.tokens.reset_at), "2026-11-28T12:06:00.000Z");
  EXPECT_FALSE(s.retryable);
  EXPECT_TRUE(s.diagnostics.empty());
}

TEST(OpenAiDialect, GroqCompoundAndFractionalDurations) {
  const auto s = parse("x-ratelimit-reset-requests: 2m59.56s\nx-ratelimit-reset-tokens: 59.345ms\n"
                       "x-ratelimit-limit-requests: 14400\nx-ratelimit-remaining-requests: 14370\n");
  EXPECT_EQ(iso(*s.requests.reset_at), "2026-11-28T12:02:59.560Z");
  EXPECT_EQ(iso(*s.tokens.reset_at), "2026-11-28T12:00:00.060Z");  // rounded up to the next ms
  EXPECT_EQ(*s.requests.remaining, 14370);
}

TEST(OpenAiDialect, AzureMinusOneMeansUnknownNotExhausted) {
  const auto s = parse("x-ratelimit-remaining-requests: -1\nx-ratelimit-remaining-tokens: -1\nx-ratelimit-limit-tokens: 80000\n");
  EXPECT_FALSE(s.requests.remaining.has_value());
  EXPECT_FALSE(s.tokens.remaining.has_value());
  EXPECT_EQ(*s.tokens.limit, 80000);
  EXPECT_FALSE(s.earliest_retry_at().has_value());
  EXPECT_EQ(s.diagnostics.size(), 2u);
}

TEST(OpenAiDialect, GarbageValuesGiveNullsAndDiagnostics) {
  const auto s = parse("x-ratelimit-limit-requests: lots\nx-ratelimit-reset-requests: soon\n");
  EXPECT_FALSE(s.requests.limit.has_value());
  EXPECT_FALSE(s.requests.reset_at.has_value());
  ASSERT_EQ(s.diagnostics.size(), 2u);
  EXPECT_NE(s.diagnostics[0].find("x-ratelimit-limit-requests: unreadable value \"lots\", expected a number"), std::string::npos);
  EXPECT_NE(s.diagnostics[1].find("Go duration"), std::string::npos);
}

TEST(OpenAiDialect, BodyRetryHintAndRequestTooLarge) {
  const auto s = parse(
      "HTTP/1.1 429 Too Many Requests\ncontent-type: application/json\n\n"
      R"({"error":{"message":"Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 29500, Requested 900. Please try again in 644ms. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"tokens","param":null,"code":"rate_limit_exceeded"}})");
  EXPECT_EQ(s.dialect, "openai");
  EXPECT_DOUBLE_EQ(*s.retry_after_s, 0.644);
  EXPECT_TRUE(s.retryable);
  EXPECT_EQ(iso(*s.earliest_retry_at()), "2026-11-28T12:00:00.644Z");

  const auto big = parse("HTTP/1.1 429 Too Many Requests\n\n"
                         R"({"error":{"message":"Request too large for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Requested 45000. The input or output tokens must be reduced in order to run successfully.","type":"tokens","code":"rate_limit_exceeded"}})");
  EXPECT_TRUE(big.request_too_large);
  EXPECT_FALSE(big.retryable);

  const auto minutes = parse("HTTP/1.1 429 Too Many Requests\n\n"
                             R"({"error":{"message":"Rate limit reached for requests. Please try again in 6m0s.","code":"rate_limit_exceeded"}})");
  EXPECT_DOUBLE_EQ(*minutes.retry_after_s, 360);

  const auto billing = parse("HTTP/1.1 429 Too Many Requests\n\n"
                             R"({"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","code":"insufficient_quota"}})");
  EXPECT_FALSE(billing.retryable);
}

TEST(AnthropicDialect, ReadsAllFourKindsWithRfc3339Resets) {
  const auto s = parse(
      "anthropic-ratelimit-requests-limit: 50\nanthropic-ratelimit-requests-remaining: 49\n"
      "anthropic-ratelimit-requests-reset: 2026-11-28T12:00:01Z\n"
      "anthropic-ratelimit-tokens-limit: 40000\nanthropic-ratelimit-tokens-remaining: 39000\n"
      "anthropic-ratelimit-tokens-reset: 2026-11-28T12:00:02.500Z\n"
      "anthropic-ratelimit-input-tokens-limit: 30000\nanthropic-ratelimit-input-tokens-remaining: 29500\n"
      "anthropic-ratelimit-input-tokens-reset: 2026-11-28T12:00:03+00:00\n"
      "anthropic-ratelimit-output-tokens-limit: 8000\nanthropic-ratelimit-output-tokens-remaining: 7500\n"
      "anthropic-ratelimit-output-tokens-reset: 2026-11-28T04:00:04-08:00\n");
  EXPECT_EQ(s.dialect, "anthropic");
  EXPECT_EQ(*s.requests.remaining, 49);
  EXPECT_EQ(iso(*s.tokens.reset_at), "2026-11-28T12:00:02.500Z");
  EXPECT_EQ(*s.input_tokens.limit, 30000);
  EXPECT_EQ(iso(*s.output_tokens.reset_at), "2026-11-28T12:00:04.000Z");
}

TEST(AnthropicDialect, RateLimitErrorBodyWithRetryAfter) {
  const auto s = parse("HTTP/1.1 429 Too Many Requests\nretry-after: 17\nanthropic-ratelimit-requests-remaining: 0\n"
                       "anthropic-ratelimit-requests-reset: 2026-11-28T12:00:17Z\n\n"
                       R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}})");
  EXPECT_EQ(s.error_type, "rate_limit_error");
  EXPECT_DOUBLE_EQ(*s.retry_after_s, 17);
  EXPECT_TRUE(s.retryable);
  EXPECT_EQ(iso(*s.earliest_retry_at()), "2026-11-28T12:00:17.000Z");
}

TEST(AnthropicUnifiedDialect, ReadsFiveHourAndSevenDayWindows) {
  const auto s = parse(
      "anthropic-ratelimit-unified-status: allowed\n"
      "anthropic-ratelimit-unified-5h-status: allowed\nanthropic-ratelimit-unified-5h-reset: 1795910400\n"
      "anthropic-ratelimit-unified-5h-utilization: 0.42\n"
      "anthropic-ratelimit-unified-7d-status: allowed\nanthropic-ratelimit-unified-7d-reset: 1796256000\n"
      "anthropic-ratelimit-unified-7d-utilization: 0.13\n"
      "anthropic-ratelimit-unified-representative-claim: five_hour\n"
      "anthropic-ratelimit-unified-fallback-percentage: 0.5\nanthropic-ratelimit-unified-reset: 1795910400\n");
  EXPECT_EQ(s.dialect, "anthropic-unified");
  ASSERT_EQ(s.windows.size(), 2u);
  EXPECT_EQ(s.windows[0].name, "5h");
  EXPECT_EQ(*s.windows[0].window_minutes, 300);
  EXPECT_DOUBLE_EQ(*s.windows[0].utilization, 0.42);
  EXPECT_EQ(iso(*s.windows[0].reset_at), "2026-11-29T00:00:00.000Z");
  EXPECT_EQ(*s.windows[1].window_minutes, 10080);
  EXPECT_EQ(s.representative_claim, "five_hour");
  EXPECT_TRUE(s.diagnostics.empty());
}

TEST(AnthropicUnifiedDialect, RejectedMarksTheRepresentativeWindow) {
  const auto s = parse("HTTP/1.1 429 Too Many Requests\n"
                       "anthropic-ratelimit-unified-status: rejected\nanthropic-ratelimit-unified-5h-utilization: 1.0\n"
                       "anthropic-ratelimit-unified-5h-reset: 1795910400\n"
                       "anthropic-ratelimit-unified-representative-claim: five_hour\n");
  ASSERT_EQ(s.windows.size(), 1u);
  EXPECT_EQ(s.windows[0].status, "rejected");
  EXPECT_EQ(iso(*s.earliest_retry_at()), "2026-11-29T00:00:00.000Z");
}

TEST(CodexDialect, ReadsPrimaryAndSecondaryWindows) {
  const auto s = parse("x-codex-primary-used-percent: 37.5\nx-codex-primary-window-minutes: 300\n"
                       "x-codex-primary-reset-after-seconds: 3600\n"
                       "x-codex-secondary-used-percent: 12\nx-codex-secondary-window-minutes: 10080\n"
                       "x-codex-secondary-reset-at: 1796256000\n");
  EXPECT_EQ(s.dialect, "codex");
  ASSERT_EQ(s.windows.size(), 2u);
  EXPECT_DOUBLE_EQ(*s.windows[0].utilization, 0.375);
  EXPECT_EQ(iso(*s.windows[0].reset_at), "2026-11-28T13:00:00.000Z");
  EXPECT_EQ(*s.windows[1].window_minutes, 10080);
  EXPECT_EQ(iso(*s.windows[1].reset_at), "2026-12-03T00:00:00.000Z");
}

TEST(CodexDialect, UsageLimitReachedBody) {
  const auto s = parse("HTTP/1.1 429 Too Many Requests\n\n"
                       R"({"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_at":1795910400,"resets_in_seconds":43200}})");
  EXPECT_EQ(s.error_type, "usage_limit_reached");
  EXPECT_DOUBLE_EQ(*s.retry_after_s, 43200);
  EXPECT_TRUE(s.retryable);
  ASSERT_EQ(s.windows.size(), 1u);
  EXPECT_EQ(s.windows[0].status, "rejected");
}

TEST(OpenRouterDialect, EpochMillisecondResets) {
  const auto s = parse("X-RateLimit-Limit: 20\nX-RateLimit-Remaining: 19\nX-RateLimit-Reset: 1795867260000\n");
  EXPECT_EQ(s.dialect, "openrouter");
  EXPECT_EQ(*s.requests.limit, 20);
  EXPECT_EQ(iso(*s.requests.reset_at), "2026-11-28T12:01:00.000Z");
}

TEST(OpenRouterDialect, HeadersInsideA429Body) {
  const auto s = parse("HTTP/1.1 429 Too Many Requests\n\n"
                       R"({"error":{"message":"Rate limit exceeded: free-models-per-day. ","code":429,"metadata":{"headers":{"X-RateLimit-Limit":"50","X-RateLimit-Remaining":"0","X-RateLimit-Reset":"1795910400000"},"provider_name":null}},"user_id":"u"})");
  EXPECT_EQ(s.dialect, "openrouter");
  EXPECT_EQ(*s.requests.remaining, 0);
  EXPECT_EQ(iso(*s.earliest_retry_at()), "2026-11-29T00:00:00.000Z");
  ASSERT_EQ(s.windows.size(), 1u);
  EXPECT_EQ(s.windows[0].name, "per_day");
}

TEST(IetfDialect, CurrentDraftPoliciesAndState) {
  const auto s = parse("RateLimit-Policy: \"burst\";q=100;w=60, \"daily\";q=1000;w=86400\n"
                       "RateLimit: \"daily\";r=250;t=43200\n");
  EXPECT_EQ(s.dialect, "ietf");
  ASSERT_EQ(s.windows.size(), 1u);
  EXPECT_EQ(s.windows[0].name, "daily");
  EXPECT_EQ(*s.windows[0].window_minutes, 1440);
  EXPECT_DOUBLE_EQ(*s.windows[0].utilization, 0.75);
  EXPECT_EQ(iso(*s.windows[0].reset_at), "2026-11-29T00:00:00.000Z");
  EXPECT_EQ(*s.requests.remaining, 250);
  EXPECT_EQ(*s.requests.limit, 1000);
}

TEST(IetfDialect, OlderDictionaryDraftAndLegacyHeaders) {
  const auto d = parse("RateLimit: limit=100, remaining=40, reset=30\nRateLimit-Policy: 100;w=60\n");
  EXPECT_EQ(*d.requests.limit, 100);
  EXPECT_EQ(*d.requests.remaining, 40);
  EXPECT_EQ(iso(*d.requests.reset_at), "2026-11-28T12:00:30.000Z");
  ASSERT_EQ(d.windows.size(), 1u);
  EXPECT_DOUBLE_EQ(*d.windows[0].utilization, 0.6);

  const auto legacy = parse("RateLimit-Limit: 10\nRateLimit-Remaining: 0\nRateLimit-Reset: 5\n");
  EXPECT_EQ(*legacy.requests.remaining, 0);
  EXPECT_EQ(iso(*legacy.earliest_retry_at()), "2026-11-28T12:00:05.000Z");

  const auto bad = parse("RateLimit: \"x\";r=\nRateLimit-Policy: ;;\n");
  EXPECT_EQ(bad.diagnostics.size(), 2u);
}

TEST(RetryAfter, SecondsHttpDateAndMilliseconds) {
  EXPECT_DOUBLE_EQ(*parse("HTTP/1.1 429 X\nRetry-After: 120\n").retry_after_s, 120);
  EXPECT_DOUBLE_EQ(*parse("HTTP/1.1 503 X\nRetry-After: Sat, 28 Nov 2026 12:01:30 GMT\n").retry_after_s, 90);
  EXPECT_DOUBLE_EQ(*parse("HTTP/1.1 503 X\nRetry-After: Sat, 28 Nov 2026 11:00:00 GMT\n").retry_after_s, 0);
  EXPECT_DOUBLE_EQ(*parse("HTTP/1.1 429 X\nretry-after-ms: 1500\nRetry-After: 2\n").retry_after_s, 1.5);
  const auto bad = parse("HTTP/1.1 429 X\nRetry-After: whenever\n");
  EXPECT_FALSE(bad.retry_after_s.has_value());
  EXPECT_EQ(bad.diagnostics.size(), 1u);
}

TEST(GeminiBody, PerDayQuotaWithRetryInfo) {
  const auto s = parse(
      "HTTP/1.1 429 Too Many Requests\n\n"
      R"({"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[
        {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier","quotaDimensions":{"location":"global","model":"gemini-2.5-pro"},"quotaValue":"100"}]},
        {"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Learn more","url":"https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"43s"}]}})");
  EXPECT_EQ(s.dialect, "gemini");
  EXPECT_DOUBLE_EQ(*s.retry_after_s, 43);
  ASSERT_EQ(s.windows.size(), 1u);
  EXPECT_EQ(s.windows[0].name, "per_day");
  EXPECT_EQ(*s.windows[0].window_minutes, 1440);
  EXPECT_EQ(*s.windows[0].limit, 100);
  EXPECT_EQ(s.windows[0].status, "rejected");
  EXPECT_TRUE(s.retryable);
}

TEST(GeminiBody, PerMinuteQuotaIsAShortWindow) {
  const auto s = parse("HTTP/1.1 429 Too Many Requests\n\n"
                       R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier","quotaValue":"5"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"12.5s"}]}})");
  ASSERT_EQ(s.windows.size(), 1u);
  EXPECT_EQ(s.windows[0].name, "per_minute");
  EXPECT_EQ(*s.windows[0].window_minutes, 1);
  EXPECT_DOUBLE_EQ(*s.retry_after_s, 12.5);
}

TEST(HeaderParser, GarbageNeverThrows) {
  const auto s = parse("HTTP/1.1 429 X\n\n{\"error\": [1,2,3]");
  EXPECT_EQ(s.dialect, "none");
  EXPECT_EQ(s.diagnostics.size(), 1u);
  EXPECT_TRUE(s.retryable);
  const auto deep = parse("HTTP/1.1 500 X\n\n" + std::string(5000, '[') + std::string(5000, ']'));
  EXPECT_EQ(deep.dialect, "none");
  const auto binary = parse(std::string("x-ratelimit-limit-requests: \x01\xff\x00zz", 34));
  EXPECT_FALSE(binary.requests.limit.has_value());
}

TEST(HeaderParser, MultipleDialectsInOneResponse) {
  const auto s = parse("x-ratelimit-limit-requests: 60\nx-ratelimit-remaining-requests: 10\n"
                       "RateLimit-Limit: 60\nRateLimit-Remaining: 10\nRateLimit-Reset: 20\n");
  EXPECT_EQ(s.dialect, "openai+ietf");
}

// Found by the header-parser fuzzer: bytes that are not UTF-8 must never make a snapshot
// unserialisable (nlohmann throws on invalid UTF-8 when dumping).
TEST(HeaderParser, NonUtf8BytesNeverBreakTheJson) {
  const auto s = parse(std::string("HTTP/1.1 200 OK\nx-codex-primary-used-percent: 37\xf7.5\n"
                                   "anthropic-ratelimit-unified-representative-claim: five\xff_hour\n"
                                   "anthropic-ratelimit-unified-5h-status: allo\xc3wed\n"));
  const std::string json = qg::dump_json(snapshot_to_json(s));
  EXPECT_NE(json.find("\"representative_claim\":\"five?_hour\""), std::string::npos) << json;
  EXPECT_NE(json.find("37?.5"), std::string::npos) << json;
  Json bad = Json::object();
  bad["x"] = std::string("\xf7\xff");
  EXPECT_EQ(qg::dump_json(bad), "{\"x\":\"\xef\xbf\xbd\xef\xbf\xbd\"}");
}

// Found by the header-parser fuzzer (10-minute run): an absurd epoch or delay overflowed the
// civil-time arithmetic. Out-of-range instants are dropped.
TEST(HeaderParser, AbsurdInstantsAreIgnoredNotOverflowed) {
  const auto s = parse("HTTP/1.1 429 X\nanthropic-ratelimit-unified-5h-utilization: 1\n"
                       "anthropic-ratelimit-unified-5h-reset: -9223372036854775808\n"
                       "anthropic-ratelimit-unified-7d-reset: 1e300\nx-codex-primary-reset-after-seconds: 1e300\n"
                       "x-codex-primary-used-percent: 5\nRateLimit-Reset: 1e18\nRateLimit-Limit: 1\nretry-after: 1e300\n");
  const std::string json = qg::dump_json(snapshot_to_json(s));
  EXPECT_EQ(json.find("-29"), std::string::npos) << json;
  EXPECT_FALSE(s.windows.empty());
  EXPECT_FALSE(s.windows[0].reset_at.has_value());
  // retry-after: 1e300 is a wait like any other: capped at 7 days, and said so.
  EXPECT_EQ(s.earliest_retry_at(), kNow + qg::kDefaultMaxUpstreamWaitMs);
  EXPECT_EQ(qg::format_iso_utc(INT64_MIN), "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(qg::format_iso_utc(INT64_MAX), "9999-12-31T23:59:59.999Z");
}

// Fuzz finding (header_parser, UBSan): a huge negative count was cast to long long for the
// diagnostic. It is now printed as a double, and still means "unknown".
TEST(OpenAiDialect, AHugeNegativeCountIsUnknownAndPrintedSafely) {
  const auto s = parse("x-ratelimit-limit-tokens: 1.0000\nx-ratelimit-remaining-tokens: -18888888888888888888888\n");
  EXPECT_FALSE(s.tokens.remaining.has_value());
  ASSERT_FALSE(s.diagnostics.empty());
  EXPECT_EQ(s.diagnostics.back(), "x-ratelimit-remaining-tokens: -1.88889e+22 means unknown (Azure), ignored");
}

// Issue 12 case 15: `retry-after: 999999999` disabled a provider until 2058. Every upstream wait
// (retry-after, reset instants) is capped at max_upstream_wait (default 7 days) and the snapshot
// names the cap in its diagnostics.
TEST(HeaderParser, UpstreamWaitsAreCappedAndTheCapIsReported) {
  const auto s = parse("HTTP/1.1 429 X\nretry-after: 999999999\n");
  ASSERT_TRUE(s.retry_after_s.has_value());
  EXPECT_EQ(*s.retry_after_s, 604800.0);
  EXPECT_EQ(s.earliest_retry_at(), kNow + 7LL * 86400 * 1000);
  ASSERT_EQ(s.diagnostics.size(), 1u);
  EXPECT_EQ(s.diagnostics[0], "retry-after: 1e+09 s capped at 604800 s (routing.max_upstream_wait_s)");

  const auto w = parse("HTTP/1.1 200 OK\nx-codex-primary-used-percent: 5\nx-codex-primary-window-minutes: 300\n"
                       "x-codex-primary-reset-after-seconds: 90000000\n");
  ASSERT_FALSE(w.windows.empty());
  EXPECT_EQ(w.windows[0].reset_at, kNow + 7LL * 86400 * 1000);
  // A smaller cap (routing.max_upstream_wait_s: 3600) through the parameter.
  HeaderMap h;
  h.add("retry-after", "7200");
  const auto c = qg::parse_rate_limit_response(429, h, "", kNow, 3600 * 1000);
  EXPECT_EQ(*c.retry_after_s, 3600.0);
  // A wait within the cap is left alone, with no diagnostic.
  const auto ok = parse("HTTP/1.1 429 X\nretry-after: 31\n");
  EXPECT_EQ(*ok.retry_after_s, 31.0);
  EXPECT_TRUE(ok.diagnostics.empty());
}

// Issue 12 case 14 / 6: JSON from outside may nest at most kMaxJsonDepth levels; the check is one
// linear pass that ignores brackets inside strings.
TEST(JsonDepth, DeepNestingIsFoundInOnePassAndStringsAreIgnored) {
  EXPECT_FALSE(qg::json_too_deep("{\"a\":[1,2,{\"b\":\"[[[[[[\"}]}"));
  EXPECT_TRUE(qg::json_too_deep(std::string(65, '[') + std::string(65, ']')));
  EXPECT_FALSE(qg::json_too_deep(std::string(64, '[') + std::string(64, ']')));
  EXPECT_FALSE(qg::json_too_deep("\"\\\"[[[[\""));  // an escaped quote keeps the string open
  const std::string deep = "{\"schema_version\":1,\"packages\":{},\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const auto r = qg::parse_catalog(deep, "catalog.v1.json");
  EXPECT_EQ(r.error, "catalog.v1.json: invalid JSON: nested deeper than 64 levels");
}

// Issue 15 case 1: Gemini's 429 body is a JSON array; the array is unwrapped and read.
TEST(ErrorBodies, AGeminiArrayBodyIsReadWhole) {
  const auto s = parse("HTTP/1.1 429 Too Many Requests\ncontent-type: application/json\n\n"
                       R"([{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED","details":[)"
                       R"({"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_requests_per_model","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier","quotaValue":"10"}]},)"
                       R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"31s"}]}}])");
  EXPECT_EQ(s.dialect, "gemini");
  ASSERT_TRUE(s.retry_after_s.has_value());
  EXPECT_EQ(*s.retry_after_s, 31.0);
  ASSERT_EQ(s.windows.size(), 1u);
  EXPECT_EQ(s.windows[0].name, "per_minute");
  EXPECT_EQ(s.windows[0].status, "rejected");
  EXPECT_EQ(qg::format_iso_utc(*s.windows[0].reset_at), "2026-11-28T12:00:31.000Z");
  // `error` as a plain string, and a body that is not understood says so.
  const auto str = parse("HTTP/1.1 429 X\n\n{\"error\":\"Rate limit exceeded, please try again in 20 seconds\"}");
  EXPECT_EQ(*str.retry_after_s, 20.0);
  const auto odd = parse("HTTP/1.1 429 X\n\n{\"detail\":\"slow down\"}");
  ASSERT_FALSE(odd.diagnostics.empty());
  EXPECT_NE(odd.diagnostics.back().find("no error this gateway reads"), std::string::npos);
}

// Issue 15 case 2: a 429 from OpenRouter's provider (metadata.raw, provider_name), not our quota.
TEST(ErrorBodies, AnUpstreamProvidersRefusalIsMarkedNotOurs) {
  const auto s = parse("HTTP/1.1 429 X\n\n"
                       R"({"error":{"message":"Provider returned error","code":429,"metadata":{"raw":"google/gemini-2.0-flash-exp:free is temporarily rate-limited upstream. Please retry shortly.","provider_name":"Google AI Studio"}}})");
  EXPECT_EQ(s.error_type, "upstream_rate_limited");
  EXPECT_EQ(s.dialect, "openrouter");
  ASSERT_FALSE(s.diagnostics.empty());
  EXPECT_NE(s.diagnostics[0].find("Google AI Studio"), std::string::npos);
}

// Issue 15 case 6: x-ratelimit-reset as delta seconds, epoch seconds or epoch milliseconds.
TEST(OpenRouterDialect, AResetValueIsReadByItsMagnitude) {
  const int64_t now = kNow;
  EXPECT_EQ(parse("x-ratelimit-limit: 10\nx-ratelimit-remaining: 0\nx-ratelimit-reset: 2\n").requests.reset_at, now + 2000);
  EXPECT_EQ(parse("x-ratelimit-limit: 10\nx-ratelimit-reset: 1795867260\n").requests.reset_at, T("2026-11-28T12:01:00Z"));
  EXPECT_EQ(parse("x-ratelimit-limit: 10\nx-ratelimit-reset: 1795867260000\n").requests.reset_at, T("2026-11-28T12:01:00Z"));
  EXPECT_EQ(parse("x-ratelimit-limit: 10\nx-ratelimit-reset: 1700000000\n").requests.reset_at, now) << "an epoch in the past is now";
  const auto bad = parse("x-ratelimit-limit: 10\nx-ratelimit-reset: -5\n");
  EXPECT_FALSE(bad.requests.reset_at.has_value());
  EXPECT_FALSE(bad.diagnostics.empty());
}

// Issue 15 case 7: waits written in words, whole.
TEST(ErrorBodies, WaitsInWordsAreReadWhole) {
  const auto wait = [](const std::string& message) {
    return parse("HTTP/1.1 429 X\n\n{\"error\":{\"message\":\"" + message + "\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}").retry_after_s;
  };
  EXPECT_EQ(*wait("Please try again in 3 days 4 hours."), 3 * 86400 + 4 * 3600);
  EXPECT_EQ(*wait("Please try again in 20 minutes."), 1200);
  EXPECT_EQ(*wait("Please try again in 1m30s."), 90);
  EXPECT_EQ(*wait("Please try again in 644ms."), 0.644);
  EXPECT_EQ(*wait("Please try again in 2 hours, 3 minutes and 4 seconds."), 7384);
  EXPECT_EQ(*wait("Please try again in 1.5 s."), 1.5);
  EXPECT_EQ(*wait("Please try again in 7."), 7);
  EXPECT_FALSE(wait("Please try again later.").has_value());
}

// Issue 15, more dialects: Cerebras and Mistral period families, each a window of its own length.
TEST(OpenAiDialect, PeriodFamiliesAreWindowsOfTheirOwnLength) {
  const auto s = parse("x-ratelimit-limit-requests-day: 14400\nx-ratelimit-remaining-requests-day: 14000\nx-ratelimit-reset-requests-day: 33011.38\n"
                       "x-ratelimit-limit-tokens-minute: 60000\nx-ratelimit-remaining-tokens-minute: 0\nx-ratelimit-reset-tokens-minute: 11.38\n"
                       "x-ratelimit-limit-tokens-month: 1000000000\nx-ratelimit-remaining-tokens-month: 999000000\n");
  ASSERT_EQ(s.windows.size(), 3u);
  EXPECT_EQ(s.windows[0].name, "tokens_per_minute");
  EXPECT_EQ(s.windows[0].status, "rejected");
  EXPECT_EQ(s.windows[1].name, "tokens_per_month");
  EXPECT_EQ(*s.windows[1].window_minutes, 43200);
  EXPECT_EQ(s.windows[2].name, "requests_per_day");
  EXPECT_EQ(*s.windows[2].window_minutes, 1440);
  EXPECT_NEAR(*s.windows[2].utilization, 400.0 / 14400, 1e-9);
  EXPECT_EQ(*s.windows[2].reset_at, kNow + 33012 * 1000 - 620);
}

// Issue 15, token limits under names of their own: Together AI's x-tokenlimit-*.
TEST(OpenRouterDialect, TogetherTokenLimitsAreRead) {
  const auto s = parse("x-ratelimit-limit: 10\nx-ratelimit-remaining: 9\nx-ratelimit-reset: 1\nx-tokenlimit-limit: 200000\nx-tokenlimit-remaining: 199850\n");
  EXPECT_EQ(*s.tokens.limit, 200000);
  EXPECT_EQ(*s.tokens.remaining, 199850);
  EXPECT_EQ(*s.requests.reset_at, kNow + 1000);
}

// Found by a probe of the issue-15 fixes: more of the same kinds.
TEST(ErrorBodies, RelayedQuotasCapacityAndWaitsAreReadAsWhatTheyAre) {
  // OpenRouter relaying Gemini's per-day QuotaFailure: the provider's quota, not ours; its wait is kept.
  const auto relayed = parse("HTTP/1.1 429 X\n\n"
      R"({"error":{"message":"Provider returned error","code":429,"metadata":{"provider_name":"Google AI Studio","raw":"{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\",\"violations\":[{\"quotaId\":\"GenerateRequestsPerDayPerProjectPerModel-FreeTier\"}]},{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"31s\"}]}}"}}})");
  EXPECT_EQ(relayed.error_type, "upstream_rate_limited");
  EXPECT_TRUE(relayed.windows.empty());
  EXPECT_EQ(*relayed.retry_after_s, 31.0);
  // OpenRouter's own per-day limit (provider_name null) is ours, not a relayed refusal.
  const auto own = parse("HTTP/1.1 429 X\n\n{\"error\":{\"message\":\"Rate limit exceeded: free-models-per-day\",\"code\":429,\"metadata\":{\"provider_name\":null}}}");
  EXPECT_NE(own.error_type, "upstream_rate_limited");
  // Mistral capacity, Vertex shared capacity, Cerebras' top-level body.
  EXPECT_EQ(parse("HTTP/1.1 429 X\n\n{\"object\":\"error\",\"message\":\"Service tier capacity exceeded for this model.\",\"type\":\"service_tier_capacity_exceeded\",\"param\":null,\"code\":\"3505\"}").error_type,
            "upstream_rate_limited");
  EXPECT_EQ(parse("HTTP/1.1 429 X\n\n[{\"error\":{\"code\":429,\"message\":\"Resource exhausted. Please try again later.\",\"status\":\"RESOURCE_EXHAUSTED\"}}]").error_type,
            "upstream_rate_limited");
  const auto cerebras = parse("HTTP/1.1 429 X\n\n{\"message\":\"Requests per minute limit exceeded\",\"type\":\"too_many_requests_error\",\"param\":\"quota\",\"code\":\"request_quota_exceeded\"}");
  EXPECT_EQ(cerebras.error_type, "request_quota_exceeded");
  EXPECT_TRUE(cerebras.diagnostics.empty());
  // Waits: spaced compounds, grouped digits, other phrases, Gemini and Anthropic messages.
  const auto wait = [](const std::string& m) {
    return parse("HTTP/1.1 429 X\n\n{\"error\":{\"message\":\"" + m + "\",\"code\":\"rate_limit_exceeded\"}}").retry_after_s.value_or(-1);
  };
  EXPECT_EQ(wait("Please try again in 1h 30m."), 5400);
  EXPECT_EQ(wait("Please try again in 1m 30s."), 90);
  EXPECT_EQ(wait("Please try again in 1h 30m 10s."), 5410);
  EXPECT_EQ(wait("Please try again in 1,500ms."), 1.5);
  EXPECT_EQ(wait("Please wait 60 seconds before retrying."), 60);
  EXPECT_EQ(wait("Your quota resets in 2 hours."), 7200);
  EXPECT_EQ(*parse("HTTP/1.1 429 X\n\n{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\",\"message\":\"Quota exceeded. Please retry in 31.5s.\",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\",\"violations\":[{\"quotaId\":\"GenerateRequestsPerMinutePerProject\"}]}]}}").retry_after_s, 31.5);
  EXPECT_EQ(*parse("HTTP/1.1 429 X\n\n{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"Please try again in 20s.\"}}").retry_after_s, 20);
}

TEST(OpenAiDialect, ResetsAreReadByMagnitudeAndMoreFamiliesAreRead) {
  EXPECT_EQ(parse("x-ratelimit-limit-requests: 10\nx-ratelimit-reset-requests: 1795867260\n").requests.reset_at, T("2026-11-28T12:01:00Z"));
  EXPECT_EQ(parse("x-ratelimit-limit-requests: 10\nx-ratelimit-reset-requests: 1795867260000\n").requests.reset_at, T("2026-11-28T12:01:00Z"));
  const auto past = parse("x-ratelimit-limit: 10\nx-ratelimit-reset: 1764331200\n");
  EXPECT_EQ(past.requests.reset_at, kNow);
  ASSERT_FALSE(past.diagnostics.empty());
  EXPECT_NE(past.diagnostics[0].find("is in the past, read as now"), std::string::npos);
  const auto mistral = parse("x-ratelimit-limit-req-minute: 720\nx-ratelimit-remaining-req-minute: 717\n");
  ASSERT_EQ(mistral.windows.size(), 1u);
  EXPECT_EQ(mistral.windows[0].name, "requests_per_minute");
  const auto fireworks = parse("x-ratelimit-limit-tokens-prompt: 60000\nx-ratelimit-remaining-tokens-prompt: 59000\nx-ratelimit-limit-tokens-generated: 6000\nx-ratelimit-remaining-tokens-generated: 0\n");
  EXPECT_EQ(*fireworks.input_tokens.remaining, 59000);
  EXPECT_EQ(*fireworks.output_tokens.remaining, 0);
}

// Fuzz finding (header_parser, ASan, CI's first 30 s after the relayed-provider reader): a
// metadata object with provider_name and no raw was read with const operator[] (undefined
// behaviour for a missing key). Its input is in tests/fuzz-regressions/.
TEST(ErrorBodies, ARelayedRefusalWithoutRawIsRead) {
  const auto s = parse("HTTP/1.1 429 X\n\n{\"error\":{\"message\":\"Provider returned error\",\"code\":429,\"metadata\":{\"provider_name\":\"P\"}}}");
  EXPECT_EQ(s.error_type, "upstream_rate_limited");
  EXPECT_FALSE(s.retry_after_s.has_value());
}
