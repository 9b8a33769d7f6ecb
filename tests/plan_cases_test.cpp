// The cases issue 16 handed over, each as the right value: admission by the tightest window,
// model weights by family, a 429's cooldown scope, model groups, the model "auto" sends, the
// simulator's capacity, losses and spending, and the hindsight solver on a case where the greedy
// order matters.
#include "engine_fixture.hpp"
#include "quotagate/header_parser.hpp"
#include "quotagate/hindsight.hpp"
#include "quotagate/simulator.hpp"

using namespace qg;

namespace {
const int64_t kNow = T("2026-12-01T12:00:00Z");

Json sim(const Engine& e, int64_t at, const std::string& scenario) {
  return Json::parse(simulate_json(e.state_document(at).dump(), scenario));
}
}  // namespace

TEST(PlanCases, AHeavyRequestIsNotAdmittedWithLessLeftThanItsWeight) {
  // Claude Pro with 1.5 of 45 left in its session: a weight-5 Opus request goes to Max, whose
  // session has room; a Sonnet request (weight 1) still fits Pro. Before, Pro took the Opus
  // request and ended at 48.5 used of 45.
  Engine e = EngineWith(R"({
    "pro":{"provider_id":"pro","package_type":"rolling_window","window_hours":5,"limit_per_window":45,"window_mode":"fixed",
           "model_weights":{"claude-opus-4-5":5,"claude-sonnet-4-5":1},"models":["claude-*"]},
    "max":{"provider_id":"max","package_type":"rolling_window","window_hours":5,"limit_per_window":225,"window_mode":"fixed",
           "model_weights":{"claude-opus-4-5":5,"claude-sonnet-4-5":1},"models":["claude-*"]}})");
  UsageEvent used = Ev("2026-12-01T11:00:00Z", "pro", "claude-sonnet-4-5");
  used.count = 43.5;
  e.record_usage(used);
  UsageEvent busy = Ev("2026-12-01T11:00:00Z", "max", "claude-sonnet-4-5");
  busy.count = 100;
  e.record_usage(busy);
  ASSERT_EQ(StatusOf(e, "pro", kNow).remaining, 1.5);
  const RouteDecision opus = e.route("claude-opus-4-8", kNow);  // a version the catalog does not list
  EXPECT_EQ(opus.provider_id, "max");
  bool pro_excluded = false;
  for (const auto& c : opus.ranked)
    if (c.provider_id == "pro") pro_excluded = c.excluded && c.exclusion.find("needs 5 units") != std::string::npos;
  EXPECT_TRUE(pro_excluded);
  EXPECT_EQ(e.route("claude-sonnet-4-5", kNow).provider_id, "pro");  // capacity lost sooner: pro's session
}

TEST(PlanCases, ModelWeightsFollowFamiliesAndCutAtVersionBoundaries) {
  Package p;
  p.model_weights = {{"claude-opus-4-5", 5}, {"claude-haiku-4-5", 0.5}, {"gpt-4", 2}, {"gpt-5-thinking", 4}};
  EXPECT_EQ(p.weight_for("claude-opus-4-5"), 5);
  EXPECT_EQ(p.weight_for("claude-opus-4-8"), 5);          // same family, newer version
  EXPECT_EQ(p.weight_for("claude-opus-4-5-20251101"), 5);  // a dated snapshot
  EXPECT_EQ(p.weight_for("claude-haiku-5"), 0.5);
  EXPECT_EQ(p.weight_for("gpt-4-turbo"), 2);               // a name boundary after the key
  EXPECT_EQ(p.weight_for("gpt-4.1-mini"), 1);              // 4 -> 4.1 continues the version: not gpt-4
  EXPECT_EQ(p.weight_for("gpt-4o"), 1);                    // no boundary
  EXPECT_EQ(p.weight_for("gpt-5.1-thinking"), 4);          // family gpt-thinking
  EXPECT_EQ(model_family("claude-3-5-sonnet-20241022"), "claude-sonnet");
  EXPECT_EQ(weight_key_match("gpt-4", "gpt-4.1-mini"), 0);
}

TEST(PlanCases, A429CoolsThePackagesServingItsModelNotTheProvider) {
  // Gemini: one daily quota per model. A 429 for 2.5 Pro leaves Flash open, in the gateway's
  // router and in the simulator alike.
  Engine e = EngineWith(R"({
    "gemini-pro-daily":{"provider_id":"gemini","package_type":"daily","limit_per_day":100,"models":["gemini-2.5-pro"]},
    "gemini-flash-daily":{"provider_id":"gemini","package_type":"daily","limit_per_day":250,"models":["gemini-2.5-flash"]}})");
  const ObserveResult r = e.observe("gemini", "", "gemini-2.5-pro", 429, parse_header_lines("retry-after: 3600"), "", 100, kNow);
  EXPECT_EQ(r.cooldown_scope, "package");
  EXPECT_TRUE(e.route("gemini-2.5-pro", kNow).all_excluded);
  const RouteDecision flash = e.route("gemini-2.5-flash", kNow);
  EXPECT_FALSE(flash.all_excluded);
  EXPECT_EQ(flash.package_id, "gemini-flash-daily");
  // Repeated 429s are quota statements, not failures: the provider stays healthy.
  for (int i = 0; i < 5; ++i) e.observe("gemini", "", "gemini-2.5-pro", 429, {}, "", 100, kNow + i);
  EXPECT_EQ(e.route("gemini-2.5-flash", kNow + 10).provider_id, "gemini");
  const Json doc = e.state_document(kNow + 10);
  EXPECT_EQ(doc["quotas"]["cooldowns"]["gemini gemini-pro-daily"]["scope"], "package");
}

