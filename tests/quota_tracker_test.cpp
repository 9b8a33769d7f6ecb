// Quota tracker: every alert path, burn rate, windows (sliding, fixed, daily in a zone),
// secondary windows, header observations and learned limits.
#include "engine_fixture.hpp"
#include "quotagate/quota_tracker.hpp"

using namespace qg;

namespace {
const char* kCredits = R"({"k":{"provider_id":"kilo","total_credits":25,"used_credits":0,"expiry_date":"2026-12-08",
  "last_updated":"2026-11-20T00:00:00Z"}})";
}

// ---- credits ---------------------------------------------------------------------------------

TEST(CreditsAlerts, Exhausted) {
  Engine e = EngineWith(R"({"k":{"provider_id":"kilo","total_credits":5,"used_credits":5}})");
  EXPECT_EQ(StatusOf(e, "k", T("2026-11-28T00:00:00Z")).alert, "exhausted");
}

TEST(CreditsAlerts, ExpiredAfterTheExpiryDay) {
  Engine e = EngineWith(kCredits);
  EXPECT_NE(StatusOf(e, "k", T("2026-12-08T23:59:59Z")).alert, "expired");
  EXPECT_EQ(StatusOf(e, "k", T("2026-12-09T00:00:00Z")).alert, "expired");
}

TEST(CreditsAlerts, UseOrLoseFiresForNeverUsedCreditsAboutToExpire) {
  Engine e = EngineWith(kCredits);
  const auto s = StatusOf(e, "k", T("2026-11-28T00:00:00Z"));  // 11 days left, zero burn
  EXPECT_EQ(s.alert, "use_or_lose");
  EXPECT_DOUBLE_EQ(s.expiring_capacity, 25);
  EXPECT_EQ(s.burn_per_day, 0);
  EXPECT_FALSE(s.projected_days_left.has_value());
  // 20 days before expiry it is not yet urgent.
  EXPECT_EQ(StatusOf(e, "k", T("2026-11-18T00:00:00Z")).alert, "ok");
}

TEST(CreditsAlerts, UseOrLoseNotWhenPaceUsesItAll) {
  Engine e = EngineWith(kCredits);
  for (int d = 21; d <= 27; ++d) {
    const std::string ts = "2026-11-" + std::to_string(d) + "T12:00:00Z";
    e.record_usage(Ev(ts.c_str(), "kilo", "m", 3.0));  // 3/day, 21 spent, 4 left, 10 days to go
  }
  const auto s = StatusOf(e, "k", T("2026-11-28T12:00:00Z"));
  EXPECT_DOUBLE_EQ(s.used, 21);
  EXPECT_NEAR(s.burn_per_day, 3.0 * 2.1124356 / (2.1124356 + 0.5), 1e-6);  // today is half over with nothing spent
  EXPECT_EQ(s.alert, "topup");  // runway 1.65 days < 2
  EXPECT_EQ(s.expiring_capacity, 0);
  ASSERT_TRUE(s.exhausts_at.has_value());
  EXPECT_EQ(iso(*s.exhausts_at).substr(0, 13), "2026-11-30T03");
}

TEST(CreditsAlerts, TopupWatchAndOk) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":100,"used_credits":0},
                            "b":{"provider_id":"b","total_credits":100,"used_credits":0},
                            "c":{"provider_id":"c","total_credits":100,"used_credits":0}})");
  for (int d = 22; d <= 27; ++d) {
    const std::string ts = "2026-11-" + std::to_string(d) + "T12:00:00Z";
    e.record_usage(Ev(ts.c_str(), "a", "m", 16.0));  // 96 used, runway ~0.25 days
    e.record_usage(Ev(ts.c_str(), "b", "m", 8.0));   // 48 used, runway ~6.6 days
    e.record_usage(Ev(ts.c_str(), "c", "m", 1.0));   // 6 used, runway ~96 days
  }
  const int64_t now = T("2026-11-28T00:00:00Z");
  EXPECT_EQ(StatusOf(e, "a", now).alert, "topup");
  EXPECT_EQ(StatusOf(e, "b", now).alert, "watch");
  EXPECT_EQ(StatusOf(e, "c", now).alert, "ok");
  EXPECT_NEAR(*StatusOf(e, "b", now).projected_days_left, 52 / StatusOf(e, "b", now).burn_per_day, 1e-9);
}

