// Router: the plan's order (cost, value at risk, time to loss; health, failures and latency as
// constraints and tie-breaks), admission, exclusions, the least-bad fallback, tie-breaks, and the
// use-or-lose regression faigate got backwards.
#include "engine_fixture.hpp"
#include "quotagate/router.hpp"

#include <algorithm>
#include <map>

#include "../core/src/plan_forecast.hpp"  // plan::order_by_key, internal to the router

using namespace qg;

namespace {
const int64_t kNow = T("2026-11-28T00:00:00Z");

QuotaStatus credits(const std::string& id, double ratio, std::optional<double> days_to_expiry = std::nullopt) {
  QuotaStatus s;
  s.package_id = id;
  s.provider_id = id;
  s.package_type = PackageType::kCredits;
  s.total = 100;
  s.remaining = ratio * 100;
  s.remaining_ratio = ratio;
  s.days_until_expiry = days_to_expiry;
  if (days_to_expiry) s.expires_at = kNow + static_cast<int64_t>(*days_to_expiry * 86400000);
  return s;
}

// A daily package with `left` of `limit` weighted requests, resetting in `hours`, whose ledger
// forecasts `burn` units a day.
QuotaStatus window(const std::string& id, double left, double limit, double hours, double burn = 0) {
  QuotaStatus s;
  s.package_id = id;
  s.provider_id = id;
  s.package_type = PackageType::kDaily;
  s.window_hours = 24;
  s.total = limit;
  s.remaining = left;
  s.remaining_ratio = left / limit;
  s.reset_at = s.primary_reset_at = kNow + static_cast<int64_t>(hours * 3600000);
  s.burn_per_day = burn;
  return s;
}

double term(const RankedCandidate& c, const std::string& name) {
  for (const auto& t : c.terms)
    if (t.first == name) return t.second;
  ADD_FAILURE() << "no term " << name;
  return -1;
}

// Inputs pointing at statuses and per-candidate health records owned by the test. Packages are
// plain (unit value: 1 USD per credit, 0 for windows) unless `packages` says otherwise.
struct Inputs {
  std::vector<ProviderHealth> health;
  std::vector<Package> packages;
  std::vector<RouteView> views;
  std::vector<RouteCandidateInput> in;
  explicit Inputs(std::vector<QuotaStatus>& st, std::vector<Package> pk = {}) : health(st.size()), packages(std::move(pk)) {
    packages.resize(st.size());
    for (size_t i = 0; i < st.size(); ++i) {
      packages[i].type = st[i].package_type;
      views.push_back(route_view_of(st[i], packages[i], &st[i].package_id, kNow));
    }
    for (size_t i = 0; i < st.size(); ++i) in.push_back({&st[i].provider_id, &views[i], &health[i]});
  }
};

// n candidates alternating credits and daily windows, with varied deadlines and amounts.
std::vector<QuotaStatus> mixed_statuses(int n) {
  std::vector<QuotaStatus> st;
  for (int i = 0; i < n; ++i) {
    const std::string id = "p" + std::to_string(i);
    if (i % 2) st.push_back(window(id, 10 + i % 37, 100, 1 + (i * 7) % 23));
    else st.push_back(credits(id, 0.1 + (i % 9) / 10.0, 1 + (i * 5) % 17));
  }
  return st;
}

const RankedCandidate& find(const RouteDecision& d, const std::string& provider) {
  for (const auto& c : d.ranked)
    if (c.provider_id == provider) return c;
  throw std::runtime_error("no candidate " + provider);
}
}  // namespace

