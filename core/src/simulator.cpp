// The what-if simulator (simulator.hpp): each policy on a fresh Engine fed the same demand slot by
// slot. quota_aware and naive route with the real router; hindsight first serves what the offline
// optimum (sim_hindsight.cpp) planned, and routes only what the real windows then refuse.
// Accounting (the same for every policy): capacity lost at resets and expiries inside the
// horizon, money spent from balances that outlast it and from pay-as-you-go providers.
#include "quotagate/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"
#include "quotagate/engine.hpp"
#include "quotagate/text.hpp"
#include "sim_compare.hpp"
#include "sim_hindsight.hpp"
#include "sim_scenario.hpp"

namespace qg {

using sim::bad;
using sim::Scenario;
using sim::Traffic;

namespace {

// One window of a tracked state and what it lost at its resets inside the horizon.
struct WindowTrack {
  std::string name;
  double hours = 0;
  bool sliding = false;
  std::optional<int64_t> next_reset;
  double wasted = 0;
};

// One (package, account) state.
struct PackageTrack {
  const Package* package = nullptr;  // in the run's engine catalog, fixed for the run
  std::string id, provider, account, unit, currency;
  PackageType type;
  double unit_value = 0;
  bool durable = false;  // credits that outlast the horizon: spending them is spending money
  std::optional<int64_t> exhausts_at;
  double used_units = 0, spent_usd = 0;
  std::vector<WindowTrack> windows;  // primary first, then secondaries (windows only)
  double expired_units = 0;          // credits left at an expiry inside the horizon
  bool expired_counted = false;
  std::vector<double> series;
  // Units whose loss costs money: the credits' expiry, or the longest window's resets (what a
  // subscription's price buys; its shorter windows only pace it).
  double lost_units() const {
    if (type == PackageType::kCredits) return expired_units;
    const WindowTrack* longest = nullptr;
    for (const auto& w : windows)
      if (!longest || w.hours > longest->hours) longest = &w;
    return longest ? longest->wasted : 0;
  }
};

// The remaining capacity of window `i` (0 primary, then secondaries) in a status.
double window_remaining(const QuotaStatus& s, size_t i) {
  return i == 0 ? s.remaining : (i - 1 < s.secondary_windows.size() ? s.secondary_windows[i - 1].remaining : 0);
}
std::optional<int64_t> window_reset(const QuotaStatus& s, size_t i) {
  return i == 0 ? s.primary_reset_at : (i - 1 < s.secondary_windows.size() ? s.secondary_windows[i - 1].reset_at : std::nullopt);
}

// What the state still admits for one request of `weight` units: the tightest window (and any
// family window of the model).
double headroom_of(const QuotaStatus& s, const std::string& model) {
  double h = s.remaining;
  for (const auto& ss : s.secondary_windows) h = std::min(h, ss.remaining);
  for (const auto& mw : s.model_windows)
    if (mw.remaining && model_in_family(mw.family, model, mw.models)) h = std::min(h, *mw.remaining);
  return std::max(0.0, h);
}

struct Run {
  Engine engine;
  const Scenario& sc;
  std::vector<PackageTrack> tracks;
  std::map<std::string, size_t> track_of;  // "package\taccount"
  std::map<std::string, double> share;
  double requests = 0, served = 0, unserved = 0, failed_attempts = 0, payg_spent = 0;
  explicit Run(const Scenario& s) : sc(s) {}

  const Package* package(const std::string& id) const {
    for (const auto& p : engine.catalog().packages)
      if (p.id == id) return &p;
    return nullptr;
  }

