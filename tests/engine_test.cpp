// Engine behaviour across components: catalog reloads keep the last good state, provider
// configuration drives candidates, 429s cool providers down, and documents are complete.
#include <cmath>

#include "engine_fixture.hpp"

using namespace qg;

TEST(EngineCatalog, BadReloadKeepsTheLastGoodCatalog) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":10}})");
  e.record_usage(Ev("2026-11-27T12:00:00Z", "a", "m", 2.0));
  const auto r = e.load_catalog("{\"packages\": {", "/tmp/catalog.v1.json");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("/tmp/catalog.v1.json:1:"), std::string::npos) << r.error;
  ASSERT_EQ(e.catalog().packages.size(), 1u);
  EXPECT_EQ(StatusOf(e, "a", T("2026-11-28T00:00:00Z")).used, 2);
}

TEST(EngineCatalog, ReloadRebuildsUsageForChangedPackages) {
  Engine e = EngineWith(R"({"w":{"provider_id":"p","package_type":"rolling_window","window_hours":5,"limit_per_window":10}})");
  e.record_usage(Ev("2026-11-28T10:00:00Z", "p", "big"));
  ASSERT_TRUE(e.load_catalog(R"({"packages":{"w":{"provider_id":"p","package_type":"rolling_window","window_hours":5,
    "limit_per_window":10,"model_weights":{"big":4}}}})", "c.json").ok);
  EXPECT_EQ(StatusOf(e, "w", T("2026-11-28T11:00:00Z")).used, 4);  // re-seeded with the new weights
}

TEST(EngineConfig, RejectsUnknownKeysAndBadValues) {
  Engine e;
  EXPECT_EQ(e.configure(R"({"weights":{"quota_aware":false}})"), "");
  EXPECT_FALSE(e.config().weights.quota_aware);
  EXPECT_NE(e.configure(R"({"weights":{"health":30}})").find("weights.health: no longer used"), std::string::npos);
  EXPECT_NE(e.configure(R"({"weigths":{}})").find("unknown key \"weigths\""), std::string::npos);
  EXPECT_NE(e.configure(R"({"thresholds":{"window_watch_ratio":"high"}})").find("thresholds.window_watch_ratio"), std::string::npos);
  EXPECT_NE(e.configure("not json").find("expected a JSON object"), std::string::npos);
  EXPECT_FALSE(e.config().weights.quota_aware);  // a rejected config changes nothing
  // Values that become integers are bounded (casting 1e300 to int64 is undefined behaviour).
  EXPECT_NE(e.configure(R"({"default_cooldown_s":1e300})").find("default_cooldown_s: expected a non-negative number up to 31622400"), std::string::npos);
  EXPECT_NE(e.configure(R"({"learn_after_rejections":1e300})").find("learn_after_rejections"), std::string::npos);
  EXPECT_NE(e.configure(R"({"thresholds":{"burn_lookback_days":4294967297}})").find("burn_lookback_days: expected an integer 1..35"), std::string::npos);
}

// Fuzz-style extremes in the status maths: a forecast beyond year 9999 is no forecast.
TEST(EngineStatus, AnAstronomicalRunwayHasNoExhaustionTime) {
  Engine e = EngineWith(R"({"c":{"provider_id":"a","total_credits":1e300},
                            "w":{"provider_id":"b","package_type":"rolling_window","window_hours":5,"limit_per_window":1e300}})");
  e.record_usage(Ev("2026-11-28T11:00:00Z", "a", "m", 1e-300));
  e.record_usage(Ev("2026-11-28T11:00:00Z", "b", "m"));
  const int64_t now = T("2026-11-28T12:00:00Z");
  EXPECT_FALSE(StatusOf(e, "c", now).exhausts_at.has_value());
  EXPECT_FALSE(StatusOf(e, "w", now).exhausts_at.has_value());
}