TEST(RouterPlan, CapacityLostSoonestWinsOverAKnownLatency) {
  // The issue's case: a daily package with a measured fast latency resets in 20 h; another, whose
  // latency is unknown, resets in 2 h with capacity the forecast leaves unused. Points let the
  // latency win; the plan takes the capacity lost soonest.
  // The pooled forecast (60 a day between them, 5 in the 2 h) leaves 195 of "soon" unused.
  std::vector<QuotaStatus> st = {window("slow-reset", 900, 1000, 20), window("soon", 200, 250, 2)};
  Inputs x(st);
  for (auto& v : x.views) v.recent_per_h = 30.0 / 24;
  x.health[0].latency_ms = 120;
  const RouteDecision d = decide_route("m", x.in, RouterWeights{}, kNow);
  EXPECT_EQ(d.provider_id, "soon");
  EXPECT_EQ(term(find(d, "soon"), "hours_to_loss"), 2);
  EXPECT_EQ(term(find(d, "soon"), "at_risk"), 195);
  EXPECT_EQ(term(find(d, "slow-reset"), "latency_ms"), 120);
  EXPECT_EQ(term(find(d, "soon"), "latency_ms"), -1);
  EXPECT_NE(d.reason.find("lost at the reset in 2.0 h"), std::string::npos) << d.reason;
  // Latency decides only between otherwise equal candidates.
  std::vector<QuotaStatus> eq = {window("a", 100, 100, 5), window("b", 100, 100, 5)};
  Inputs y(eq);
  y.health[0].latency_ms = 2000;
  y.health[1].latency_ms = 100;
  EXPECT_EQ(decide_route("m", y.in, RouterWeights{}, kNow).provider_id, "b");
}

TEST(RouterPlan, FreeAndExpiringCapacityCostNothingDurableCreditsAndPaygCostMoney) {
  // durable: credits that never expire, 2 cents a request. expiring: 50 credits expiring in 10
  // days that the pooled forecast (1 USD over the last day: 50 requests a day, all of which the
  // free daily window of 100 could take) cannot reach. window: free. payg: 3 cents.
  std::vector<QuotaStatus> st = {credits("durable", 0.5), credits("expiring", 0.5, 10), window("window", 10, 100, 4)};
  Inputs x(st);
  x.views[1].recent_per_h = 1.0 / 24;
  x.views[0].cost_per_request = 0.02;
  x.views[1].cost_per_request = 0.02;
  std::string payg_id = "payg";
  RouteCandidateInput payg{&payg_id, nullptr, nullptr};
  payg.payg_cost_usd = 0.03;
  x.in.insert(x.in.begin(), payg);
  const RouteDecision d = decide_route("m", x.in, RouterWeights{}, kNow);
  ASSERT_EQ(d.ranked.size(), 4u);
  // expiring: all 50 of its credits are lost anyway, so the 2 cents of one request would be lost
  // too: it costs nothing, and its value at risk puts it before the free window.
  EXPECT_EQ(d.ranked[0].provider_id, "expiring");
  EXPECT_EQ(term(d.ranked[0], "cost_usd"), 0);
  EXPECT_EQ(term(d.ranked[0], "at_risk_usd"), 50);
  EXPECT_NEAR(term(d.ranked[0], "urgency_usd_per_h"), 50.0 / 240, 1e-6);
  EXPECT_EQ(d.ranked[1].provider_id, "window");
  EXPECT_EQ(d.ranked[2].provider_id, "durable");
  EXPECT_NEAR(term(d.ranked[2], "cost_usd"), 0.02, 1e-9);
  EXPECT_EQ(d.ranked[3].provider_id, "payg");
  EXPECT_NE(d.ranked[3].why.find("pay as you go"), std::string::npos);
  // Credits the forecast spends before expiry (30 USD a day: 1,500 requests a day) cost their
  // price again.
  Inputs y(st);
  y.views[1].recent_per_h = 30.0 / 24;
  y.views[1].cost_per_request = 0.02;
  const RouteDecision e = decide_route("m", y.in, RouterWeights{}, kNow);
  EXPECT_EQ(e.provider_id, "window");
  EXPECT_NEAR(term(find(e, "expiring"), "cost_usd"), 0.02, 1e-9);
}

