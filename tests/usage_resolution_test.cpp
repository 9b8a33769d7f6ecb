// Usage at 1-second resolution: the engine files each event under the start of its UTC second and
// holds the requests of one second (same provider, model, status) as one entry, so memory follows
// the number of busy seconds, not the request rate. Totals stay exact; only sub-second timing goes.
#include "engine_fixture.hpp"
#include "quotagate/usage_ledger.hpp"

using namespace qg;

namespace {

UsageEvent At(int64_t ts_ms, const char* provider, const char* model, double cost, int status = 200) {
  UsageEvent e;
  e.ts_ms = ts_ms;
  e.provider_id = provider;
  e.model = model;
  e.cost = cost;
  e.status = status;
  e.tokens_in = 3;
  e.tokens_out = 5;
  return e;
}

}  // namespace

TEST(UsageTimeline, EventsAtTheSameInstantShareOneEntryInAndOutOfOrder) {
  UsageTimeline t;
  t.add(1000, 1, 0.5);
  t.add(2000, 1, 0.5);
  t.add(2000, 2, 1.0);
  t.add(1000, 4, 2.0);  // late, merges into the first entry and shifts the later prefix
  t.add(1500, 8, 4.0);  // late, a new instant between the two
  EXPECT_EQ(t.size(), 3u);
  EXPECT_DOUBLE_EQ(t.units_in(0, 1000), 5);
  EXPECT_DOUBLE_EQ(t.units_in(1000, 1500), 8);
  EXPECT_DOUBLE_EQ(t.units_in(1500, 2000), 3);
  EXPECT_DOUBLE_EQ(t.cost_in(0, 2000), 8.0);
  EXPECT_EQ(t.when_cumulative_exceeds(0, 2000, 12.5), std::optional<int64_t>(1500));
}

TEST(UsageResolution, ABusySecondIsOneEntryAndTotalsStayExact) {
  Engine e = EngineWith(R"({"d":{"provider_id":"ds","total_credits":1000,"last_updated":"2026-11-28T00:00:00Z"},
                            "w":{"provider_id":"ds","package_type":"rolling_window","window_hours":5,"limit_per_window":100000}})");
  const int64_t second = T("2026-11-28T12:00:00Z");
  for (int i = 0; i < 10000; ++i) e.record_usage(At(second + i % 1000, "ds", "chat", 0.001));
  EXPECT_EQ(e.event_count(), 1u);
  e.record_usage(At(second + 5, "ds", "reasoner", 0.01));     // another model: its own entry
  e.record_usage(At(second + 7, "ds", "chat", 0.01, 500));    // another status: its own entry
  e.record_usage(At(second + 1000, "ds", "chat", 0.001));     // the next second
  EXPECT_EQ(e.event_count(), 4u);
  const int64_t now = second + 2000;
  EXPECT_NEAR(StatusOf(e, "d", now).used, 10.0 + 0.01 + 0.001, 1e-9);
  EXPECT_EQ(StatusOf(e, "w", now).used, 10002);
  // The window's oldest second leaves at its start + 5 h: to the second, never later than the truth.
  EXPECT_EQ(StatusOf(e, "w", now).reset_at, std::optional<int64_t>(second + 5 * kMsPerHour));
  EXPECT_EQ(StatusOf(e, "w", second + 5 * kMsPerHour).used, 1);

  // A catalog reload rebuilds from the merged entries: the same totals.
  const auto r = e.load_catalog(R"({"schema_version":1,"packages":{
      "d":{"provider_id":"ds","total_credits":1000,"last_updated":"2026-11-28T00:00:00Z"},
      "w":{"provider_id":"ds","package_type":"rolling_window","window_hours":5,"limit_per_window":100000}}})", "reload.json");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NEAR(StatusOf(e, "d", now).used, 10.011, 1e-9);
  EXPECT_EQ(StatusOf(e, "w", now).used, 10002);
  // The browser simulator's copy keeps the per-request cost and the count.
  const Json recent = e.state_document(now)["recent_events"];
  ASSERT_EQ(recent.size(), 4u);
  EXPECT_EQ(recent[0][0], second);
  EXPECT_NEAR(recent[0][4].get<double>() * recent[0][7].get<double>(), 10.0, 1e-9);
  EXPECT_EQ(recent[0][7], 10000);
  EXPECT_EQ(recent[0][5], 30000);  // tokens are summed
}