TEST(CreditsUsage, LocalCostCountsOnlyAfterTheCatalogSnapshot) {
  Engine e = EngineWith(R"({"d":{"provider_id":"deepseek","total_credits":10,"used_credits":5,
    "last_updated":"2026-11-27T00:00:00Z"}})");
  e.record_usage(Ev("2026-11-26T12:00:00Z", "deepseek", "deepseek-chat", 1.0));  // already in used_credits
  e.record_usage(Ev("2026-11-27T12:00:00Z", "deepseek", "deepseek-chat", 0.5));
  const auto s = StatusOf(e, "d", T("2026-11-28T00:00:00Z"));
  EXPECT_DOUBLE_EQ(s.used, 5.5);
  EXPECT_DOUBLE_EQ(s.remaining, 4.5);
  EXPECT_DOUBLE_EQ(s.remaining_ratio, 0.45);
  EXPECT_FALSE(s.days_until_expiry.has_value());
}

TEST(CreditsUsage, FailedRequestsDoNotCountUnlessConfigured) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":10},
                            "b":{"provider_id":"b","total_credits":10,"count_failed":true}})");
  e.record_usage(Ev("2026-11-27T12:00:00Z", "a", "m", 1.0, 500));
  e.record_usage(Ev("2026-11-27T12:00:00Z", "a", "m", 1.0, 429));
  e.record_usage(Ev("2026-11-27T12:00:00Z", "b", "m", 1.0, 500));
  e.record_usage(Ev("2026-11-27T12:00:00Z", "b", "m", 1.0, 200));
  const int64_t now = T("2026-11-28T00:00:00Z");
  EXPECT_EQ(StatusOf(e, "a", now).used, 0);
  EXPECT_EQ(StatusOf(e, "b", now).used, 2);
}

// ---- burn rate --------------------------------------------------------------------------------

TEST(BurnRate, OneDayOfHistoryIsNotDividedBySeven) {
  Engine e = EngineWith(R"({"c":{"provider_id":"c","total_credits":100}})");
  e.record_usage(Ev("2026-11-27T10:00:00Z", "c", "m", 4.0));
  // History: all of the 27th (4.0) and the 28th so far (nothing, 12 h = half a day).
  const double burn = StatusOf(e, "c", T("2026-11-28T12:00:00Z")).burn_per_day;
  // EWMA with a 2-day half-life: (0.7071 * 4) / (0.7071 * 1 + 1 * 0.5)
  EXPECT_NEAR(burn, 0.70710678 * 4 / (0.70710678 + 0.5), 1e-6);
  EXPECT_GT(burn, 2.0);  // a naive /7 would say 0.57
}

TEST(BurnRate, RecentDaysWeighMoreAndOldDaysDropOut) {
  Engine e = EngineWith(R"({"c":{"provider_id":"c","total_credits":1000}})");
  e.record_usage(Ev("2026-11-01T10:00:00Z", "c", "m", 500.0));  // outside the 7-day lookback
  e.record_usage(Ev("2026-11-22T10:00:00Z", "c", "m", 1.0));
  e.record_usage(Ev("2026-11-27T10:00:00Z", "c", "m", 10.0));
  const double burn = StatusOf(e, "c", T("2026-11-28T00:00:00Z")).burn_per_day;
  EXPECT_LT(burn, 10.0);
  EXPECT_GT(burn, 11.0 / 7);  // the heavy recent day outweighs an even average
}

// ---- rolling windows --------------------------------------------------------------------------

TEST(SlidingWindow, CountsWeightedEventsAndResetsWhenTheOldestLeaves) {
  Engine e = EngineWith(R"({"w":{"provider_id":"claude","package_type":"rolling_window","window_hours":5,
    "limit_per_window":45,"model_weights":{"claude-opus-4-5":5,"claude-sonnet-4-5":1}}})");
  e.record_usage(Ev("2026-11-28T08:00:00Z", "claude", "claude-sonnet-4-5"));  // leaves at 13:00
  e.record_usage(Ev("2026-11-28T10:00:00Z", "claude", "claude-opus-4-5-20251101"));
  e.record_usage(Ev("2026-11-28T11:00:00Z", "claude", "claude-sonnet-4-5"));
  auto s = StatusOf(e, "w", T("2026-11-28T12:00:00Z"));
  EXPECT_EQ(s.used, 7);
  EXPECT_EQ(s.remaining, 38);
  EXPECT_EQ(iso(*s.reset_at), "2026-11-28T13:00:00.000Z");
  EXPECT_EQ(s.window_mode, "sliding");
  s = StatusOf(e, "w", T("2026-11-28T13:00:00Z"));  // the 08:00 event has left
  EXPECT_EQ(s.used, 6);
  EXPECT_EQ(iso(*s.reset_at), "2026-11-28T15:00:00.000Z");
}