TEST(RouterPlan, AWindowWhoseWeeklyWindowTheForecastSpendsIsNotAboutToBeLost) {
  // Two accounts of one subscription, both weeks resetting in 3 days, the ledger showing 60 units
  // over the last day on each (5 an hour pooled: 360 by the reset). A: 40 of 45 left in its 5 h
  // window, resetting in 1 h, but only 30 left in its week: the forecast spends them, so its
  // session is not about to be lost. B: 45 in its session (20 of them beyond its own pace) and
  // 800 in its week, which the forecast cannot reach.
  auto sub = [](const std::string& id, double left, double session_hours, double session_risk, double week_left) {
    QuotaStatus s = window(id, left, 45, session_hours, 60);
    s.package_type = PackageType::kRollingWindow;
    s.window_hours = 5;
    s.expiring_capacity = session_risk;
    s.secondary_windows.push_back(SecondaryStatus{"7d", 168, 900, 900 - week_left, week_left, week_left / 900, kNow + 3 * 86400000LL, false});
    return s;
  };
  std::vector<QuotaStatus> st = {sub("a", 40, 1, 40, 30), sub("b", 45, 4, 20, 800)};
  Inputs x(st);
  for (auto& v : x.views) v.recent_per_h = 60.0 / 24;
  EXPECT_EQ(x.views[0].headroom, 30);
  const RouteDecision d = decide_route("m", x.in, RouterWeights{}, kNow);
  EXPECT_EQ(d.provider_id, "b");
  EXPECT_EQ(term(find(d, "a"), "at_risk"), 0);
  EXPECT_EQ(term(find(d, "b"), "at_risk"), 20);  // the session's own pace bounds what its reset loses
  EXPECT_EQ(term(find(d, "b"), "hours_to_loss"), 4);
}

TEST(RouterPlan, AScarceWindowIsWorthWhatItsDemandWouldPayElsewhere) {
  // A $20 plan's week the forecast spends anyway (nothing at risk): its units are worth what a
  // Sonnet request (weight 1) pays at OpenRouter, $0.02 a unit, not the plan's $0.005. An Opus
  // request (weight 5) then costs $0.10 there and $0.08 at OpenRouter: it goes to OpenRouter, and
  // the week serves Sonnet, which saves more per unit.
  std::vector<QuotaStatus> st = {window("plan", 900, 900, 100)};
  st[0].package_type = PackageType::kRollingWindow;
  Package plan;
  plan.type = PackageType::kRollingWindow;
  plan.monthly_price = 20;
  plan.limit_per_window = 900;
  plan.window_hours = 168;
  Inputs x(st, {plan});
  x.views[0].recent_per_h = 100;  // far more demand than the week holds
  std::string or_id = "openrouter";
  RouteCandidateInput payg{&or_id, nullptr, nullptr};
  payg.payg_cost_usd = 0.08;
  x.in.push_back(payg);
  x.in[0].weight = 5;
  x.in[0].shadow_per_unit = 0.02;
  const RouteDecision opus = decide_route("claude-opus-4-5", x.in, RouterWeights{}, kNow);
  EXPECT_EQ(opus.provider_id, "openrouter");
  EXPECT_NEAR(term(find(opus, "plan"), "cost_usd"), 0.10, 1e-9);
  x.in[0].weight = 1;
  x.in[1].payg_cost_usd = 0.02;
  EXPECT_EQ(decide_route("claude-sonnet-4-5", x.in, RouterWeights{}, kNow).provider_id, "plan");  // a tie: the deadline decides
}

TEST(RouterPlan, AdmissionSendsAHeavyRequestWhereItFits) {
  // The issue's case: a weight-5 Opus request with 1.5 units left must not be admitted.
  std::vector<QuotaStatus> st = {window("pro", 1.5, 45, 1), window("max", 100, 225, 4)};
  Inputs x(st);
  x.in[0].weight = 5;
  x.in[1].weight = 5;
  const RouteDecision d = decide_route("m", x.in, RouterWeights{}, kNow);
  EXPECT_EQ(d.provider_id, "max");
  EXPECT_TRUE(find(d, "pro").excluded);
  EXPECT_NE(find(d, "pro").exclusion.find("needs 5 units, the tightest window has 1.5 left"), std::string::npos);
  // Alone, it is refused with the reset as the retry time.
  x.in.pop_back();
  const RouteDecision alone = decide_route("m", x.in, RouterWeights{}, kNow);
  EXPECT_TRUE(alone.all_excluded);
  EXPECT_EQ(*alone.retry_at, kNow + 3600000);
}