  // Serves up to n requests of `tr` at one candidate; returns how many it took. The package's
  // capacity binds: every window, and credits' balance (a package never gives more than it has).
  double serve(const Traffic& tr, const std::string& provider, const std::string& package_id, const std::string& account,
               const std::string& model, double n, int64_t t) {
    double capacity = n, per_request = 1;
    PackageTrack* track = nullptr;
    if (!package_id.empty()) {
      const auto it = track_of.find(package_id + "\t" + account);
      const auto st = engine.status_of(package_id, t, account);
      if (it == track_of.end() || !st) return 0;
      track = &tracks[it->second];
      const Package* p = track->package;
      const bool credits = st->package_type == PackageType::kCredits;
      per_request = credits ? tr.cost_per_request : p->weight_for(model);
      const bool blocked = st->alert == "expired" || (st->alert == "exhausted" && !credits && !(st->overage && st->overage->available));
      const double room = credits ? st->remaining : headroom_of(*st, model);
      capacity = blocked ? 0 : (per_request > 0 ? std::floor(room / per_request + 1e-9) : n);
    }
    const double take = std::min(n, capacity);
    if (take <= 0) return 0;
    UsageEvent ev;
    ev.ts_ms = t;
    ev.provider_id = provider;
    ev.model = model;
    ev.cost = tr.cost_per_request;  // per request; the event stands for `take` of them
    ev.count = take;
    ev.account = account;
    engine.record_usage(ev);
    share[provider] += take;
    served += take;
    if (track) {
      track->used_units += take * per_request;
      if (track->type == PackageType::kCredits && track->durable) track->spent_usd += take * tr.cost_per_request * track->unit_value;
    } else {
      payg_spent += take * tr.cost_per_request;  // pay as you go: USD
    }
    return take;
  }

  // The router's choice, over and over, until the slot's requests are served or nothing is left.
  void route(const Traffic& tr, double n, int64_t t, const std::vector<std::string>& skip_base) {
    std::vector<std::string> skip = skip_base;
    while (n > 0) {
      // The operator's what-if: every account, whoever's credential it is.
      const RouteDecision d = engine.route(tr.model, t, false, skip, kAnyAccount);
      if (!d.ok || d.all_excluded) {
        unserved += n;
        return;
      }
      n -= serve(tr, d.provider_id, d.package_id, d.account, d.model, n, t);
      if (n <= 0) return;
      // The chosen state ran dry: the provider answers 429 until its capacity returns.
      std::optional<QuotaStatus> st;
      if (!d.package_id.empty()) st = engine.status_of(d.package_id, t, d.account);
      if (st && track_of.count(d.package_id + "\t" + d.account)) {
        PackageTrack& tk = tracks[track_of.at(d.package_id + "\t" + d.account)];
        if (!tk.exhausts_at) tk.exhausts_at = t;
      }
      const int64_t back = st && st->reset_at && *st->reset_at > t ? *st->reset_at : sc.settle + kMsPerDay;
      char header[64];
      std::snprintf(header, sizeof header, "retry-after: %lld", static_cast<long long>((back - t + 999) / 1000));
      engine.observe(d.provider_id, d.account, d.model, 429, parse_header_lines(header), "", -1, t);
      failed_attempts += 1;
      skip.push_back(d.package_id.empty() ? (d.account.empty() ? d.provider_id : d.provider_id + "\t" + d.account)
                                          : d.provider_id + "\t" + d.account + "\t" + d.package_id);
    }
  }