TEST(FixedWindow, StartsAtTheFirstRequestAfterThePreviousWindowEnded) {
  Engine e = EngineWith(R"({"w":{"provider_id":"claude","package_type":"rolling_window","window_hours":5,
    "limit_per_window":10,"window_mode":"fixed"}})");
  e.record_usage(Ev("2026-11-28T08:00:00Z", "claude", "m"));  // session 08:00-13:00
  e.record_usage(Ev("2026-11-28T12:30:00Z", "claude", "m"));
  e.record_usage(Ev("2026-11-28T14:00:00Z", "claude", "m"));  // new session 14:00-19:00
  auto s = StatusOf(e, "w", T("2026-11-28T12:45:00Z"));
  EXPECT_EQ(s.used, 2);
  EXPECT_EQ(iso(*s.reset_at), "2026-11-28T13:00:00.000Z");
  s = StatusOf(e, "w", T("2026-11-28T13:30:00Z"));  // between sessions: nothing counted, no reset pending
  EXPECT_EQ(s.used, 0);
  EXPECT_FALSE(s.reset_at.has_value());
  s = StatusOf(e, "w", T("2026-11-28T15:00:00Z"));
  EXPECT_EQ(s.used, 1);
  EXPECT_EQ(iso(*s.reset_at), "2026-11-28T19:00:00.000Z");
}

TEST(FixedWindow, OutOfOrderEventsRebuildSessions) {
  Engine e = EngineWith(R"({"w":{"provider_id":"p","package_type":"rolling_window","window_hours":5,
    "limit_per_window":10,"window_mode":"fixed"}})");
  e.record_usage(Ev("2026-11-28T14:00:00Z", "p", "m"));
  e.record_usage(Ev("2026-11-28T10:00:00Z", "p", "m"));  // late arrival: the session started at 10:00
  const auto s = StatusOf(e, "w", T("2026-11-28T14:30:00Z"));
  EXPECT_EQ(s.used, 2);  // 14:00 falls inside the 10:00-15:00 session the late event opened
  EXPECT_EQ(iso(*s.reset_at), "2026-11-28T15:00:00.000Z");
}

TEST(WindowAlerts, ExhaustedTopupWatchUseOrLoseOk) {
  Engine e = EngineWith(R"({
    "ex":{"provider_id":"ex","package_type":"rolling_window","window_hours":5,"limit_per_window":10},
    "tu":{"provider_id":"tu","package_type":"rolling_window","window_hours":5,"limit_per_window":20},
    "wa":{"provider_id":"wa","package_type":"rolling_window","window_hours":5,"limit_per_window":10},
    "ul":{"provider_id":"ul","package_type":"rolling_window","window_hours":5,"limit_per_window":10},
    "ok":{"provider_id":"ok","package_type":"rolling_window","window_hours":5,"limit_per_window":10}})");
  for (int i = 0; i < 10; ++i) e.record_usage(Ev("2026-11-28T11:00:00Z", "ex", "m"));
  for (int i = 0; i < 19; ++i) e.record_usage(Ev("2026-11-28T11:00:00Z", "tu", "m"));  // 1 of 20 left = 5 %
  for (int i = 0; i < 8; ++i) e.record_usage(Ev("2026-11-28T11:00:00Z", "wa", "m"));  // 2 left = 20 %
  e.record_usage(Ev("2026-11-28T07:50:00Z", "ul", "m"));  // window started 4h10m ago: 83 % elapsed, 90 % left
  e.record_usage(Ev("2026-11-28T11:00:00Z", "ok", "m"));
  const int64_t now = T("2026-11-28T12:00:00Z");
  EXPECT_EQ(StatusOf(e, "ex", now).alert, "exhausted");
  EXPECT_EQ(StatusOf(e, "tu", now).alert, "topup");
  EXPECT_EQ(StatusOf(e, "wa", now).alert, "watch");
  const auto ul = StatusOf(e, "ul", now);
  EXPECT_EQ(ul.alert, "use_or_lose");
  EXPECT_NEAR(*ul.elapsed_ratio, 250.0 / 300, 1e-9);
  EXPECT_NEAR(ul.expiring_capacity, 9 - (1.0 / 250) * 50, 1e-9);
  EXPECT_EQ(StatusOf(e, "ok", now).alert, "ok");
}

