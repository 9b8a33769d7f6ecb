// The card's forecast (package_forecast.hpp) and the usage document's history: the line from now
// to exhaustion, the reset or the expiry, the capacity lost there, and agreement with the quotas
// document at the same instant (remaining, exhausts_at, expiring_capacity) for every package.
#include <fstream>
#include <set>
#include <sstream>

#include "engine_fixture.hpp"
#include "quotagate/package_forecast.hpp"

using namespace qg;

namespace {

const Json* PackageIn(const Json& quotas, const std::string& id, const std::string& account = "") {
  for (const Json& p : quotas["packages"])
    if (p["package_id"] == id && (account.empty() || p.value("account_id", "") == account)) return &p;
  return nullptr;
}

// The forecast block must say what the quotas document says, at the same now.
void ExpectAgrees(const Json& forecast, const Json& q, const std::string& what) {
  SCOPED_TRACE(what);
  const Json& pts = forecast["points"];
  ASSERT_GE(pts.size(), 1u);
  EXPECT_EQ(pts[0]["remaining"], q["remaining"]);
  EXPECT_EQ(forecast["exhausts_at"], q["exhausts_at"]);
  EXPECT_EQ(forecast["lost"], q["expiring_capacity"]);
  const std::string until = forecast["until"];
  if (until == "exhaustion") {
    EXPECT_EQ(forecast["end"], q["exhausts_at"]);
    EXPECT_EQ(pts.back()["remaining"], 0);
  } else if (until == "reset" || until == "expiry") {
    EXPECT_EQ(forecast["end"], until == "expiry" ? q["expires_at"] : q["reset_at"]);
    EXPECT_EQ(pts.back()["remaining"], q["expiring_capacity"]);
    EXPECT_EQ(forecast["loss_at"], q["expiring_capacity"].get<double>() > 0 ? forecast["end"] : Json(nullptr));
  } else {
    EXPECT_EQ(forecast["loss_at"], nullptr);
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(PackageForecast, IdleExpiringCreditsAreAllLostAtTheExpiry) {
  Engine e = EngineWith(R"({"promo":{"provider_id":"p","total_credits":20,"expiry_date":"2026-12-03"}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  const QuotaStatus s = StatusOf(e, "promo", now);
  const PackageForecast f = package_forecast(s, now, 7 * kMsPerDay);
  EXPECT_EQ(f.until, "expiry");
  ASSERT_EQ(f.points.size(), 2u);
  EXPECT_EQ(f.points[0].t_ms, now);
  EXPECT_EQ(f.points[0].remaining, 20);
  EXPECT_EQ(f.points[1].t_ms, *s.expires_at);
  EXPECT_EQ(f.points[1].remaining, 20);
  EXPECT_EQ(f.lost, 20);
  EXPECT_EQ(f.loss_at, s.expires_at);
  EXPECT_EQ(f.rate_per_day, 0);
}

TEST(PackageForecast, CreditsThatRunOutBeforeTheExpiryEndAtZeroAndLoseNothing) {
  Engine e = EngineWith(R"({"c":{"provider_id":"p","total_credits":10,"expiry_date":"2027-06-30"}})");
  for (const char* ts : {"2026-11-26T10:00:00Z", "2026-11-27T10:00:00Z", "2026-11-28T10:00:00Z"}) e.record_usage(Ev(ts, "p", "m", 2.0));
  const int64_t now = T("2026-11-28T12:00:00Z");
  const QuotaStatus s = StatusOf(e, "c", now);
  ASSERT_TRUE(s.exhausts_at.has_value());
  const PackageForecast f = package_forecast(s, now, 7 * kMsPerDay);
  EXPECT_EQ(f.until, "exhaustion");
  ASSERT_EQ(f.points.size(), 2u);
  EXPECT_EQ(f.points[1].t_ms, *s.exhausts_at);
  EXPECT_EQ(f.points[1].remaining, 0);
  EXPECT_EQ(f.lost, 0);
  EXPECT_FALSE(f.loss_at.has_value());
  EXPECT_EQ(f.rate_per_day, s.burn_per_day);
  // The line's slope is the burn: remaining / (exhausts_at - now) per day.
  EXPECT_NEAR(s.remaining / (static_cast<double>(*s.exhausts_at - now) / kMsPerDay), s.burn_per_day, 1e-6);
}

TEST(PackageForecast, SlowCreditsLoseWhatTheBurnLeavesAtTheExpiry) {
  Engine e = EngineWith(R"({"c":{"provider_id":"p","total_credits":100,"expiry_date":"2026-12-05"}})");
  e.record_usage(Ev("2026-11-28T09:00:00Z", "p", "m", 3.0));
  const int64_t now = T("2026-11-28T12:00:00Z");
  const QuotaStatus s = StatusOf(e, "c", now);
  const PackageForecast f = package_forecast(s, now, 7 * kMsPerDay);
  EXPECT_EQ(f.until, "expiry");
  const double days_left = static_cast<double>(*s.expires_at - now) / kMsPerDay;
  EXPECT_NEAR(f.points.back().remaining, s.remaining - s.burn_per_day * days_left, 1e-9);
  EXPECT_EQ(f.points.back().remaining, s.expiring_capacity);
  EXPECT_GT(f.lost, 0);
  EXPECT_EQ(f.loss_at, s.expires_at);
}

TEST(PackageForecast, ADailyWindowRunsOutAtItsPaceOrLosesTheRestAtMidnight) {
  Engine e = EngineWith(R"({"d":{"provider_id":"p","package_type":"daily","limit_per_day":10}})");
  for (int i = 0; i < 8; ++i) e.record_usage(Ev("2026-11-28T01:00:00Z", "p", "m"));
  // 8 used in the first 4 h of the day: 2 per hour, the last 2 go within the hour.
  int64_t now = T("2026-11-28T04:00:00Z");
  QuotaStatus s = StatusOf(e, "d", now);
  PackageForecast f = package_forecast(s, now, kMsPerDay);
  EXPECT_EQ(f.until, "exhaustion");
  EXPECT_NEAR(static_cast<double>(f.points.back().t_ms - T("2026-11-28T05:00:00Z")), 0, 1);
  EXPECT_NEAR(f.rate_per_day, 48, 1e-9);
  // 8 in 20 h: 0.4 per hour, 4 h to midnight use 1.6 of the 2 left, 0.4 is lost.
  now = T("2026-11-28T20:00:00Z");
  s = StatusOf(e, "d", now);
  f = package_forecast(s, now, kMsPerDay);
  EXPECT_EQ(f.until, "reset");
  EXPECT_EQ(f.points.back().t_ms, T("2026-11-29T00:00:00Z"));
  EXPECT_NEAR(f.lost, 0.4, 1e-9);
  EXPECT_EQ(f.loss_at, T("2026-11-29T00:00:00Z"));
}

TEST(PackageForecast, AnIdleRollingWindowIsFlatToTheHorizon) {
  Engine e = EngineWith(R"({"w":{"provider_id":"p","package_type":"rolling_window","window_hours":5,"limit_per_window":50}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  const PackageForecast f = package_forecast(StatusOf(e, "w", now), now, 5 * kMsPerHour);
  EXPECT_EQ(f.until, "horizon");
  ASSERT_EQ(f.points.size(), 2u);
  EXPECT_EQ(f.points[1].t_ms, now + 5 * kMsPerHour);
  EXPECT_EQ(f.points[1].remaining, 50);
  EXPECT_EQ(f.lost, 0);
}

TEST(PackageForecast, ExhaustedStaysAtZeroUntilTheResetAndExpiredEndsNow) {
  Engine e = EngineWith(R"({"w":{"provider_id":"p","package_type":"rolling_window","window_hours":5,"limit_per_window":2},
                            "old":{"provider_id":"q","total_credits":10,"expiry_date":"2026-11-20"}})");
  e.record_usage(Ev("2026-11-28T10:00:00Z", "p", "m"));
  e.record_usage(Ev("2026-11-28T11:00:00Z", "p", "m"));
  const int64_t now = T("2026-11-28T12:00:00Z");
  const QuotaStatus w = StatusOf(e, "w", now);
  PackageForecast f = package_forecast(w, now, 5 * kMsPerHour);
  EXPECT_EQ(f.until, "exhausted");
  ASSERT_EQ(f.points.size(), 2u);
  EXPECT_EQ(f.points[1].t_ms, *w.reset_at);
  EXPECT_EQ(f.points[1].remaining, 0);
  f = package_forecast(StatusOf(e, "old", now), now, 7 * kMsPerDay);
  EXPECT_EQ(f.until, "expired");
  EXPECT_EQ(f.points.size(), 1u);
  EXPECT_EQ(f.lost, 0);
  // Out-of-range horizons are clamped, never overflow.
  Engine idle = EngineWith(R"({"c":{"provider_id":"p","total_credits":5}})");
  f = package_forecast(StatusOf(idle, "c", now), now, INT64_MAX);
  EXPECT_EQ(f.points.back().t_ms, now + 400 * kMsPerDay);
  f = package_forecast(StatusOf(idle, "c", now), now, -5);
  EXPECT_EQ(f.points.back().t_ms, now + 1);
}

TEST(UsageDocument, HistoryIsTheCurrentWindowWhenShorterThanTheRange) {
  Engine e = EngineWith(R"({"d":{"provider_id":"p","package_type":"daily","limit_per_day":10},
                            "c":{"provider_id":"q","total_credits":10}})");
  for (int i = 0; i < 4; ++i) e.record_usage(Ev("2026-11-28T02:00:00Z", "p", "m"));
  const int64_t now = T("2026-11-28T12:00:00Z");
  const Json d = e.usage_document("d", now, 7);
  EXPECT_EQ(d["history"]["basis"], "window");
  EXPECT_EQ(d["history"]["from"], "2026-11-28T00:00:00.000Z");
  const Json& pts = d["history"]["points"];
  ASSERT_EQ(pts.size(), 25u);
  EXPECT_EQ(pts[0]["t"], "2026-11-28T00:00:00.000Z");
  EXPECT_EQ(pts[0]["used"], 0);
  EXPECT_EQ(pts[24]["t"], "2026-11-28T12:00:00.000Z");
  EXPECT_EQ(pts[24]["used"], 4);
  EXPECT_EQ(pts[24]["remaining"], 6);
  EXPECT_EQ(d["generated_at"], "2026-11-28T12:00:00.000Z");
  EXPECT_EQ(d["remaining"].size(), 29u) << "the 6-hour grid over the range is unchanged";
  // Credits: the range's own 6-hour samples.
  const Json c = e.usage_document("c", now, 7);
  EXPECT_EQ(c["history"]["basis"], "range");
  EXPECT_EQ(c["history"]["points"].size(), c["remaining"].size());
  EXPECT_EQ(c["forecast"]["until"], "horizon");
  EXPECT_EQ(c["forecast"]["end"], "2026-12-05T12:00:00.000Z");
  EXPECT_EQ(e.usage_document("nope", now, 7)["error"], "unknown package \"nope\"");
}

TEST(UsageDocument, ForecastAgreesWithTheQuotasDocumentForEveryTemplatePackage) {
  Engine e;
  ASSERT_TRUE(e.load_catalog(Slurp(std::string(QG_SOURCE_DIR) + "/docs/examples/metadata/packages/catalog.v1.json"), "catalog.v1.json").ok);
  int64_t t = T("2026-11-25T00:00:00Z");
  int n = 0;
  for (const auto& p : e.catalog().packages)
    for (int k = 0; k < 12; ++k) e.record_usage(Ev(iso(t + (n++ % 97) * 2718281).c_str(), p.provider_id.c_str(), "m", 0.05));
  std::set<std::string> kinds;
  for (const char* at : {"2026-11-28T12:00:00Z", "2026-11-28T23:30:00Z", "2026-11-30T06:00:00Z"}) {
    const int64_t now = T(at);
    const Json quotas = e.quotas_document(now);
    for (const auto& p : e.catalog().packages) {
      const Json u = e.usage_document(p.id, now, 7);
      const Json* q = PackageIn(quotas, p.id);
      ASSERT_NE(q, nullptr) << p.id;
      ExpectAgrees(u["forecast"], *q, p.id + " at " + at);
      EXPECT_EQ(u["history"]["points"].back()["remaining"], (*q)["remaining"]);
      kinds.insert(u["forecast"]["until"].get<std::string>());
    }
  }
  EXPECT_GE(kinds.size(), 3u);
}

TEST(UsageDocument, EachAccountHasItsOwnForecast) {
  Engine e = EngineWith(R"({"w":{"provider_id":"sub","package_type":"rolling_window","window_hours":5,"limit_per_window":10}})");
  ASSERT_EQ(e.configure(R"({"providers":[{"id":"sub","auth":"client","models":["*"]}]})"), "");
  ASSERT_TRUE(e.add_account("sub", "aaaaaaaaaaaa"));
  ASSERT_TRUE(e.add_account("sub", "bbbbbbbbbbbb"));
  for (int i = 0; i < 6; ++i) {
    UsageEvent ev = Ev("2026-11-28T11:00:00Z", "sub", "m");
    ev.account = i < 5 ? "aaaaaaaaaaaa" : "bbbbbbbbbbbb";
    e.record_usage(ev);
  }
  const int64_t now = T("2026-11-28T12:00:00Z");
  const Json quotas = e.quotas_document(now);
  for (const char* account : {"aaaaaaaaaaaa", "bbbbbbbbbbbb"}) {
    const Json u = e.usage_document("w", now, 7, account);
    EXPECT_EQ(u["account_id"], account);
    const Json* q = PackageIn(quotas, "w", account);
    ASSERT_NE(q, nullptr) << account;
    ExpectAgrees(u["forecast"], *q, account);
  }
  EXPECT_EQ(e.usage_document("w", now, 7, "aaaaaaaaaaaa")["forecast"]["points"][0]["remaining"], 5);
  EXPECT_EQ(e.usage_document("w", now, 7, "bbbbbbbbbbbb")["forecast"]["points"][0]["remaining"], 9);
  EXPECT_EQ(e.usage_document("w", now, 7, "aaaaaaaaaaaa")["forecast"]["until"], "exhaustion");
}

// A trickle of use on a large balance without expiry: exhaustion in centuries is drawn to the 30-day
// display horizon (the card's 7 days of history stay readable), and exhausts_at still says when.
TEST(PackageForecast, AnExhaustionCenturiesAwayIsDrawnToTheHorizon) {
  QuotaStatus s;
  s.package_type = PackageType::kCredits;
  s.alert = "ok";
  s.total = 10;
  s.remaining = 10;
  s.projection_per_day = 0.00001;
  const int64_t now = 1795867200000;
  s.exhausts_at = now + static_cast<int64_t>(1e6) * kMsPerDay;
  const PackageForecast f = package_forecast(s, now, 7 * kMsPerDay);
  EXPECT_EQ(f.until, "horizon");
  ASSERT_EQ(f.points.size(), 2u);
  EXPECT_EQ(f.points[1].t_ms, now + 30 * kMsPerDay);
  EXPECT_NEAR(f.points[1].remaining, 10 - 0.0003, 1e-9);
  EXPECT_EQ(f.exhausts_at, s.exhausts_at);
  s.exhausts_at = now + 20 * kMsPerDay;  // within the horizon: drawn to exhaustion
  EXPECT_EQ(package_forecast(s, now, 7 * kMsPerDay).until, "exhaustion");
}