  // Losses at every reset and expiry up to t (inside the horizon), and a sample of what is left.
  void account_losses(int64_t t) {
    for (PackageTrack& tr : tracks) {
      for (size_t i = 0; i < tr.windows.size(); ++i) {
        WindowTrack& w = tr.windows[i];
        if (w.sliding) continue;  // a sliding window frees capacity continuously: no reset loses it
        int guard = 0;
        while (w.next_reset && *w.next_reset <= t && guard++ < 100000) {
          const int64_t r = *w.next_reset;
          if (sc.loss_in_horizon(r))
            if (auto before = engine.status_of(tr.id, r - 1, tr.account)) w.wasted += window_remaining(*before, i);
          const auto after = engine.status_of(tr.id, r, tr.account);
          const auto next = after ? window_reset(*after, i) : std::nullopt;
          w.next_reset = next && *next > r ? next : std::nullopt;
        }
      }
      if (tr.type == PackageType::kCredits && !tr.expired_counted) {
        const Package* p = tr.package;
        if (p->expires_at && sc.loss_in_horizon(*p->expires_at) && *p->expires_at <= t) {
          if (auto before = engine.status_of(tr.id, *p->expires_at - 1, tr.account)) tr.expired_units = before->remaining;
          tr.expired_counted = true;
        }
      }
    }
  }
  void sample(int64_t t, Json& times) {
    times.push_back(t);
    for (PackageTrack& tr : tracks) {
      const auto st = engine.status_of(tr.id, t, tr.account);
      if (!st) continue;
      tr.series.push_back(round_to(st->remaining, 4));
      if (!tr.exhausts_at && st->alert == "exhausted") tr.exhausts_at = t;
    }
  }
};

// The hindsight plan's outcome in the same terms as a simulated policy: requests, served, share,
// each state's used units, what its top-level periods lost, and what was spent.
void account_plan(Run& run, const sim::HindsightSolution& sol, const std::vector<std::vector<int64_t>>& demand) {
  for (const auto& row : demand)
    for (int64_t n : row) run.requests += static_cast<double>(n);
  run.served = static_cast<double>(sol.plan.served);
  run.unserved = static_cast<double>(sol.plan.unserved);
  std::vector<double> used(sol.candidates.size(), 0);  // units
  std::vector<bool> settled(run.tracks.size(), false);
  for (const auto& slot : sol.plan.take)
    for (size_t s = 0; s < slot.size(); ++s)
      for (const auto& [k, n] : slot[s]) {
        const sim::PlanCandidate& pc = sol.candidates[k];
        run.share[pc.provider] += static_cast<double>(n);
        used[k] += static_cast<double>(n) * pc.weight;
        if (pc.package_id.empty()) run.payg_spent += static_cast<double>(n) * run.sc.traffic[s].cost_per_request;
      }
  for (size_t k = 0; k < sol.candidates.size(); ++k) {
    const sim::PlanCandidate& pc = sol.candidates[k];
    auto it = run.track_of.find(pc.package_id + "\t" + pc.account);
    if (pc.package_id.empty() || it == run.track_of.end()) continue;
    PackageTrack& tr = run.tracks[it->second];
    tr.used_units += used[k];
    double lost = 0;
    for (size_t i = 0; i < pc.top_units.size() && i < sol.plan.top_flow[k].size(); ++i)
      if (pc.top_lost_at_end[i]) lost += std::max(0.0, pc.top_units[i] - static_cast<double>(sol.plan.top_flow[k][i]) * pc.weight);
    // Several candidates (one per demand stream) may share a state: the first resets its loss.
    const bool first = !settled[it->second];
    settled[it->second] = true;
    if (tr.type == PackageType::kCredits) {
      tr.expired_units = (first ? 0 : tr.expired_units) + lost;
      if (tr.durable) tr.spent_usd += used[k] * tr.unit_value;
    } else if (!tr.windows.empty()) {
      for (auto& w : tr.windows)
        if (first) w.wasted = 0;
      WindowTrack* longest = &tr.windows[0];
      for (auto& w : tr.windows)
        if (w.hours > longest->hours) longest = &w;
      longest->wasted += lost;
    }
  }
}

void configure_engine(Engine& engine, const Json& state, const Json& catalog, const Scenario& sc, const std::string& policy) {
  const CatalogLoadResult loaded = engine.load_catalog(catalog.dump(), "state");
  if (!loaded.ok) throw bad("state catalog: " + loaded.error);
  Json cfg = Json::object();
  cfg["weights"] = Json{{"quota_aware", policy != "naive"}};
  Json providers = Json::array();
  if (state.contains("providers") && state["providers"].is_array())
    for (const Json& p : state["providers"])
      if (std::find(sc.disabled_providers.begin(), sc.disabled_providers.end(), p.value("id", "")) == sc.disabled_providers.end())
        providers.push_back(p);
  if (!providers.empty()) cfg["providers"] = providers;
  if (state.contains("model_groups") && state["model_groups"].is_object()) cfg["model_groups"] = state["model_groups"];
  const std::string err = engine.configure(dump_json(cfg));
  if (!err.empty()) throw bad(err);
  if (state.contains("recent_events") && state["recent_events"].is_array()) {
    const Json& recent = state["recent_events"];
    for (size_t i = 0; i < recent.size(); ++i) {
      const Json& e = recent[i];
      // Each field is checked before it is read: converting an out-of-range number is undefined.
      const auto whole = [&](size_t k, double lo, double hi) {
        return e[k].is_number_integer() && e[k].get<double>() >= lo && e[k].get<double>() <= hi;
      };
      const auto finite = [&](size_t k) { return e[k].is_number() && std::isfinite(e[k].get<double>()); };
      const bool ok = e.is_array() && e.size() >= 7 && e.size() <= 9 &&
                      whole(0, -static_cast<double>(kMaxInstantMs), static_cast<double>(kMaxInstantMs)) && e[1].is_string() &&
                      e[2].is_string() && whole(3, 0, 999) && finite(4) && whole(5, 0, 1e15) && whole(6, 0, 1e15) &&
                      (e.size() == 7 || (finite(7) && e[7].get<double>() > 0)) &&
                      (e.size() < 9 || (e[8].is_string() && e[8].get<std::string>().size() <= 64));
      if (!ok)
        throw bad("state.recent_events[" + std::to_string(i) +
                  "]: expected [ts_ms, provider, model, status 0..999, cost, tokens_in, tokens_out, count?, account?]");
      UsageEvent ev{e[0].get<int64_t>(), e[1].get<std::string>(), e[2].get<std::string>(), e[3].get<int>(), e[4].get<double>(),
                    e[5].get<int64_t>(), e[6].get<int64_t>(), e.size() > 7 ? e[7].get<double>() : 1.0,
                    e.size() > 8 ? e[8].get<std::string>() : std::string()};
      if (ev.ts_ms <= sc.start) engine.record_usage(ev);
    }
  }
}

Json run_policy(const Json& state, const Json& catalog, const Scenario& sc, const std::string& policy,
                const std::vector<std::vector<int64_t>>& demand) {
  Run run(sc);
  Engine& engine = run.engine;
  configure_engine(engine, state, catalog, sc, policy);
  const std::vector<std::string> skip_base = sc.disabled_providers;  // for catalog-only states
  for (const QuotaStatus& st : engine.statuses(sc.start)) {
    const Package* p = run.package(st.package_id);
    if (!p || std::find(skip_base.begin(), skip_base.end(), p->provider_id) != skip_base.end()) continue;
    PackageTrack t;
    t.package = p;
    t.id = p->id;
    t.provider = p->provider_id;
    t.account = st.account;
    t.type = p->type;
    t.currency = p->currency;
    t.unit = p->type == PackageType::kCredits ? p->currency : "requests";
    t.unit_value = p->unit_value_usd();
    t.durable = p->type == PackageType::kCredits && (!p->expires_at || *p->expires_at >= sc.settle);
    if (p->type != PackageType::kCredits) {
      t.windows.push_back({p->type == PackageType::kDaily ? "daily" : "primary", p->type == PackageType::kDaily ? 24 : p->window_hours,
                           p->type == PackageType::kRollingWindow && p->window_mode == WindowMode::kSliding, st.primary_reset_at, 0});
      for (size_t i = 0; i < p->secondary_windows.size(); ++i) {
        const SecondaryWindow& sw = p->secondary_windows[i];
        t.windows.push_back({sw.name, sw.window_hours, sw.mode == WindowMode::kSliding,
                             i < st.secondary_windows.size() ? st.secondary_windows[i].reset_at : std::nullopt, 0});
      }
    }
    run.track_of[t.id + "\t" + t.account] = run.tracks.size();
    run.tracks.push_back(t);
  }
  sim::HindsightSolution plan;
  if (policy == "hindsight") {
    plan = sim::plan_hindsight(engine, sc, demand);
    // What every state loses if the plan leaves it unused; the plan's states are then settled
    // from the plan (account_plan).
    run.account_losses(sc.settle);
    account_plan(run, plan, demand);
  }

  Json times = Json::array();
  const int64_t sample_ms = static_cast<int64_t>(sc.sample_minutes) * kMsPerMinute;
  int64_t next_sample = sc.start;
  const size_t slots = sc.slots();
  for (size_t i = 0; i < slots && policy != "hindsight"; ++i) {  // the plan is hindsight's result
    const int64_t t = sc.start + static_cast<int64_t>(i) * sc.slot_ms();
    run.account_losses(t);
    while (next_sample <= t && next_sample < sc.end) {
      run.sample(next_sample, times);
      next_sample += sample_ms;
    }
    for (size_t k = 0; k < sc.traffic.size(); ++k) {
      const double n = static_cast<double>(demand[k][i]);
      if (n <= 0) continue;
      run.requests += n;
      run.route(sc.traffic[k], n, t, skip_base);
    }
  }
  if (policy != "hindsight") {
    run.account_losses(sc.settle);
    while (next_sample < sc.end) {
      run.sample(next_sample, times);
      next_sample += sample_ms;
    }
    run.sample(sc.end, times);
  }

  Json out = Json::object();
  out["policy"] = policy;
  out["requests"] = run.requests;
  out["served"] = run.served;
  out["unserved"] = run.unserved;
  out["failed_attempts"] = run.failed_attempts;
  Json share_json = Json::object();
  for (const auto& [provider, count] : run.share) share_json[provider] = count;
  out["share"] = share_json;
  Json packages = Json::array();
  Json wasted_money = Json::object();
  Json series = Json::object();
  double lost_usd = 0, spent_usd = run.payg_spent;
  for (const PackageTrack& tr : run.tracks) {
    Json p = Json::object();
    p["package_id"] = tr.id;
    p["provider_id"] = tr.provider;
    if (!tr.account.empty()) p["account_id"] = tr.account;
    p["unit"] = tr.unit;
    p["used_units"] = round_to(tr.used_units, 4);
    p["exhausts_at"] = tr.exhausts_at ? Json(format_iso_utc(*tr.exhausts_at)) : Json(nullptr);
    const double lost = tr.lost_units();
    p["wasted_units"] = round_to(lost, 4);
    Json by_window = Json::object();
    for (const auto& w : tr.windows) by_window[w.name] = round_to(w.wasted, 4);
    p["wasted_by_window"] = by_window;
    const double money = tr.type == PackageType::kCredits ? lost : 0;
    p["wasted_money"] = round_to(money, 4);
    p["currency"] = tr.currency;
    p["lost_value_usd"] = round_to(lost * tr.unit_value, 4);
    p["spent_usd"] = round_to(tr.spent_usd, 4);
    lost_usd += lost * tr.unit_value;
    spent_usd += tr.spent_usd;
    if (money > 0) wasted_money[tr.currency] = round_to(wasted_money.value(tr.currency, 0.0) + money, 4);
    packages.push_back(p);
    const std::string key = tr.account.empty() ? tr.id : tr.id + "@" + tr.account;
    series[key] = tr.series;
  }
  out["packages"] = packages;
  out["wasted_money"] = wasted_money;
  out["lost_value_usd"] = round_to(lost_usd, 4);
  out["spent_usd"] = round_to(spent_usd, 4);
  out["cost_usd"] = round_to(lost_usd + spent_usd, 4);
  if (policy == "hindsight") out["bound"] = "offline optimum over tiled windows (docs/quota-model.md); no time series";
  out["series"] = Json{{"t", times}, {"remaining", series}};
  return out;
}

}  // namespace

std::string simulate_json(std::string_view state_text, std::string_view scenario_text) {
  try {
    if (json_too_deep(state_text)) throw std::runtime_error("state: JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    if (json_too_deep(scenario_text)) throw bad("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    const Json state = Json::parse(state_text.begin(), state_text.end());
    const Json scenario_doc = Json::parse(scenario_text.begin(), scenario_text.end());
    if (!state.is_object() || !state.contains("catalog")) throw bad("state: expected the engine state document");
    auto state_time = state.contains("generated_at") ? instant_from_json(state["generated_at"]) : std::nullopt;
    Scenario sc = sim::parse_scenario(scenario_doc, state_time.value_or(0));
    const Json catalog = sim::tweaked_catalog(state["catalog"], sc.tweaks);
    {
      const CatalogParseResult parsed = parse_catalog(catalog.dump(), "state");
      if (!parsed.ok) throw bad("state catalog: " + parsed.error);
      std::vector<std::optional<int64_t>> expiries;
      for (const Package& p : parsed.catalog.packages)
        if (p.type == PackageType::kCredits) expiries.push_back(p.expires_at);
      sim::settle_horizon(sc, expiries);
    }
    const auto demand = sim::demand_of(sc);
    Json out = Json::object();
    out["start"] = format_iso_utc(sc.start);
    out["end"] = format_iso_utc(sc.end);
    out["settled_until"] = format_iso_utc(sc.settle);
    Json policies = Json::object();
    for (const std::string& p : sc.policies) policies[p] = run_policy(state, catalog, sc, p, demand);
    out["policies"] = policies;
    out["comparison"] = policies.contains("quota_aware") && (policies.contains("naive") || policies.contains("hindsight"))
                            ? sim::compare(policies)
                            : Json(nullptr);
    return dump_json(out) + "\n";
  } catch (const nlohmann::json::parse_error& e) {
    return dump_json(Json{{"error", std::string("simulate: invalid JSON: ") + e.what()}}) + "\n";
  } catch (const std::exception& e) {
    return dump_json(Json{{"error", std::string("simulate: ") + e.what()}}) + "\n";
  }
}

}  // namespace qg