TEST(EngineRouting, ConfiguredProvidersServeModelsAndPackagelessProvidersCompete) {
  Engine e = EngineWith(R"({"g":{"provider_id":"gemini","package_type":"daily","limit_per_day":100,"models":["gemini-2.5-pro"]}})");
  ASSERT_EQ(e.configure(R"({"providers":[{"id":"gemini","models":["gemini-*"]},{"id":"openrouter","models":["*"]},
                                         {"id":"groq","models":["llama-*"]}]})"), "");
  const int64_t now = T("2026-11-28T12:00:00Z");
  RouteDecision d = e.route("gemini-2.5-pro", now);
  ASSERT_EQ(d.ranked.size(), 2u);
  EXPECT_EQ(d.provider_id, "gemini");
  d = e.route("llama-3.3-70b", now);
  ASSERT_EQ(d.ranked.size(), 2u);  // openrouter serves anything, groq serves llama-*
  EXPECT_EQ(d.ranked[0].provider_id, "openrouter");
  d = e.route("gemini-2.5-flash", now);  // the gemini provider serves it but its package does not
  EXPECT_EQ(d.ranked.size(), 1u);
  EXPECT_EQ(d.provider_id, "openrouter");
}

TEST(EngineRouting, UnknownModelIsAnErrorValue) {
  Engine e = EngineWith(R"({"g":{"provider_id":"gemini","package_type":"daily","limit_per_day":100,"models":["gemini-2.5-pro"]}})");
  const RouteDecision d = e.route("gpt-9", T("2026-11-28T12:00:00Z"));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.error, "no provider serves model \"gpt-9\"");
}

TEST(EngineHealth, A429CoolsTheProviderDownUntilItsReset) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":10,"models":["m"]},
                            "b":{"provider_id":"b","total_credits":10,"models":["m"]}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.observe("a", 429, parse_header_lines("retry-after: 120"), "", 100, now);
  RouteDecision d = e.route("m", now + 1000);
  EXPECT_EQ(d.provider_id, "b");
  d = e.route("m", now + 121000);
  EXPECT_FALSE(d.ranked[0].excluded);
  EXPECT_FALSE(d.ranked[1].excluded);
  // Without any hint, the default cooldown applies.
  e.observe("b", 429, HeaderMap{}, "", 100, now);
  const Json q = e.quotas_document(now + 1);
  EXPECT_EQ(q["cooldowns"]["b"]["until"], "2026-11-28T12:00:30.000Z");
}

TEST(EngineHealth, ConnectionFailuresMakeAProviderUnhealthy) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":10,"models":["m"]}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  for (int i = 0; i < 3; ++i) e.record_failure("a", "ECONNREFUSED", now);
  const RouteDecision d = e.route("m", now);
  EXPECT_TRUE(d.all_excluded);
  EXPECT_NE(d.ranked[0].exclusion.find("unhealthy: ECONNREFUSED"), std::string::npos);
  e.observe("a", 200, HeaderMap{}, "", 100, now + 60000);
  EXPECT_FALSE(e.route("m", now + 60000).all_excluded);
}

// Signals replayed late from other instances: a success taken before the failures does not clear
// them, and failures taken before a success do not count.
TEST(EngineHealth, LateSignalsAreOrderedByWhenTheyWereTaken) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":10,"models":["m"]}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  for (int i = 0; i < 3; ++i) e.record_failure("a", "ECONNREFUSED", now + i);
  e.observe("a", 200, HeaderMap{}, "", 100, now - 1000);  // arrives last, taken first
  const int64_t later = now + 120000;                      // the cooldown has passed
  EXPECT_FALSE(e.route("m", later).all_excluded);
  e.record_failure("a", "ECONNREFUSED", later);            // still unhealthy: a fourth failure cools again
  EXPECT_TRUE(e.route("m", later + 1).all_excluded);

  Engine f = EngineWith(R"({"a":{"provider_id":"a","total_credits":10,"models":["m"]}})");
  for (int i = 0; i < 3; ++i) f.record_failure("a", "ECONNREFUSED", now + i);
  f.observe("a", 200, HeaderMap{}, "", 100, now + 10);    // a newer success clears them
  f.record_failure("a", "ECONNREFUSED", later);
  EXPECT_FALSE(f.route("m", later + 1).all_excluded);

  // Failures taken before the newest success do not count, however many arrive.
  Engine g = EngineWith(R"({"a":{"provider_id":"a","total_credits":10,"models":["m"]}})");
  g.observe("a", 200, HeaderMap{}, "", 100, now);
  for (int i = 1; i <= 5; ++i) g.record_failure("a", "ECONNREFUSED", now - i);
  for (int i = 1; i <= 5; ++i) g.observe("a", 503, HeaderMap{}, "", 100, now - i);
  EXPECT_FALSE(g.route("m", now + 1).all_excluded);
  for (int i = 1; i <= 3; ++i) g.record_failure("a", "ECONNREFUSED", now + i);
  EXPECT_TRUE(g.route("m", now + 4).all_excluded);
}