TEST(RouterPlan, HealthIsAConstraintAndGroupRankComesFirst) {
  std::vector<QuotaStatus> st = {window("sick", 100, 100, 1), window("well", 100, 100, 20)};
  Inputs x(st);
  x.health[0].consecutive_failures = 3;  // unhealthy from 3
  EXPECT_EQ(decide_route("m", x.in, RouterWeights{}, kNow).provider_id, "well");
  x.health[0].consecutive_failures = 0;
  EXPECT_EQ(decide_route("m", x.in, RouterWeights{}, kNow).provider_id, "sick");
  x.in[0].group_rank = 1;  // an ordered group names "well" first
  EXPECT_EQ(decide_route("m", x.in, RouterWeights{}, kNow).provider_id, "well");
}

TEST(RouterPlan, PolicyWithoutQuotaTermsIgnoresPackages) {
  std::vector<QuotaStatus> st = {credits("a", 0.0, 3), credits("b", 1.0, 3)};
  st[0].alert = "exhausted";
  Inputs x(st);
  auto& in = x.in;
  RouterWeights naive;
  naive.quota_aware = false;
  const RouteDecision d = decide_route("m", in, naive, kNow);
  EXPECT_EQ(d.provider_id, "a");  // configured order wins a tie; no exclusion on quota
  EXPECT_FALSE(d.ranked[0].excluded);
  EXPECT_EQ(term(d.ranked[1], "cost_usd"), 0);
}

TEST(RouterExclusions, ExhaustedExpiredAndCooldownAreExcluded) {
  std::vector<QuotaStatus> st = {credits("ex", 0.0), credits("exp", 0.9), credits("cool", 1.0), credits("fine", 0.1)};
  st[0].alert = "exhausted";
  st[1].alert = "expired";
  Inputs x(st);
  auto& in = x.in;
  x.health[2].cooldown_until = kNow + 60000;
  x.health[2].cooldown_reason = "429";
  const RouteDecision d = decide_route("m", in, RouterWeights{}, kNow);
  EXPECT_EQ(d.provider_id, "fine");
  EXPECT_FALSE(d.all_excluded);
  EXPECT_TRUE(find(d, "ex").excluded);
  EXPECT_EQ(find(d, "exp").exclusion, "expired");
  EXPECT_EQ(find(d, "cool").exclusion, "cooldown until 2026-11-28T00:01:00.000Z (429)");
}

TEST(RouterExclusions, AllExcludedPicksTheLeastBadAndGivesRetryAt) {
  std::vector<QuotaStatus> st;
  for (const char* id : {"a", "b", "c"}) {
    st.push_back(credits(id, 0.0));
    st.back().package_type = PackageType::kRollingWindow;
    st.back().alert = "exhausted";
  }
  st[0].reset_at = kNow + 3 * 3600 * 1000;
  st[1].reset_at = kNow + 1 * 3600 * 1000;
  st[2].alert = "ok";
  st[2].remaining_ratio = 1;
  st[2].remaining = 100;
  Inputs x(st);
  auto& in = x.in;
  x.health[2].cooldown_until = kNow + 30 * 60 * 1000;
  const RouteDecision d = decide_route("m", in, RouterWeights{}, kNow);
  EXPECT_TRUE(d.ok);
  EXPECT_TRUE(d.all_excluded);
  EXPECT_EQ(d.provider_id, "c");  // cooling down for 30 min beats exhausted for 1 h
  EXPECT_EQ(iso(*d.retry_at), "2026-11-28T00:30:00.000Z");
  EXPECT_NE(d.reason.find("all 3 candidates excluded; least bad: c"), std::string::npos);
}

TEST(RouterTieBreak, ConfiguredOrderDecidesEqualCandidates) {
  std::vector<QuotaStatus> st = {credits("z", 0.5), credits("a", 0.5)};
  Inputs x(st);
  auto& in = x.in;
  EXPECT_EQ(decide_route("m", in, RouterWeights{}, kNow).provider_id, "z");
  std::swap(in[0], in[1]);  // the configured order is the input order
  EXPECT_EQ(decide_route("m", in, RouterWeights{}, kNow).provider_id, "a");
}