TEST(WindowPace, ExhaustsAtAndPaceDelta) {
  Engine e = EngineWith(R"({"w":{"provider_id":"p","package_type":"rolling_window","window_hours":5,"limit_per_window":20}})");
  for (int i = 0; i < 10; ++i) e.record_usage(Ev("2026-11-28T10:00:00Z", "p", "m"));
  // 10 used within 2h of a window that started at 10:00: 5/h, 10 left -> exhausted at 14:00 < reset 15:00.
  const auto s = StatusOf(e, "w", T("2026-11-28T12:00:00Z"));
  EXPECT_EQ(iso(*s.exhausts_at), "2026-11-28T14:00:00.000Z");
  EXPECT_NEAR(*s.pace_delta, 0.5 - 0.4, 1e-9);
  EXPECT_EQ(s.expiring_capacity, 0);
}

// ---- daily ------------------------------------------------------------------------------------

TEST(Daily, ResetsAtMidnightInTheConfiguredZone) {
  Engine e = EngineWith(R"({"g":{"provider_id":"gemini","package_type":"daily","limit_per_day":100,
    "reset_timezone":"America/Los_Angeles"},"u":{"provider_id":"gemini","package_type":"daily","limit_per_day":100}})");
  e.record_usage(Ev("2026-11-28T07:30:00Z", "gemini", "m"));  // 23:30 Pacific on the 27th
  e.record_usage(Ev("2026-11-28T08:30:00Z", "gemini", "m"));  // 00:30 Pacific on the 28th
  const auto g = StatusOf(e, "g", T("2026-11-28T12:00:00Z"));
  EXPECT_EQ(g.used, 1);
  EXPECT_EQ(iso(*g.reset_at), "2026-11-29T08:00:00.000Z");
  const auto u = StatusOf(e, "u", T("2026-11-28T12:00:00Z"));  // UTC: both on the 28th
  EXPECT_EQ(u.used, 2);
  EXPECT_EQ(iso(*u.reset_at), "2026-11-29T00:00:00.000Z");
}

TEST(Daily, UnusedFreeQuotaNearResetIsUseOrLose) {
  Engine e = EngineWith(R"({"q":{"provider_id":"qwen","package_type":"daily","limit_per_day":2000}})");
  const auto s = StatusOf(e, "q", T("2026-11-28T20:00:00Z"));
  EXPECT_EQ(s.alert, "use_or_lose");
  EXPECT_EQ(s.expiring_capacity, 2000);
  EXPECT_EQ(StatusOf(e, "q", T("2026-11-28T10:00:00Z")).alert, "ok");
}

// ---- secondary windows, observations, learned limits -----------------------------------------

TEST(SecondaryWindows, WeeklyCapExhaustsThePackage) {
  Engine e = EngineWith(R"({"c":{"provider_id":"claude","package_type":"rolling_window","window_hours":5,
    "limit_per_window":45,"secondary_windows":[{"name":"7d","window_hours":168,"limit":20}]}})");
  for (int d = 22; d <= 27; ++d)
    for (int i = 0; i < 4; ++i) {
      const std::string ts = "2026-11-" + std::to_string(d) + "T09:00:00Z";
      e.record_usage(Ev(ts.c_str(), "claude", "m"));
    }
  const auto s = StatusOf(e, "c", T("2026-11-28T12:00:00Z"));
  EXPECT_EQ(s.used, 0);  // nothing in the last 5 h
  ASSERT_EQ(s.secondary_windows.size(), 1u);
  EXPECT_EQ(s.secondary_windows[0].used, 24);
  EXPECT_EQ(s.alert, "exhausted");
  EXPECT_EQ(s.binding_window, "7d");
  // Capacity returns when the 5th-oldest request leaves (24 - 5 < 20), not when the oldest does.
  EXPECT_EQ(iso(*s.reset_at), "2026-11-30T09:00:00.000Z");
}

