// Accounts: one state per (package, account); a caller's credential reaches only its own account
// of an auth: client provider; family windows (7d_opus, 7d_oi ...) block only their family;
// overage policy; Codex windows told apart by length; accounts re-seeded from events.
#include "engine_fixture.hpp"
#include "quotagate/http_headers.hpp"

using namespace qg;

namespace {

const char* kMax = R"({"claude-max":{"provider_id":"claude-sub","package_type":"rolling_window","window_hours":5,
  "limit_per_window":100,"secondary_windows":[{"name":"7d","window_hours":168,"limit":1000}]},
  "ds":{"provider_id":"deepseek","total_credits":50}})";

Engine Subscription(const std::string& extra = "") {
  Engine e = EngineWith(kMax);
  EXPECT_EQ(e.configure(R"({"providers":[{"id":"claude-sub","auth":"client","models":["claude-*"])" + extra +
                        R"(},{"id":"deepseek","models":["*"]}]})"),
            "");
  return e;
}

UsageEvent AccountEv(const char* ts, const char* provider, const char* model, const char* account) {
  UsageEvent ev = Ev(ts, provider, model);
  ev.account = account;
  return ev;
}

HeaderMap Unified(double five_h, double seven_d, const char* extra = "") {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "anthropic-ratelimit-unified-5h-utilization: %g\nanthropic-ratelimit-unified-5h-reset: 1796000000\n"
                "anthropic-ratelimit-unified-7d-utilization: %g\nanthropic-ratelimit-unified-7d-reset: 1796500000\n%s",
                five_h, seven_d, extra);
  return parse_header_lines(buf);
}

const QuotaStatus* Find(const std::vector<QuotaStatus>& all, const std::string& package, const std::string& account) {
  for (const auto& s : all)
    if (s.package_id == package && s.account == account) return &s;
  return nullptr;
}

}  // namespace

TEST(Accounts, TwoCredentialsAreTwoAccountsWithTheirOwnUtilization) {
  Engine e = Subscription();
  const int64_t now = T("2026-11-28T12:00:00Z");
  EXPECT_TRUE(e.add_account("claude-sub", "aaaaaaaaaaaa"));
  EXPECT_FALSE(e.add_account("claude-sub", "aaaaaaaaaaaa"));
  EXPECT_TRUE(e.add_account("claude-sub", "bbbbbbbbbbbb"));
  EXPECT_FALSE(e.add_account("deepseek", "cccccccccccc")) << "an auth: key provider takes only configured accounts";
  e.observe("claude-sub", "aaaaaaaaaaaa", "claude-sonnet-4-5", 200, Unified(0.2, 0.1), "", 100, now);
  e.observe("claude-sub", "bbbbbbbbbbbb", "claude-sonnet-4-5", 200, Unified(0.9, 0.5), "", 100, now);
  const auto all = e.statuses(now + 1000);
  const QuotaStatus* a = Find(all, "claude-max", "aaaaaaaaaaaa");
  const QuotaStatus* b = Find(all, "claude-max", "bbbbbbbbbbbb");
  ASSERT_TRUE(a && b);
  EXPECT_NEAR(a->used, 20, 1e-9);
  EXPECT_NEAR(b->used, 90, 1e-9);
  EXPECT_EQ(Find(all, "claude-max", ""), nullptr) << "auth: client has no account without a credential";
  const Json doc = status_to_json(*a);
  EXPECT_EQ(doc["account"], "aaaaaaaaaaaa");
}