TEST(UsageResolution, LateEventsMergeIntoTheirSecondWhereverItIs) {
  Engine e = EngineWith(R"({"w":{"provider_id":"p","package_type":"rolling_window","window_hours":1,"limit_per_window":100}})");
  const int64_t t0 = T("2026-11-28T12:00:00Z");
  for (int s = 0; s < 10; ++s) e.record_usage(At(t0 + s * 1000 + 250, "p", "m", 0));
  e.record_usage(At(t0 + 3 * 1000 + 999, "p", "m", 0));  // from another instance, late
  e.record_usage(At(t0 + 3 * 1000 + 1, "p", "m", 0));
  EXPECT_EQ(e.event_count(), 10u);
  EXPECT_EQ(StatusOf(e, "w", t0 + 20000).used, 12);
  // At 13:00:03 the seconds 12:00:00 .. 12:00:03 have left: 1 + 1 + 1 + 3 requests.
  EXPECT_EQ(StatusOf(e, "w", t0 + kMsPerHour + 2999).used, 12 - 3);
  EXPECT_EQ(StatusOf(e, "w", t0 + kMsPerHour + 3000).used, 12 - 6);
}

// A provider's snapshot (last_updated) with sub-second precision: requests in the snapshot's own
// second count as after it. At most that second is counted twice; nothing after it is missed.
TEST(UsageResolution, CreditsCountTheSnapshotSecond) {
  Engine e = EngineWith(R"({"d":{"provider_id":"ds","total_credits":10,"used_credits":1,"last_updated":"2026-11-28T12:00:00.500Z"}})");
  const int64_t second = T("2026-11-28T12:00:00Z");
  e.record_usage(At(second + 700, "ds", "chat", 0.25));   // after the snapshot, same second
  e.record_usage(At(second - 1, "ds", "chat", 0.5));      // the second before: in used_credits
  EXPECT_DOUBLE_EQ(StatusOf(e, "d", second + 5000).used, 1.25);
}

// Memory follows busy seconds: a million requests over 100 seconds are 100 entries.
TEST(UsageResolution, AMillionRequestsInAHundredSecondsAreAHundredEntries) {
  Engine e = EngineWith(R"({"q":{"provider_id":"q","package_type":"daily","limit_per_day":2000000}})");
  const int64_t t0 = T("2026-11-28T12:00:00Z");
  UsageEvent ev = At(t0, "q", "m", 0);
  for (int i = 0; i < 1000000; ++i) {
    ev.ts_ms = t0 + i / 10;  // 10 requests per ms
    e.record_usage(ev);
  }
  EXPECT_EQ(e.event_count(), 100u);
  EXPECT_EQ(StatusOf(e, "q", t0 + 100000).used, 1000000);
}

// Instants beyond year +-9999 are corrupt input (a bad row, a hand-edited state): never counted,
// and no arithmetic on them can overflow.
TEST(UsageResolution, EventsBeyondYear9999AreIgnored) {
  Engine e = EngineWith(R"({"w":{"provider_id":"p","package_type":"rolling_window","window_hours":5,"limit_per_window":10},
                            "c":{"provider_id":"p","total_credits":10}})");
  for (int64_t ts : {INT64_MIN, INT64_MAX, INT64_MIN + 999, -kMaxInstantMs - 1, kMaxInstantMs + 1})
    e.record_usage(At(ts, "p", "m", 1));
  EXPECT_EQ(e.event_count(), 0u);
  e.record_usage(At(kMaxInstantMs, "p", "m", 1));
  EXPECT_EQ(e.event_count(), 1u);
  EXPECT_EQ(StatusOf(e, "c", kMaxInstantMs).used, 1);
}