TEST(Observations, UnifiedFiveHourUtilizationSetsUsedAndConfidence) {
  Engine e = EngineWith(R"({"c":{"provider_id":"claude","package_type":"rolling_window","window_hours":5,
    "limit_per_window":50,"confidence":"estimated","secondary_windows":[{"name":"7d","window_hours":168,"limit":1000}]}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  HeaderMap h = parse_header_lines(
      "anthropic-ratelimit-unified-5h-utilization: 0.6\nanthropic-ratelimit-unified-5h-reset: 1795881600\n"
      "anthropic-ratelimit-unified-7d-utilization: 0.25\nanthropic-ratelimit-unified-7d-reset: 1796256000\n"
      "anthropic-ratelimit-requests-limit: 50\nanthropic-ratelimit-requests-remaining: 1\n");
  const auto r = e.observe("claude", 200, h, "", 120, now);
  EXPECT_EQ(r.updated_packages.size(), 2u);
  auto s = StatusOf(e, "c", now);
  EXPECT_EQ(s.used, 30);  // 0.6 x 50, never the per-minute request count
  EXPECT_EQ(s.confidence, "high");
  EXPECT_EQ(iso(*s.reset_at), "2026-11-28T16:00:00.000Z");
  EXPECT_EQ(s.secondary_windows[0].used, 250);
  e.record_usage(Ev("2026-11-28T12:10:00Z", "claude", "m"));  // we add what we send after the reading
  EXPECT_EQ(StatusOf(e, "c", T("2026-11-28T12:20:00Z")).used, 31);
  // After the provider's reset the reading no longer applies.
  s = StatusOf(e, "c", T("2026-11-28T16:00:00Z"));
  EXPECT_EQ(s.used, 1);
  EXPECT_EQ(s.confidence, "high");  // the 7-day reading still applies, plus what we sent since
  EXPECT_EQ(s.secondary_windows[0].used, 251);
}

TEST(Observations, PerMinuteLimitsNeverTouchAWindowPackage) {
  Engine e = EngineWith(R"({"o":{"provider_id":"openai","package_type":"rolling_window","window_hours":3,"limit_per_window":80}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.observe("openai", 200, parse_header_lines("x-ratelimit-limit-requests: 60\nx-ratelimit-remaining-requests: 0\n"), "", 50, now);
  EXPECT_EQ(StatusOf(e, "o", now).used, 0);
}

TEST(Observations, GeminiPerDay429ExhaustsTheDailyPackageUntilReset) {
  Engine e = EngineWith(R"({"g":{"provider_id":"gemini","package_type":"daily","limit_per_day":100,
    "reset_timezone":"America/Los_Angeles"}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  const std::string body = R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"72000s"}]}})";
  const auto r = e.observe("gemini", 429, HeaderMap{}, body, 80, now);
  ASSERT_TRUE(r.cooldown_until);
  EXPECT_EQ(iso(*r.cooldown_until), "2026-11-29T08:00:00.000Z");
  const auto s = StatusOf(e, "g", now);
  EXPECT_EQ(s.alert, "exhausted");
  EXPECT_EQ(s.confidence, "high");
}

TEST(LearnedLimits, RepeatedRejectionsBelowTheCatalogLimitLowerIt) {
  Engine e = EngineWith(R"({"q":{"provider_id":"qwen","package_type":"daily","limit_per_day":2000}})");
  for (int i = 0; i < 1200; ++i) e.record_usage(Ev("2026-11-28T09:00:00Z", "qwen", "m"));
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.observe("qwen", 429, HeaderMap{}, "", 10, now);
  EXPECT_FALSE(StatusOf(e, "q", now).learned_limit.has_value());  // once is not evidence
  e.observe("qwen", 429, HeaderMap{}, "", 10, now + 1000);     // in flight with the first: same episode
  EXPECT_FALSE(StatusOf(e, "q", now + 1000).learned_limit.has_value());
  e.observe("qwen", 429, HeaderMap{}, "", 10, now + 31000);    // after the 30 s cooldown: a repeat
  const auto s = StatusOf(e, "q", now + 32000);
  ASSERT_TRUE(s.learned_limit.has_value());
  EXPECT_EQ(s.learned_limit->limit, 1200);
  EXPECT_EQ(s.total, 1200);
  EXPECT_EQ(s.alert, "exhausted");
  EXPECT_NE(s.learned_limit->evidence.find("2 consecutive 429s with a local count of 1200 against a catalog limit of 2000"),
            std::string::npos);
}