TEST(PlanCases, ModelGroupsOrderedAndUseOrLose) {
  Engine e = EngineWith(R"({
    "sub":{"provider_id":"claude","package_type":"rolling_window","window_hours":5,"limit_per_window":45,"models":["claude-*"]},
    "or":{"provider_id":"openrouter","total_credits":10,"models":["anthropic/*"]},
    "ds":{"provider_id":"deepseek","package_type":"daily","limit_per_day":100,"models":["deepseek-chat"]}})");
  ASSERT_EQ(e.configure(R"({"providers":[{"id":"claude","models":["claude-*"]},{"id":"openrouter","models":["anthropic/*"]},
    {"id":"deepseek","models":["deepseek-chat"]}],
    "model_groups":{"claude-sonnet-4-5":{"members":["claude/claude-sonnet-4-5","openrouter/anthropic/claude-sonnet-4.5","deepseek/deepseek-chat"],
                                          "strategy":"ordered"},
                    "cheap":{"members":["openrouter/anthropic/claude-sonnet-4.5","deepseek/deepseek-chat"]}}})"),
            "");
  const RouteDecision d = e.route("claude-sonnet-4-5", kNow);
  EXPECT_EQ(d.provider_id, "claude");
  EXPECT_EQ(d.model, "claude-sonnet-4-5");
  // Members in order, skipping a cooling one.
  e.observe("claude", "", "claude-sonnet-4-5", 429, parse_header_lines("retry-after: 600"), "", 100, kNow);
  const RouteDecision next = e.route("claude-sonnet-4-5", kNow);
  EXPECT_EQ(next.provider_id, "openrouter");
  EXPECT_EQ(next.model, "anthropic/claude-sonnet-4.5");  // the member's own name goes upstream
  // use_or_lose: the plan chooses; the free daily quota costs nothing, the credits cost money.
  const RouteDecision cheap = e.route("cheap", kNow);
  EXPECT_EQ(cheap.provider_id, "deepseek");
  EXPECT_EQ(cheap.model, "deepseek-chat");
  EXPECT_NE(e.configure(R"({"model_groups":{"g":{"members":["no-slash"]}}})").find("members[0]: expected \"provider/model\""), std::string::npos);
  EXPECT_NE(e.configure(R"({"model_groups":{"g":{"members":["a/b"],"strategy":"random"}}})").find("strategy"), std::string::npos);
}

TEST(PlanCases, AutoSendsAModelTheProviderServes) {
  // Pattern-only packages have no concrete model for "auto" unless the provider names one.
  Engine e = EngineWith(R"({
    "blackbox":{"provider_id":"blackbox","total_credits":20,"expiry_date":"2027-01-15","models":["blackboxai/*"]},
    "pro":{"provider_id":"pro","package_type":"rolling_window","window_hours":5,"limit_per_window":45,
           "model_weights":{"claude-opus-4-5":5,"claude-sonnet-4-5":1,"claude-haiku-4-5":0.5}}})");
  RouteDecision d = e.route("auto", kNow);
  for (const auto& c : d.ranked) {
    EXPECT_NE(c.provider_id, "blackbox");  // nothing concrete to send
    if (c.provider_id == "pro") EXPECT_EQ(c.model, "claude-sonnet-4-5");  // the weight-1 model, not Opus
  }
  ASSERT_EQ(e.configure(R"({"providers":[{"id":"blackbox","models":["blackboxai/*","blackboxai/blackbox-pro"]},
    {"id":"pro","models":["claude-*"]}]})"), "");
  d = e.route("auto", kNow);
  bool found = false;
  for (const auto& c : d.ranked)
    if (c.provider_id == "blackbox") found = c.model == "blackboxai/blackbox-pro";
  EXPECT_TRUE(found);
}

TEST(PlanCases, SimulatorNeverOverspendsCreditsAndCountsEveryWindow) {
  // The demo's blackbox credits ($20) under naive auto traffic for 7 days: never more than $20,
  // and exhausted once spent.
  Engine e = EngineWith(R"({
    "blackbox-credits":{"provider_id":"blackbox","total_credits":20,"expiry_date":"2027-01-15","models":["blackboxai/*"]}})");
  ASSERT_EQ(e.configure(R"({"providers":[{"id":"blackbox","models":["blackboxai/*","blackboxai/blackbox-pro"]}]})"), "");
  Json r = sim(e, kNow, R"({"horizon_hours":168,"policy":"naive","traffic":[{"model":"auto","per_hour":100,"cost_per_request":0.01}]})");
  ASSERT_FALSE(r.contains("error")) << r.dump();
  const Json& p = r["policies"]["naive"]["packages"][0];
  EXPECT_EQ(p["used_units"], 20.0);
  EXPECT_FALSE(p["exhausts_at"].is_null());
  EXPECT_EQ(r["policies"]["naive"]["served"], 2000);

  // A weekly window binds with hourly slots, and its loss at a reset counts.
  Engine w = EngineWith(R"({"sub":{"provider_id":"claude","package_type":"rolling_window","window_hours":5,"limit_per_window":45,
    "window_mode":"fixed","secondary_windows":[{"name":"7d","window_hours":168,"limit":100,"window_mode":"fixed"}],
    "models":["claude-sonnet-4-5"],"monthly_price":20}})");
  UsageEvent spent = Ev("2026-11-28T12:00:00Z", "claude", "claude-sonnet-4-5");
  spent.count = 90;  // 10 left in the week, which resets 2026-12-05T12:00Z
  w.record_usage(spent);
  r = sim(w, kNow, R"({"horizon_hours":168,"slot_minutes":60,"policy":"naive","traffic":[{"model":"claude-sonnet-4-5","per_hour":20}]})");
  const Json& n = r["policies"]["naive"];
  // 10 before the weekly reset, then 100 in the next week (which resets after the horizon).
  EXPECT_EQ(n["packages"][0]["used_units"], 110.0);
  EXPECT_EQ(n["packages"][0]["wasted_by_window"]["7d"], 0.0);
  r = sim(w, kNow, R"({"horizon_hours":168,"slot_minutes":60,"policy":"naive","traffic":[{"model":"claude-sonnet-4-5","per_hour":0.1}]})");
  const Json& light = r["policies"]["naive"];
  // The week resets inside the horizon with capacity left: that loss counts, at the unit value
  // the monthly price gives (20 USD / (100 x 30/7) units).
  const double lost = light["packages"][0]["wasted_by_window"]["7d"].get<double>();
  EXPECT_GT(lost, 0);
  EXPECT_NEAR(light["lost_value_usd"].get<double>(), lost * 20 / (100 * 30.0 / 7), 1e-3);
}

TEST(PlanCases, PayAsYouGoProvidersCostMoney) {
  Engine e = EngineWith(R"({"free":{"provider_id":"free","package_type":"daily","limit_per_day":10,"models":["m"]}})");
  ASSERT_EQ(e.configure(R"({"providers":[{"id":"free","models":["m"]},{"id":"openrouter","models":["m"]}]})"), "");
  const Json r = sim(e, T("2026-12-01T00:00:00Z"), R"({"horizon_hours":24,"policy":"quota_aware","traffic":[{"model":"m","per_hour":1,"cost_per_request":0.05}]})");
  const Json& a = r["policies"]["quota_aware"];
  EXPECT_EQ(a["share"]["free"], 10);
  EXPECT_EQ(a["share"]["openrouter"], 14);
  EXPECT_NEAR(a["spent_usd"].get<double>(), 0.7, 1e-9);
  EXPECT_NEAR(a["cost_usd"].get<double>(), 0.7, 1e-9);
}

TEST(PlanCases, HindsightSolverServesEarliestDeadlinesAndPrefersCheapCapacity) {
  // Two slots of 10 requests. A: 10 usable only in slot 0 (free). B: 10 usable in both slots
  // (free). C: unlimited at $1. Opening A and B together must route slot 0 to A and slot 1 to B:
  // nothing paid.
  HindsightProblem pb;
  pb.start_ms = 0;
  pb.slot_ms = 1000;
  pb.demand = {{10, 10}};
  HindsightCandidate a, b, c;
  a.levels = {{{0, 1000, 10, 0}}};
  b.levels = {{{0, 2000, 10, 0}}};
  c.cost_usd = 1;
  a.serves = b.serves = c.serves = {true};
  pb.candidates = {b, a, c};  // B listed first: the flow must still re-route slot 0 to A
  const HindsightPlan plan = solve_hindsight(pb);
  EXPECT_EQ(plan.served, 20);
  EXPECT_EQ(plan.unserved, 0);
  EXPECT_EQ(plan.cost_usd, 0);
  // A 5 h period that straddles a weekly reset is cut, each piece keeping the limit (a bound).
  HindsightProblem nested;
  nested.start_ms = 0;
  nested.slot_ms = 1000;
  nested.demand = {{5, 5, 5, 5}};
  HindsightCandidate s;
  s.levels = {{{0, 4000, 6, 0}}, {{0, 2000, 100, -1}, {2000, 4000, 100, -1}}};
  s.serves = {true};
  nested.candidates = {s};
  EXPECT_EQ(solve_hindsight(nested).served, 12);
}
