// What-if simulator: quota-aware routing spends expiring credits that the naive policy wastes,
// window resets count as lost capacity, unserved requests are counted, and bad scenarios are
// errors as values.
#include "engine_fixture.hpp"
#include "quotagate/simulator.hpp"

using namespace qg;

namespace {
Json sim(const Engine& e, const char* at, const std::string& scenario) {
  return Json::parse(simulate_json(e.state_document(T(at)).dump(), scenario));
}
}  // namespace

TEST(Simulator, QuotaAwareSpendsExpiringCreditsNaiveWastesThem) {
  Engine e = EngineWith(R"({
    "deepseek":{"provider_id":"deepseek","total_credits":10,"used_credits":0,"models":["m"]},
    "kilo":{"provider_id":"kilo","total_credits":5,"used_credits":0,"expiry_date":"2026-12-02","models":["m"]}})");
  const Json r = sim(e, "2026-11-28T00:00:00Z",
                     R"({"horizon_hours":168,"traffic":[{"model":"m","per_hour":2,"cost_per_request":0.05}]})");
  ASSERT_FALSE(r.contains("error")) << r.dump();
  const Json& aware = r["policies"]["quota_aware"];
  const Json& naive = r["policies"]["naive"];
  EXPECT_EQ(aware["requests"], 336);
  EXPECT_EQ(aware["served"], 300);  // $15 of credits at $0.05: 300 requests, then nothing is left
  EXPECT_EQ(aware["unserved"], 36);
  // Naive: deepseek first in order for 100 h, then kilo for the 20 h before it expires (at the end of
  // 2026-12-02, 120 h in): $2 spent, $3 lost. Aware: kilo first, all $5 spent within 50 h.
  EXPECT_DOUBLE_EQ(naive["packages"][1]["wasted_money"].get<double>(), 3.0);
  EXPECT_LT(aware["packages"][1]["wasted_money"].get<double>(), 0.01);
  ASSERT_GE(r["comparison"]["messages"].size(), 1u);
  EXPECT_EQ(r["comparison"]["messages"][0], "quota-aware routing uses $3.00 of kilo credits that would otherwise expire");
  EXPECT_EQ(r["comparison"]["wasted_money_saved"]["USD"], 3.0);
  EXPECT_EQ(aware["share"]["kilo"], 100);
}

TEST(Simulator, DailyResetsCountLostCapacityAndExhaustionIsUnserved) {
  Engine e = EngineWith(R"({"q":{"provider_id":"qwen","package_type":"daily","limit_per_day":30,"models":["m"]}})");
  const Json r = sim(e, "2026-11-28T00:00:00Z", R"({"horizon_hours":48,"policy":"quota_aware","traffic":[{"model":"m","per_hour":1}]})");
  const Json& a = r["policies"]["quota_aware"];
  EXPECT_EQ(a["requests"], 48);
  EXPECT_EQ(a["served"], 48);
  // 30 - 24 lost at the midnight inside the horizon. The reset at its very end is not in it: the
  // horizon is [start, end), and a loss at `end` belongs to the next one (every policy alike).
  EXPECT_DOUBLE_EQ(a["packages"][0]["wasted_units"].get<double>(), 6.0);
  const Json heavy = sim(e, "2026-11-28T00:00:00Z", R"({"horizon_hours":24,"policy":"quota_aware","traffic":[{"model":"m","per_hour":2}]})");
  const Json& h = heavy["policies"]["quota_aware"];
  EXPECT_EQ(h["served"], 30);
  EXPECT_EQ(h["unserved"], 18);
  EXPECT_EQ(h["packages"][0]["exhausts_at"], "2026-11-28T15:00:00.000Z");
}

TEST(Simulator, TweaksAndDisabledProvidersChangeTheOutcome) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":1,"models":["m"]},"b":{"provider_id":"b","total_credits":100,"models":["m"]}})");
  const Json base = sim(e, "2026-11-28T00:00:00Z", R"({"horizon_hours":24,"policy":"quota_aware","traffic":[{"model":"m","per_hour":10,"cost_per_request":0.1}]})");
  const Json tweaked = sim(e, "2026-11-28T00:00:00Z", R"({"horizon_hours":24,"policy":"quota_aware","disable_providers":["b"],
    "tweaks":[{"package_id":"a","add_credits":5}],"traffic":[{"model":"m","per_hour":10,"cost_per_request":0.1}]})");
  EXPECT_EQ(base["policies"]["quota_aware"]["unserved"], 0);
  EXPECT_EQ(tweaked["policies"]["quota_aware"]["served"], 60);
  EXPECT_EQ(tweaked["policies"]["quota_aware"]["unserved"], 180);
}

TEST(Simulator, BadScenariosAreErrorValues) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":1,"models":["m"]}})");
  const std::string state = e.state_document(T("2026-11-28T00:00:00Z")).dump();
  EXPECT_NE(simulate_json(state, "{").find("invalid JSON"), std::string::npos);
  EXPECT_NE(simulate_json(state, R"({"traffic":[]})").find("traffic: expected a non-empty list"), std::string::npos);
  EXPECT_NE(simulate_json(state, R"({"horizon_hours":99999,"traffic":[{"per_hour":1}]})").find("horizon_hours"), std::string::npos);
  EXPECT_NE(simulate_json(state, R"({"policy":"yolo","traffic":[{"per_hour":1}]})").find("policy"), std::string::npos);
  EXPECT_NE(simulate_json(state, R"({"tweaks":[{"package_id":"zzz"}],"traffic":[{"per_hour":1}]})").find("unknown package"), std::string::npos);
  EXPECT_NE(simulate_json("[]", R"({"traffic":[{"per_hour":1}]})").find("state"), std::string::npos);
  EXPECT_NE(simulate_json(state, R"({"start":1e300,"traffic":[{"per_hour":1}]})").find("start: expected an ISO-8601 instant"), std::string::npos);
}

// The state comes from the browser: a hand-edited or corrupt recent event is named, never read
// with an out-of-range conversion.
TEST(Simulator, BadRecentEventsAreNamed) {
  Engine e = EngineWith(R"({"a":{"provider_id":"a","total_credits":1,"models":["m"]}})");
  Json state = e.state_document(T("2026-11-28T00:00:00Z"));
  const std::string scenario = R"({"traffic":[{"per_hour":1}]})";
  for (const char* bad : {R"([1e300,"a","m",200,0,0,0,1])", R"([1795867200000,"a","m",1e300,0,0,0,1])", R"([1795867200000,"a","m",200,0,-1,0,1])",
                          R"([1795867200000,7,"m",200,0,0,0,1])", R"([1795867200000,"a","m",200,0,0,0,0])", R"("x")"}) {
    state["recent_events"] = Json::array({Json::array({1795867200000LL, "a", "m", 200, 0.5, 1, 2, 1}), Json::parse(bad)});
    EXPECT_NE(simulate_json(state.dump(), scenario).find("state.recent_events[1]: expected [ts_ms, provider, model"), std::string::npos) << bad;
  }
}