TEST(RouterRegression, ExpiringKiloCreditsBeatNonExpiringDeepSeek) {
  // Kilo: 25 total, 12.4 used, expiring in 10 days, burning 0.5/day. DeepSeek: 10 total, half used, no expiry.
  Engine e = EngineWith(R"({
    "deepseek-credits":{"provider_id":"deepseek","total_credits":10,"used_credits":5,"last_updated":"2026-11-28T00:00:00Z",
                        "models":["deepseek-chat"]},
    "kilo-credits":{"provider_id":"kilo","total_credits":25,"used_credits":12.4,"expiry_date":"2026-12-07",
                    "last_updated":"2026-11-28T00:00:00Z","models":["kilo/auto"]}})");
  for (int d = 21; d <= 27; ++d) {
    const std::string ts = "2026-11-" + std::to_string(d) + "T12:00:00Z";
    e.record_usage(Ev(ts.c_str(), "kilo", "kilo/auto", 0.5));
  }
  const auto kilo = StatusOf(e, "kilo-credits", kNow);
  EXPECT_NEAR(kilo.used, 12.4, 1e-9);
  EXPECT_NEAR(*kilo.days_until_expiry, 10, 1e-9);
  EXPECT_NEAR(kilo.burn_per_day, 0.5, 0.02);
  EXPECT_EQ(kilo.alert, "use_or_lose");
  const RouteDecision d = e.route("auto", kNow);
  EXPECT_EQ(d.provider_id, "kilo");
  EXPECT_EQ(d.package_id, "kilo-credits");
  EXPECT_EQ(d.model, "kilo/auto");
  // 12.6 left. The last day's use (0.5 USD in the 12 hours since its first request there) is the
  // forecast: 1 USD a day, 10 USD by the expiry, so 2.6 USD are at risk.
  EXPECT_NEAR(term(d.ranked[0], "at_risk_usd"), 2.6, 1e-6);
  EXPECT_LT(term(d.ranked[0], "cost_usd"), term(d.ranked[1], "cost_usd"));
}