TEST(Accounts, ACallerReachesOnlyItsOwnClientAccountAndEveryKeyAccount) {
  Engine e = Subscription();
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.add_account("claude-sub", "aaaaaaaaaaaa");
  e.add_account("claude-sub", "bbbbbbbbbbbb");
  RouteDecision d = e.route("claude-sonnet-4-5", now, true, {}, "aaaaaaaaaaaa");
  ASSERT_EQ(d.ranked.size(), 2u);  // A's subscription and deepseek; never B's
  for (const auto& c : d.ranked) EXPECT_NE(c.account, "bbbbbbbbbbbb");
  d = e.route("claude-sonnet-4-5", now, true, {}, "");
  ASSERT_EQ(d.ranked.size(), 1u) << "no credential: no subscription account";
  EXPECT_EQ(d.provider_id, "deepseek");
  d = e.route("claude-sonnet-4-5", now, true, {}, kAnyAccount);
  EXPECT_EQ(d.ranked.size(), 3u) << "the operator's what-if sees every account";
}

TEST(Accounts, AnExhaustedAccountFailsOverWhileAnotherCallerKeepsItsSubscription) {
  Engine e = Subscription();
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.add_account("claude-sub", "aaaaaaaaaaaa");
  e.add_account("claude-sub", "bbbbbbbbbbbb");
  e.observe("claude-sub", "aaaaaaaaaaaa", "claude-sonnet-4-5", 429,
            Unified(1.0, 0.4, "anthropic-ratelimit-unified-status: rejected\nanthropic-ratelimit-unified-representative-claim: five_hour\n"),
            "", 100, now);
  RouteDecision a = e.route("claude-sonnet-4-5", now + 1000, false, {}, "aaaaaaaaaaaa");
  EXPECT_EQ(a.provider_id, "deepseek");
  RouteDecision b = e.route("claude-sonnet-4-5", now + 1000, false, {}, "bbbbbbbbbbbb");
  EXPECT_EQ(b.provider_id, "claude-sub");
  EXPECT_EQ(b.account, "bbbbbbbbbbbb");
  // The account's 429 is not the provider's ill health.
  EXPECT_EQ(e.quotas_document(now + 1000)["cooldowns"].size(), 1u);
}

TEST(Accounts, AFamilyRejectionLeavesOtherModelsOfTheAccountFlowing) {
  Engine e = Subscription();
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.add_account("claude-sub", "aaaaaaaaaaaa");
  const ObserveResult r = e.observe(
      "claude-sub", "aaaaaaaaaaaa", "claude-opus-4-8", 429,
      Unified(0.3, 0.4,
              "anthropic-ratelimit-unified-status: rejected\nanthropic-ratelimit-unified-representative-claim: seven_day_oi\n"
              "anthropic-ratelimit-unified-7d_oi-utilization: 1.0\nanthropic-ratelimit-unified-7d_oi-reset: 1796400000\n"),
      "", 100, now);
  EXPECT_EQ(r.cooldown_scope, "family:oi");
  RouteDecision opus = e.route("claude-opus-4-8", now + 1000, true, {}, "aaaaaaaaaaaa");
  EXPECT_EQ(opus.provider_id, "deepseek") << "the rejected model learned it is in the oi family";
  RouteDecision sonnet = e.route("claude-sonnet-4-5", now + 1000, false, {}, "aaaaaaaaaaaa");
  EXPECT_EQ(sonnet.provider_id, "claude-sub");
  const QuotaStatus s = *e.status_of("claude-max", now + 1000, "aaaaaaaaaaaa");
  EXPECT_EQ(s.alert, "ok") << "a family window never exhausts the package";
  ASSERT_EQ(s.model_windows.size(), 1u);
  EXPECT_EQ(s.model_windows[0].family, "oi");
  EXPECT_TRUE(s.model_windows[0].exhausted);
  EXPECT_NEAR(s.secondary_windows[0].used, 400, 1e-9) << "7d_oi is not the shared 7-day window";
}

