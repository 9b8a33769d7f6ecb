// Router: every scoring term, exclusions, the least-bad fallback, tie-breaks, and the
// use-or-lose regression faigate got backwards.
#include "engine_fixture.hpp"
#include "quotagate/router.hpp"

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
  return s;
}

double term(const RankedCandidate& c, const std::string& name) {
  for (const auto& t : c.terms)
    if (t.first == name) return t.second;
  ADD_FAILURE() << "no term " << name;
  return -1;
}

// Inputs pointing at statuses and per-candidate health records owned by the test.
struct Inputs {
  std::vector<ProviderHealth> health;
  std::vector<RouteView> views;
  std::vector<RouteCandidateInput> in;
  explicit Inputs(std::vector<QuotaStatus>& st) : health(st.size()) {
    for (const auto& s : st) views.push_back(route_view_of(s, &s.package_id));
    for (size_t i = 0; i < st.size(); ++i) in.push_back({&st[i].provider_id, &views[i], &health[i]});
  }
};

const RankedCandidate& find(const RouteDecision& d, const std::string& provider) {
  for (const auto& c : d.ranked)
    if (c.provider_id == provider) return c;
  throw std::runtime_error("no candidate " + provider);
}
}  // namespace

TEST(RouterTerms, HealthFailuresAndLatencyBands) {
  std::vector<QuotaStatus> st;
  for (int i = 0; i < 7; ++i) st.push_back(credits("p" + std::to_string(i), 1.0));
  Inputs x(st);
  const double latencies[] = {250, 251, 750, 1500, 3000, 3001};
  for (int i = 0; i < 6; ++i) {
    x.health[i].latency_ms = latencies[i];
    x.health[i].consecutive_failures = i;
  }
  x.in[6].health = nullptr;  // no history: latency unknown
  const RouteDecision d = decide_route("m", x.in, RouterWeights{}, kNow);
  const double expect_latency[] = {10, 8, 8, 5, 2, 0};
  const double expect_failures[] = {12, 9, 6, 3, 0, 0};
  for (int i = 0; i < 6; ++i) {
    const auto& c = find(d, "p" + std::to_string(i));
    EXPECT_EQ(term(c, "latency"), expect_latency[i]) << i;
    EXPECT_EQ(term(c, "failures"), expect_failures[i]) << i;
    EXPECT_EQ(term(c, "health"), i < 3 ? 25 : 0) << i;  // unhealthy from 3 consecutive failures
  }
  EXPECT_EQ(term(find(d, "p6"), "latency"), 5);
}

TEST(RouterTerms, PackageScoreFloorsTheRatio) {
  std::vector<QuotaStatus> st = {credits("a", 0.99), credits("b", 0.2), credits("c", 0.19), credits("d", 1.0)};
  Inputs x(st);
  auto& in = x.in;
  const RouteDecision d = decide_route("m", in, RouterWeights{}, kNow);
  EXPECT_EQ(term(find(d, "a"), "package"), 4);
  EXPECT_EQ(term(find(d, "b"), "package"), 1);
  EXPECT_EQ(term(find(d, "c"), "package"), 0);
  EXPECT_EQ(term(find(d, "d"), "package"), 5);
}

TEST(RouterTerms, ExpiryBonusUseOrLoseAndExpiringCapacity) {
  std::vector<QuotaStatus> st = {credits("soon", 0.5, 6.5), credits("month", 0.5, 20), credits("later", 0.5, 45)};
  st[0].alert = "use_or_lose";
  st[0].expiring_capacity = 30;
  st[1].expiring_capacity = 200;  // capped at 1 x weight
  Inputs x(st);
  auto& in = x.in;
  const RouteDecision d = decide_route("m", in, RouterWeights{}, kNow);
  EXPECT_EQ(term(find(d, "soon"), "expiry"), 5);
  EXPECT_EQ(term(find(d, "soon"), "use_or_lose"), 3);
  EXPECT_DOUBLE_EQ(term(find(d, "soon"), "expiring_capacity"), 1.2);  // 4 x 30/100, full urgency within 7 days
  EXPECT_EQ(term(find(d, "month"), "expiry"), 2);
  EXPECT_NEAR(term(find(d, "month"), "expiring_capacity"), 4 * (1 - 13.0 / 23), 1e-6);  // 20 days out: fading urgency
  EXPECT_EQ(term(find(d, "later"), "expiry"), 0);
  EXPECT_EQ(d.provider_id, "soon");
  EXPECT_NE(d.reason.find("use-or-lose"), std::string::npos);
}

TEST(RouterTerms, PolicyWithoutQuotaTermsIgnoresPackages) {
  std::vector<QuotaStatus> st = {credits("a", 0.0, 3), credits("b", 1.0, 3)};
  st[0].alert = "exhausted";
  Inputs x(st);
  auto& in = x.in;
  RouterWeights naive;
  naive.quota_aware = false;
  const RouteDecision d = decide_route("m", in, naive, kNow);
  EXPECT_EQ(d.provider_id, "a");  // configured order wins a tie; no exclusion on quota
  EXPECT_FALSE(d.ranked[0].excluded);
  EXPECT_EQ(term(d.ranked[1], "package"), 0);
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

TEST(RouterTieBreak, ConfiguredOrderDecidesEqualScores) {
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
  EXPECT_GT(d.ranked[0].score, d.ranked[1].score);
  EXPECT_EQ(term(d.ranked[0], "use_or_lose"), 3);
  EXPECT_EQ(term(d.ranked[0], "expiry"), 2);
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