TEST(RouterHotPath, FastAndExplainedDecisionsAgree) {
  uint64_t seed = 7;
  auto next = [&] { return (seed = seed * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  for (int round = 0; round < 200; ++round) {
    std::vector<QuotaStatus> st;
    for (int i = 0; i < 12; ++i) {
      st.push_back(credits("p" + std::to_string(i), static_cast<double>(next() % 101) / 100, static_cast<double>(next() % 40)));
      const char* alerts[] = {"ok", "watch", "use_or_lose", "exhausted", "expired"};
      st.back().alert = alerts[next() % 5];
      st.back().expiring_capacity = static_cast<double>(next() % 100);
      st.back().reset_at = kNow + static_cast<int64_t>(next() % 7200000);
    }
    Inputs x(st);
    for (auto& h : x.health) {
      h.consecutive_failures = static_cast<int>(next() % 5);
      if (next() % 3 == 0) h.latency_ms = static_cast<double>(next() % 4000);
      if (next() % 4 == 0) h.cooldown_until = kNow + static_cast<int64_t>(next() % 600000);
    }
    const RouteDecision fast = decide_route("m", x.in, RouterWeights{}, kNow, false);
    const RouteDecision full = decide_route("m", x.in, RouterWeights{}, kNow, true);
    ASSERT_EQ(fast.provider_id, full.provider_id) << round;
    ASSERT_EQ(fast.provider_id, full.ranked.front().provider_id) << round;
    ASSERT_EQ(fast.reason, full.reason);
    ASSERT_EQ(fast.retry_at, full.retry_at);
    ASSERT_TRUE(fast.ranked.empty());
  }
}

// The forecast's lot order (plan::order_by_key) is a stable sort by key: the radix passes for many
// lots and the comparison sort for few agree with std::stable_sort, also for keys needing all 64 bits.
TEST(RouterPlan, LotOrderIsAStableSortByDeadline) {
  uint64_t x = 88172645463325252ULL;  // xorshift: deterministic keys with many ties
  auto next = [&] { x ^= x << 13, x ^= x >> 7, x ^= x << 17; return x; };
  for (size_t n : {0, 1, 2, 255, 256, 1000, 5000}) {
    for (int bits : {0, 3, 33, 64}) {
      std::vector<uint64_t> keys(n);
      std::vector<uint32_t> ids(n);
      for (size_t i = 0; i < n; ++i) keys[i] = bits == 0 ? 0 : bits == 64 ? next() : next() % (uint64_t{1} << bits), ids[i] = static_cast<uint32_t>(i * 3);
      std::vector<size_t> want(n);
      for (size_t i = 0; i < n; ++i) want[i] = i;
      std::stable_sort(want.begin(), want.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
      const std::vector<uint32_t> got = plan::order_by_key(keys, ids);
      ASSERT_EQ(got.size(), n);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], ids[want[i]]) << "n=" << n << " bits=" << bits << " at " << i;
    }
  }
}

// 1,000 candidates (the linear forecast, radix-sorted lots), some states listed twice as two group
// members would be: dense state ids and the pointer sort number the states alike, so every term
// and the winner agree.
TEST(RouterPlan, StateIdsAndPointersGiveTheSameForecast) {
  std::vector<QuotaStatus> st = mixed_statuses(1000);
  Inputs x(st);
  for (size_t i = 0; i < x.views.size(); ++i) x.views[i].recent_per_h = i % 50 ? 0.0 : 0.5;
  std::vector<RouteCandidateInput> dense = x.in, pointers = x.in;
  for (size_t i = 0; i < 1000; ++i) dense[i].state = static_cast<int>(i);
  for (size_t i = 0; i < 1000; i += 10) dense.push_back(dense[i]), pointers.push_back(x.in[i]);  // listed again
  const RouteDecision a = decide_route("m", dense, RouterWeights{}, kNow);
  const RouteDecision b = decide_route("m", pointers, RouterWeights{}, kNow);
  ASSERT_EQ(a.ranked.size(), b.ranked.size());
  EXPECT_EQ(a.winner, b.winner);
  std::map<std::string, std::vector<std::pair<std::string, double>>> terms_b;
  for (const auto& c : b.ranked) terms_b[c.provider_id] = c.terms;
  size_t at_risk = 0;
  for (size_t i = 0; i < a.ranked.size(); ++i) {
    EXPECT_EQ(a.ranked[i].terms, terms_b[a.ranked[i].provider_id]) << a.ranked[i].provider_id;
    EXPECT_EQ(a.ranked[i].provider_id, b.ranked[i].provider_id) << i;
    at_risk += term(a.ranked[i], "at_risk") > 0;
  }
  EXPECT_GT(at_risk, 0u);  // the forecast is not trivially empty
}

// The scratch's lot order is a hint: a stale, foreign or malformed one never changes a decision,
// and a valid one is kept for the next call.
TEST(RouterPlan, AStaleLotOrderHintNeverChangesTheDecision) {
  std::vector<QuotaStatus> st = mixed_statuses(400);
  Inputs x(st);
  for (size_t i = 0; i < x.views.size(); ++i) x.views[i].recent_per_h = i % 50 ? 0.0 : 0.5;
  const RouteDecision plain = decide_route("m", x.in, RouterWeights{}, kNow);
  RouteScratch scratch;
  const RouteDecision first = decide_route("m", x.in, RouterWeights{}, kNow, true, &scratch);
  ASSERT_EQ(scratch.lot_order.size(), 400u);  // every state has a deadline ahead
  const std::vector<uint32_t> valid = scratch.lot_order;
  std::vector<std::vector<uint32_t>> hints = {{}, {0, 1, 2}, valid, std::vector<uint32_t>(valid.rbegin(), valid.rend()), valid};
  hints[4][7] = 9999;  // out of range
  std::swap(hints[2][10], hints[2][11]);  // two lots out of order
  for (const auto& hint : hints) {
    scratch.lot_order = hint;
    const RouteDecision d = decide_route("m", x.in, RouterWeights{}, kNow, true, &scratch);
    EXPECT_EQ(d.winner, plain.winner);
    ASSERT_EQ(d.ranked.size(), plain.ranked.size());
    for (size_t i = 0; i < d.ranked.size(); ++i) {
      EXPECT_EQ(d.ranked[i].provider_id, plain.ranked[i].provider_id) << i;
      EXPECT_EQ(d.ranked[i].terms, plain.ranked[i].terms) << i;
    }
    EXPECT_EQ(scratch.lot_order, valid);  // repaired
  }
  EXPECT_EQ(first.winner, plain.winner);
}