TEST(Accounts, ModelScopedReadingsMatchFamiliesByNameAndCatalogWindowsCountLocally) {
  Engine e = EngineWith(R"({"max":{"provider_id":"claude-sub","package_type":"rolling_window","window_hours":5,
    "limit_per_window":100,"models":["claude-*"],"model_weights":{"claude-opus":5},
    "model_windows":[{"family":"opus","window_hours":168,"limit":10},{"family":"sonnet","window_hours":168}]}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.observe("claude-sub", "", "claude-sonnet-4-5", 200,
            parse_header_lines("anthropic-ratelimit-unified-7d_sonnet-utilization: 1.0\n"
                               "anthropic-ratelimit-unified-7d_sonnet-status: rejected\n"
                               "anthropic-ratelimit-unified-7d_sonnet-reset: 1796400000\n"),
            "", 100, now);
  EXPECT_TRUE(e.route("claude-sonnet-4-6", now + 1000).all_excluded) << "a new Sonnet version is in the family";
  EXPECT_FALSE(e.route("claude-haiku-4-5", now + 1000).all_excluded);
  e.record_usage(Ev("2026-11-28T12:00:01Z", "claude-sub", "claude-opus-4-8"));
  e.record_usage(Ev("2026-11-28T12:00:02Z", "claude-sub", "claude-opus-4-8"));  // 2 x weight 5 = the limit
  const RouteDecision d = e.route("claude-opus-4-8", now + 3000);
  EXPECT_TRUE(d.all_excluded);
  EXPECT_NE(d.reason.find("opus window exhausted"), std::string::npos) << d.reason;
  EXPECT_FALSE(e.route("claude-haiku-4-5", now + 3000).all_excluded);
}

TEST(Accounts, OverageAvoidTreatsARejectedPlanWindowAsExhausted) {
  const char* headers = "anthropic-ratelimit-unified-status: rejected\nanthropic-ratelimit-unified-representative-claim: five_hour\n"
                        "anthropic-ratelimit-unified-5h-utilization: 1.0\nanthropic-ratelimit-unified-5h-reset: 1796000000\n"
                        "anthropic-ratelimit-unified-overage-status: allowed\nanthropic-ratelimit-unified-overage-in-use: true\n";
  const int64_t now = T("2026-11-28T12:00:00Z");
  for (const bool avoid : {false, true}) {
    Engine e = Subscription(avoid ? R"(,"overage":"avoid")" : "");
    e.add_account("claude-sub", "aaaaaaaaaaaa");
    e.observe("claude-sub", "aaaaaaaaaaaa", "claude-sonnet-4-5", 200, parse_header_lines(headers), "", 100, now);
    const RouteDecision d = e.route("claude-sonnet-4-5", now + 1000, false, {}, "aaaaaaaaaaaa");
    EXPECT_EQ(d.provider_id, avoid ? "deepseek" : "claude-sub") << (avoid ? "avoid" : "allow");
    const QuotaStatus s = *e.status_of("claude-max", now + 1000, "aaaaaaaaaaaa");
    ASSERT_TRUE(s.overage.has_value());
    EXPECT_TRUE(s.overage->in_use);
  }
}

TEST(Accounts, CodexWindowsAreToldApartByLengthNotPosition) {
  Engine e = EngineWith(R"({"plus":{"provider_id":"codex","package_type":"rolling_window","window_hours":5,
    "limit_per_window":100,"secondary_windows":[{"name":"weekly","window_hours":168,"limit":1000}]}})");
  const int64_t now = T("2026-11-28T12:00:00Z");
  // The 5 h window is gone; "primary" is the weekly one.
  e.observe("codex", "", "gpt-5-codex", 200,
            parse_header_lines("x-codex-primary-used-percent: 40\nx-codex-primary-window-minutes: 10080\n"
                               "x-codex-primary-reset-after-seconds: 3600\nx-codex-credits-has-credits: true\n"
                               "x-codex-credits-balance: 5.39\nx-codex-credits-unlimited: false\n"),
            "", 100, now);
  const QuotaStatus s = *e.status_of("plus", now + 1000);
  EXPECT_NEAR(s.secondary_windows[0].used, 400, 1e-9);
  EXPECT_TRUE(s.secondary_windows[0].observed);
  EXPECT_NEAR(s.used, 0, 1e-9) << "the weekly reading is not the 5 h window";
  ASSERT_TRUE(s.overage.has_value());
  EXPECT_TRUE(s.overage->available);
  EXPECT_NEAR(*s.overage->credits_balance, 5.39, 1e-9);
  // A tertiary window is read too.
  const HeaderSnapshot t = e.observe("codex", "", "gpt-5-codex", 200,
                                     parse_header_lines("x-codex-tertiary-used-percent: 10\nx-codex-tertiary-window-minutes: 300\n"), "",
                                     100, now + 2000).snapshot;
  ASSERT_EQ(t.windows.size(), 1u);
  EXPECT_EQ(t.windows[0].name, "tertiary");
}