TEST(EngineDocuments, QuotasDocumentHasEveryFieldAndCounts) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":10,"expiry_date":"2026-12-01"},
                            "b":{"provider_id":"b","package_type":"daily","limit_per_day":10}})");
  e.observe("b", 200, parse_header_lines("x-ratelimit-limit-requests: 5"), "", 10, T("2026-11-28T12:00:00Z"));
  const Json q = e.quotas_document(T("2026-11-28T12:00:00Z"));
  EXPECT_EQ(q["count"], 2);
  EXPECT_EQ(q["by_alert"]["use_or_lose"], 1);
  EXPECT_EQ(q["has_use_or_lose"], true);
  EXPECT_EQ(q["has_exhausted"], false);
  EXPECT_EQ(q["header_snapshots"]["b"]["dialect"], "openai");
  for (const char* field : {"provider_id", "package_id", "package_type", "total", "used", "remaining", "remaining_ratio",
                            "alert", "source", "confidence", "last_updated", "window_hours", "reset_at", "expiry_date",
                            "days_until_expiry", "burn_per_day", "projected_days_left", "notes", "pace_delta",
                            "elapsed_ratio", "exhausts_at", "expiring_capacity"})
    EXPECT_TRUE(q["packages"][0].contains(field)) << field;
}

TEST(EngineEvents, RawEventsAreTrimmedToRetention) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":1000000}})");
  const int64_t start = T("2026-01-01T00:00:00Z");
  for (int i = 0; i < 5000; ++i) {
    UsageEvent ev;
    ev.ts_ms = start + static_cast<int64_t>(i) * 3600 * 1000;  // hourly for ~208 days
    ev.provider_id = "a";
    ev.cost = 1;
    e.record_usage(ev);
  }
  EXPECT_LT(e.event_count(), 40u * 24 * 2);
  EXPECT_EQ(StatusOf(e, "a", start + 5000LL * 3600 * 1000).used, 5000);  // aggregates keep the total
}

// Readings replayed from other instances arrive late and out of order: the newest reading wins,
// whichever arrives last.
TEST(EngineObserve, AnOlderReadingNeverReplacesANewerOne) {
  Engine e = EngineWith(R"({"c":{"provider_id":"claude","package_type":"rolling_window","window_hours":5,"limit_per_window":100}})");
  const int64_t now = 1795900000000;  // 2026-11-28T...; the resets below are in the future
  auto reading = [](double utilization) {
    return parse_header_lines("anthropic-ratelimit-unified-status: allowed\n"
                              "anthropic-ratelimit-unified-5h-status: allowed\nanthropic-ratelimit-unified-5h-reset: 1795910400\n"
                              "anthropic-ratelimit-unified-5h-utilization: " + std::to_string(utilization) + "\n");
  };
  e.observe("claude", 200, reading(0.60), "", 10, now);
  e.observe("claude", 200, reading(0.40), "", 10, now - 500);  // arrives later, taken earlier
  EXPECT_EQ(StatusOf(e, "c", now + 1).used, 60);
  EXPECT_EQ(e.quotas_document(now + 1)["header_snapshots"]["claude"]["observed_at"], format_iso_utc(now));
  e.observe("claude", 200, reading(0.70), "", 10, now + 1000);
  EXPECT_EQ(StatusOf(e, "c", now + 1001).used, 70);
}