TEST(LearnedLimits, ShortRetryAfterOrSuccessDoesNotTeach) {
  Engine e = EngineWith(R"({"q":{"provider_id":"qwen","package_type":"daily","limit_per_day":2000}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.observe("qwen", 429, parse_header_lines("retry-after: 5"), "", 10, now);
  e.observe("qwen", 429, parse_header_lines("retry-after: 5"), "", 10, now + 1);
  EXPECT_FALSE(StatusOf(e, "q", now).learned_limit.has_value());
  e.observe("qwen", 429, HeaderMap{}, "", 10, now + 40000);
  e.observe("qwen", 200, HeaderMap{}, "", 10, now + 80000);
  e.observe("qwen", 429, HeaderMap{}, "", 10, now + 120000);
  EXPECT_FALSE(StatusOf(e, "q", now + 120001).learned_limit.has_value());
}

// Another instance's signals arrive late through the shared ledger: a success taken before the
// rejections does not break their run, and a rejection taken before a success does not extend it.
TEST(LearnedLimits, LateSignalsFromOtherInstancesAreOrderedByWhenTheyWereTaken) {
  Engine e = EngineWith(R"({"q":{"provider_id":"qwen","package_type":"daily","limit_per_day":2000}})");
  for (int i = 0; i < 1200; ++i) e.record_usage(Ev("2026-11-28T09:00:00Z", "qwen", "m"));
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.observe("qwen", 429, HeaderMap{}, "", 10, now);
  e.observe("qwen", 200, HeaderMap{}, "", 10, now - 5000);  // arrives now, taken before the 429
  e.observe("qwen", 429, HeaderMap{}, "", 10, now + 31000);
  ASSERT_TRUE(StatusOf(e, "q", now + 31001).learned_limit.has_value());

  Engine f = EngineWith(R"({"q":{"provider_id":"qwen","package_type":"daily","limit_per_day":2000}})");
  for (int i = 0; i < 1200; ++i) f.record_usage(Ev("2026-11-28T09:00:00Z", "qwen", "m"));
  f.observe("qwen", 429, HeaderMap{}, "", 10, now);
  f.observe("qwen", 200, HeaderMap{}, "", 10, now + 40000);
  f.observe("qwen", 429, HeaderMap{}, "", 10, now + 35000);  // arrives last, taken before the success
  EXPECT_FALSE(StatusOf(f, "q", now + 40001).learned_limit.has_value());
  f.observe("qwen", 429, HeaderMap{}, "", 10, now + 80000);  // the run restarted at the success
  EXPECT_FALSE(StatusOf(f, "q", now + 80001).learned_limit.has_value());
}

TEST(Properties, RemainingStaysWithinBoundsAndUsedIsTheWeightedSum) {
  Engine e = EngineWith(R"({"w":{"provider_id":"p","package_type":"rolling_window","window_hours":1,"limit_per_window":50,
    "model_weights":{"big":3,"small":0.5}}})");
  uint64_t x = 42;
  double expected = 0;
  const int64_t base = T("2026-11-28T12:00:00Z");
  for (int i = 0; i < 2000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const bool big = (x >> 33) % 2;
    const int64_t ts = base + static_cast<int64_t>((x >> 20) % (3600 * 1000));
    UsageEvent ev;
    ev.ts_ms = ts;
    ev.provider_id = "p";
    ev.model = big ? "big" : "small";
    ev.status = (x >> 40) % 7 == 0 ? 500 : 200;
    e.record_usage(ev);
    if (ev.status == 200) expected += big ? 3 : 0.5;
    const auto s = StatusOf(e, "w", base + 3600 * 1000 - 1);
    ASSERT_GE(s.remaining, 0);
    ASSERT_LE(s.remaining, s.total);
    ASSERT_NEAR(s.used, expected, 1e-6);
  }
}