TEST(Accounts, KeyAccountsShareTheCallersAndFailOverAmongThemselves) {
  Engine e = EngineWith(R"({"daily":{"provider_id":"gemini","package_type":"daily","limit_per_day":10}})");
  ASSERT_EQ(e.configure(R"({"providers":[{"id":"gemini","models":["gemini-*"],"accounts":[{"id":"work"},{"id":"home","name":"Home"}]}]})"), "");
  const int64_t now = T("2026-11-28T12:00:00Z");
  RouteDecision d = e.route("gemini-2.5-pro", now, true, {}, "");
  ASSERT_EQ(d.ranked.size(), 2u);
  e.observe("gemini", d.account, "gemini-2.5-pro", 429, parse_header_lines("retry-after: 3600\n"), "", 100, now);
  const std::string first = d.account;
  d = e.route("gemini-2.5-pro", now + 1000, false, {}, "");
  EXPECT_FALSE(d.all_excluded);
  EXPECT_NE(d.account, first);
  const Json doc = e.quotas_document(now + 1000);
  EXPECT_EQ(doc["packages"].size(), 2u);
  EXPECT_EQ(doc["packages"][1]["account"], "Home");
  EXPECT_FALSE(e.add_account("gemini", "stranger")) << "auth: key accounts come from the config only";
}

TEST(Accounts, EventsReseedAccountsAfterARestart) {
  const int64_t now = T("2026-11-28T12:00:00Z");
  Engine e = Subscription();
  e.record_usage(AccountEv("2026-11-28T11:00:00Z", "claude-sub", "claude-sonnet-4-5", "aaaaaaaaaaaa"));
  e.record_usage(AccountEv("2026-11-28T11:00:01Z", "claude-sub", "claude-sonnet-4-5", "aaaaaaaaaaaa"));
  e.record_usage(AccountEv("2026-11-28T11:00:02Z", "claude-sub", "claude-sonnet-4-5", "bbbbbbbbbbbb"));
  const auto all = e.statuses(now);
  ASSERT_TRUE(Find(all, "claude-max", "aaaaaaaaaaaa") && Find(all, "claude-max", "bbbbbbbbbbbb"));
  EXPECT_EQ(Find(all, "claude-max", "aaaaaaaaaaaa")->used, 2);
  EXPECT_EQ(Find(all, "claude-max", "bbbbbbbbbbbb")->used, 1);
  // A catalog reload and a reconfiguration keep accounts, their usage and their readings.
  e.observe("claude-sub", "aaaaaaaaaaaa", "claude-sonnet-4-5", 200, Unified(0.5, 0.1), "", 100, now);
  ASSERT_TRUE(e.load_catalog(std::string("{\"packages\":") + kMax + "}", "c.json").ok);
  ASSERT_EQ(e.configure(R"({"providers":[{"id":"claude-sub","auth":"client","models":["claude-*"],
    "accounts":[{"id":"aaaaaaaaaaaa","name":"work"}]},{"id":"deepseek","models":["*"]}]})"), "");
  const auto again = e.statuses(now + 1000);
  const QuotaStatus* a = Find(again, "claude-max", "aaaaaaaaaaaa");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->account_name, "work");
  EXPECT_NEAR(a->used, 50, 1e-9);
  ASSERT_TRUE(Find(again, "claude-max", "bbbbbbbbbbbb"));
  // A state document carries the account with each event, and the simulator reads it back.
  const Json state = e.state_document(now);
  bool seen = false;
  for (const auto& row : state["recent_events"]) seen = seen || (row.size() == 9 && row[8] == "bbbbbbbbbbbb");
  EXPECT_TRUE(seen);
}