// Issue 12 case 3: usage numbers from outside that are not finite, negative or absurd count as 0;
// the request still counts, and a credits package is never refunded (used -3, remaining 13 of 10).
TEST(EngineUsage, HostileNumbersCountAsZeroAndNeverRefund) {
  Engine e = EngineWith(R"({"c":{"provider_id":"a","total_credits":10},
    "w":{"provider_id":"a","package_type":"rolling_window","window_hours":5,"limit_per_window":10}})");
  const double hostile_costs[] = {-3.0, std::nan(""), INFINITY, -INFINITY, 1e308};
  for (double cost : hostile_costs) {
    UsageEvent ev = Ev("2026-11-28T10:00:00Z", "a", "m", cost);
    ev.tokens_in = -3;
    ev.tokens_out = INT64_MIN;
    e.record_usage(ev);
  }
  e.record_usage(Ev("2026-11-28T10:00:01Z", "a", "m", 2.0));
  const auto c = StatusOf(e, "c", T("2026-11-28T11:00:00Z"));
  EXPECT_EQ(c.used, 2);
  EXPECT_EQ(c.remaining, 8);
  EXPECT_EQ(StatusOf(e, "w", T("2026-11-28T11:00:00Z")).used, 6);  // every request counts in the window
}

TEST(EngineConfig, MaxUpstreamWaitCapsRetryAfter) {
  Engine e = EngineWith(R"({"d":{"provider_id":"a","package_type":"daily","limit_per_day":100}})");
  EXPECT_EQ(e.configure(R"({"max_upstream_wait_s":3600})"), "");
  EXPECT_NE(e.configure(R"({"max_upstream_wait_s":0.5})").find("max_upstream_wait_s"), std::string::npos);
  const int64_t now = T("2026-11-28T12:00:00Z");
  const auto r = e.observe("a", 429, parse_header_lines("retry-after: 999999999\n"), "", 10, now);
  ASSERT_TRUE(r.cooldown_until.has_value());
  EXPECT_EQ(*r.cooldown_until, now + 3600 * 1000);
}

// Issue 15 case 2: 429s from OpenRouter's provider ("temporarily rate-limited upstream") after 3
// successes on a daily package of 50 taught a limit of 3. A 429 that is not about our quota
// teaches nothing; the cooldown is the short default.
TEST(EngineLearning, UpstreamProviderRefusalsTeachNoLimit) {
  Engine e = EngineWith(R"({"d":{"provider_id":"or","package_type":"daily","limit_per_day":50}})");
  const int64_t t0 = T("2026-11-28T12:00:00Z");
  for (int i = 0; i < 3; ++i) {
    e.record_usage(Ev("2026-11-28T11:00:00Z", "or", "m"));
    e.observe("or", 200, HeaderMap{}, "", 10, t0 - 3600000 + i);
  }
  const std::string body = R"({"error":{"message":"Provider returned error","code":429,"metadata":{"raw":"google/gemini-2.0-flash-exp:free is temporarily rate-limited upstream. Please retry shortly.","provider_name":"Google AI Studio"}}})";
  for (int i = 0; i < 2; ++i) {
    const auto r = e.observe("or", 429, HeaderMap{}, body, 10, t0 + i * 60000);
    ASSERT_TRUE(r.cooldown_until.has_value());
    EXPECT_LE(*r.cooldown_until - (t0 + i * 60000), 30000);
  }
  const auto st = StatusOf(e, "d", t0 + 200000);
  EXPECT_EQ(st.total, 50);
  EXPECT_EQ(st.used, 3);
  EXPECT_NE(st.alert, std::string("exhausted"));
  // An Anthropic overload is not about our quota either.
  Engine a = EngineWith(R"({"w":{"provider_id":"an","package_type":"rolling_window","window_hours":5,"limit_per_window":45}})");
  a.record_usage(Ev("2026-11-28T11:00:00Z", "an", "m"));
  for (int i = 0; i < 3; ++i) a.observe("an", 429, HeaderMap{}, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", 10, t0 + i * 60000);
  EXPECT_EQ(StatusOf(a, "w", t0 + 200000).total, 45);
}