TEST(Accounts, ConfigRejectsBadAccounts) {
  Engine e;
  EXPECT_NE(e.configure(R"({"providers":[{"id":"p","auth":"oauth"}]})").find("providers[0].auth: expected \"key\" or \"client\""), std::string::npos);
  EXPECT_NE(e.configure(R"({"providers":[{"id":"p","accounts":[{"id":"a"},{"id":"a"}]}]})").find("listed twice"), std::string::npos);
  EXPECT_NE(e.configure(R"({"providers":[{"id":"p","accounts":[{"id":"*"}]}]})").find("accounts[0].id"), std::string::npos);
  EXPECT_NE(e.configure(R"({"providers":[{"id":"p","overage":"maybe"}]})").find("overage"), std::string::npos);
}

TEST(Accounts, ARefusedLoginIsForgottenAndOnlyServedRequestsBringAccountsBack) {
  Engine e = Subscription();
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.add_account("claude-sub", "aaaaaaaaaaaa");
  EXPECT_TRUE(e.remove_account("claude-sub", "aaaaaaaaaaaa"));
  EXPECT_FALSE(e.remove_account("claude-sub", "aaaaaaaaaaaa"));
  EXPECT_EQ(e.statuses(now).size(), 1u) << "only deepseek's package is left";
  // A refused attempt (401) in the ledger never makes an account; a served one does.
  e.record_usage([] {
    UsageEvent ev = AccountEv("2026-11-28T11:00:00Z", "claude-sub", "claude-sonnet-4-5", "bbbbbbbbbbbb");
    ev.status = 401;
    return ev;
  }());
  EXPECT_EQ(e.statuses(now).size(), 1u);
  e.record_usage(AccountEv("2026-11-28T11:00:01Z", "claude-sub", "claude-sonnet-4-5", "aaaaaaaaaaaa"));
  EXPECT_EQ(e.statuses(now).size(), 2u);
  ASSERT_EQ(e.configure(R"({"providers":[{"id":"claude-sub","auth":"client","models":["claude-*"],
    "accounts":[{"id":"cccccccccccc","name":"named"}]},{"id":"deepseek","models":["*"]}]})"), "");
  EXPECT_FALSE(e.remove_account("claude-sub", "cccccccccccc")) << "configured accounts stay";
}

TEST(Accounts, RemovingOneAccountKeepsEveryOtherAndParksItsReadings) {
  Engine e = Subscription();
  const int64_t now = T("2026-11-28T12:00:00Z");
  e.add_account("claude-sub", "aaaaaaaaaaaa");  // never served yet
  e.add_account("claude-sub", "bbbbbbbbbbbb");
  e.observe("claude-sub", "bbbbbbbbbbbb", "claude-sonnet-4-5", 200, Unified(0.6, 0.1), "", 100, now);
  e.add_account("claude-sub", "cccccccccccc");
  EXPECT_TRUE(e.remove_account("claude-sub", "cccccccccccc"));
  EXPECT_EQ(e.route("claude-sonnet-4-5", now + 1000, false, {}, "aaaaaaaaaaaa").account, "aaaaaaaaaaaa")
      << "an unserved account survives another's removal";
  EXPECT_TRUE(e.remove_account("claude-sub", "bbbbbbbbbbbb"));
  EXPECT_TRUE(e.add_account("claude-sub", "bbbbbbbbbbbb"));
  const auto b = e.status_of("claude-max", now + 1000, "bbbbbbbbbbbb");
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(b->used, 60, 1e-9) << "the reading came back with the account";
  // A refused credential's answer never makes an account.
  e.observe("claude-sub", "dddddddddddd", "claude-sonnet-4-5", 401, parse_header_lines(""), "", 100, now);
  EXPECT_FALSE(e.status_of("claude-max", now, "dddddddddddd").has_value());
}
