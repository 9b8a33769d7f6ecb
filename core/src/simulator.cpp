// Minute-slot traffic simulation on a fresh Engine per policy (see simulator.hpp).
#include "quotagate/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"
#include "quotagate/engine.hpp"
#include "quotagate/text.hpp"

namespace qg {

namespace {

struct Traffic {
  std::string model = "auto";
  double per_hour = 0;
  double shape[24];
  double growth_per_day = 0;
  double cost_per_request = 0.01;  // in the package currency, for credit packages
};

struct Scenario {
  int64_t start = 0, end = 0;
  int sample_minutes = 60;
  int slot_minutes = 1;
  std::vector<Traffic> traffic;
  std::vector<std::string> disabled_providers;
  Json tweaks = Json::array();
  std::vector<std::string> policies;
};

std::runtime_error bad(const std::string& what) { return std::runtime_error("scenario: " + what); }

double number_at(const Json& j, const char* key, double fallback, double min, double max) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number()) throw bad(std::string(key) + ": expected a number");
  const double v = j[key].get<double>();
  if (!(v >= min && v <= max)) throw bad(std::string(key) + ": expected a number in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return v;
}

Scenario parse_scenario(const Json& s, int64_t state_time) {
  if (!s.is_object()) throw bad("expected a JSON object");
  Scenario sc;
  sc.start = state_time;
  if (s.contains("start") && !s["start"].is_null()) {
    auto t = instant_from_json(s["start"]);
    if (!t) throw bad("start: expected an ISO-8601 instant");
    sc.start = *t;
  }
  const double hours = number_at(s, "horizon_hours", 168, 1, 24 * 30);
  sc.end = sc.start + static_cast<int64_t>(std::llround(hours * kMsPerHour));
  sc.sample_minutes = static_cast<int>(number_at(s, "sample_minutes", hours > 72 ? 60 : 15, 1, 1440));
  // Requests arrive in slots; within a slot they share one routing decision until it runs dry.
  sc.slot_minutes = static_cast<int>(number_at(s, "slot_minutes", hours > 72 ? 5 : 1, 1, 60));
  if (!s.contains("traffic") || !s["traffic"].is_array() || s["traffic"].empty()) throw bad("traffic: expected a non-empty list");
  for (size_t i = 0; i < s["traffic"].size(); ++i) {
    const Json& t = s["traffic"][i];
    if (!t.is_object()) throw bad("traffic[" + std::to_string(i) + "]: expected an object");
    Traffic tr;
    tr.model = t.value("model", std::string("auto"));
    tr.per_hour = number_at(t, "per_hour", 0, 0, 1e6);
    tr.growth_per_day = number_at(t, "growth_per_day", 0, -0.99, 10);
    tr.cost_per_request = number_at(t, "cost_per_request", 0.01, 0, 1e6);
    for (double& v : tr.shape) v = 1;
    if (t.contains("daily_shape") && !t["daily_shape"].is_null()) {
      const Json& sh = t["daily_shape"];
      if (!sh.is_array() || sh.size() != 24) throw bad("traffic[" + std::to_string(i) + "].daily_shape: expected 24 multipliers (UTC hours)");
      double sum = 0;
      for (int h = 0; h < 24; ++h) {
        if (!sh[h].is_number() || sh[h].get<double>() < 0) throw bad("daily_shape: expected non-negative numbers");
        sum += sh[h].get<double>();
      }
      // Normalised so that per_hour stays the daily average.
      for (int h = 0; h < 24; ++h) tr.shape[h] = sum > 0 ? sh[h].get<double>() * 24 / sum : 0;
    }
    sc.traffic.push_back(tr);
  }
  if (s.contains("disable_providers")) {
    if (!s["disable_providers"].is_array()) throw bad("disable_providers: expected a list of provider ids");
    for (const auto& p : s["disable_providers"]) sc.disabled_providers.push_back(p.get<std::string>());
  }
  if (s.contains("tweaks")) {
    if (!s["tweaks"].is_array()) throw bad("tweaks: expected a list");
    sc.tweaks = s["tweaks"];
  }
  const std::string policy = s.value("policy", std::string("both"));
  if (policy == "both") sc.policies = {"quota_aware", "naive"};
  else if (policy == "quota_aware" || policy == "naive") sc.policies = {policy};
  else throw bad("policy: expected quota_aware | naive | both");
  return sc;
}

Json tweaked_catalog(const Json& catalog, const Json& tweaks) {
  Json c = catalog;
  if (!c.is_object() || !c.contains("packages") || !c["packages"].is_object()) throw bad("state: catalog has no packages");
  for (const Json& t : tweaks) {
    if (!t.is_object() || !t.contains("package_id") || !t["package_id"].is_string()) throw bad("tweaks: each needs a package_id");
    const std::string id = t["package_id"].get<std::string>();
    if (!c["packages"].contains(id)) throw bad("tweaks: unknown package \"" + id + "\"");
    Json& p = c["packages"][id];
    if (t.value("disabled", false)) {
      c["packages"].erase(id);
      continue;
    }
    if (t.contains("add_credits")) p["total_credits"] = p.value("total_credits", 0.0) + t["add_credits"].get<double>();
    if (t.contains("expiry_date")) p["expiry_date"] = t["expiry_date"];
    if (t.contains("limit")) {
      const std::string type = p.value("package_type", std::string("credits"));
      p[type == "daily" ? "limit_per_day" : type == "rolling_window" ? "limit_per_window" : "total_credits"] = t["limit"];
    }
  }
  return c;
}

struct PackageTrack {
  std::string id, provider, unit, currency;
  PackageType type;
  bool sliding = false;
  std::optional<int64_t> exhausts_at;
  double wasted_units = 0;
  double used_units = 0;
  std::optional<int64_t> last_reset_at;
  bool expired_counted = false;
  std::vector<double> series;
};

Json run_policy(const Json& state, const Json& catalog, const Scenario& sc, const std::string& policy) {
  Engine engine;
  const CatalogLoadResult loaded = engine.load_catalog(catalog.dump(), "state");
  if (!loaded.ok) throw bad("state catalog: " + loaded.error);
  Json cfg = Json::object();
  cfg["weights"] = Json{{"quota_aware", policy == "quota_aware"}};
  Json providers = Json::array();
  if (state.contains("providers") && state["providers"].is_array())
    for (const Json& p : state["providers"])
      if (std::find(sc.disabled_providers.begin(), sc.disabled_providers.end(), p.value("id", "")) == sc.disabled_providers.end())
        providers.push_back(p);
  if (!providers.empty()) cfg["providers"] = providers;
  const std::string err = engine.configure(dump_json(cfg));
  if (!err.empty()) throw bad(err);
  std::vector<std::string> skip_base = sc.disabled_providers;  // for catalog-only states
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

  std::vector<PackageTrack> tracks;
  std::map<std::string, size_t> track_of;
  for (const Package& p : engine.catalog().packages) {
    PackageTrack t;
    t.id = p.id;
    t.provider = p.provider_id;
    t.type = p.type;
    t.currency = p.currency;
    t.unit = p.type == PackageType::kCredits ? p.currency : "requests";
    t.sliding = p.type == PackageType::kRollingWindow && p.window_mode == WindowMode::kSliding;
    track_of[p.id] = tracks.size();
    tracks.push_back(t);
  }

  std::vector<double> carry(sc.traffic.size(), 0.0);
  std::map<std::string, double> share;
  double requests = 0, served = 0, unserved = 0, failed_attempts = 0;
  Json times = Json::array();
  const int64_t sample_ms = static_cast<int64_t>(sc.sample_minutes) * kMsPerMinute;
  int64_t next_sample = sc.start;

  auto sample = [&](int64_t t) {
    times.push_back(t);
    for (PackageTrack& tr : tracks) {
      const auto st = engine.status_of(tr.id, t);
      if (!st) continue;
      tr.series.push_back(round_to(st->remaining, 4));
      if (!tr.exhausts_at && st->alert == "exhausted") tr.exhausts_at = t;
      // Capacity lost: a fixed or daily window that reset since the last sample, or credits expiring.
      if (tr.type != PackageType::kCredits && !tr.sliding) {
        if (tr.last_reset_at && *tr.last_reset_at <= t) {
          const auto before = engine.status_of(tr.id, *tr.last_reset_at - 1);
          if (before) tr.wasted_units += before->remaining;
        }
        tr.last_reset_at = st->reset_at;
      }
      // Only expiries inside the horizon count: credits that had expired before it were not lost to it.
      if (tr.type == PackageType::kCredits && !tr.expired_counted && st->expires_at && *st->expires_at > sc.start &&
          *st->expires_at <= t) {
        const auto before = engine.status_of(tr.id, *st->expires_at - 1);
        if (before) tr.wasted_units += before->remaining;
        tr.expired_counted = true;
      }
    }
  };

  const int64_t slot_ms = static_cast<int64_t>(sc.slot_minutes) * kMsPerMinute;
  for (int64_t t = sc.start; t < sc.end; t += slot_ms) {
    while (next_sample <= t) {
      sample(next_sample);
      next_sample += sample_ms;
    }
    const int hour = static_cast<int>(floor_div(t, kMsPerHour) % 24 + 24) % 24;
    const int whole_days = static_cast<int>((t - sc.start) / kMsPerDay);
    for (size_t k = 0; k < sc.traffic.size(); ++k) {
      const Traffic& tr = sc.traffic[k];
      double growth = 1;
      for (int d = 0; d < whole_days; ++d) growth *= 1 + tr.growth_per_day;
      carry[k] += tr.per_hour * tr.shape[hour] * growth * sc.slot_minutes / 60.0;
      double n = std::floor(carry[k] + 1e-9);
      carry[k] -= n;
      if (n <= 0) continue;
      requests += n;
      std::vector<std::string> skip = skip_base;
      while (n > 0) {
        // The operator's what-if: every account, whoever's credential it is.
        const RouteDecision d = engine.route(tr.model, t, false, skip, kAnyAccount);
        if (!d.ok || d.all_excluded) {
          unserved += n;
          break;
        }
        double capacity = n;
        std::optional<QuotaStatus> st;
        double per_request = 1;
        if (!d.package_id.empty()) {
          st = engine.status_of(d.package_id, t, d.account);
          if (st) {
            const Package* pkg = &engine.catalog().packages[track_of[d.package_id]];
            per_request = st->package_type == PackageType::kCredits ? tr.cost_per_request : (pkg ? pkg->weight_for(d.model) : 1);
            const bool blocked = st->alert == "exhausted" || st->alert == "expired";
            capacity = blocked ? 0 : (per_request > 0 ? std::floor(st->remaining / per_request + 1e-9) : n);
          }
        }
        const double take = std::min(n, capacity);
        if (take > 0) {
          UsageEvent ev;
          ev.ts_ms = t;
          ev.provider_id = d.provider_id;
          ev.model = d.model;
          ev.cost = tr.cost_per_request;  // per request; the event stands for `take` of them
          ev.count = take;
          ev.account = d.account;
          engine.record_usage(ev);
          share[d.provider_id] += take;
          served += take;
          if (st) tracks[track_of[d.package_id]].used_units += take * per_request;
        }
        n -= take;
        if (n > 0) {
          // The chosen package ran dry: the provider answers 429 until its capacity returns.
          if (st && !tracks[track_of[d.package_id]].exhausts_at) tracks[track_of[d.package_id]].exhausts_at = t;
          const int64_t back = st && st->reset_at && *st->reset_at > t ? *st->reset_at : sc.end + kMsPerDay;
          char header[64];
          std::snprintf(header, sizeof header, "retry-after: %lld", static_cast<long long>((back - t + 999) / 1000));
          engine.observe(d.provider_id, d.account, d.model, 429, parse_header_lines(header), "", -1, t);
          failed_attempts += 1;
          skip.push_back(d.account.empty() ? d.provider_id : d.provider_id + "\t" + d.account);
        }
      }
    }
  }
  sample(sc.end);

  Json out = Json::object();
  out["policy"] = policy;
  out["requests"] = requests;
  out["served"] = served;
  out["unserved"] = unserved;
  out["failed_attempts"] = failed_attempts;
  Json share_json = Json::object();
  for (const auto& [provider, count] : share) share_json[provider] = count;
  out["share"] = share_json;
  Json packages = Json::array();
  Json wasted_money = Json::object();
  Json series = Json::object();
  for (const PackageTrack& tr : tracks) {
    Json p = Json::object();
    p["package_id"] = tr.id;
    p["provider_id"] = tr.provider;
    p["unit"] = tr.unit;
    p["used_units"] = round_to(tr.used_units, 4);
    p["exhausts_at"] = tr.exhausts_at ? Json(format_iso_utc(*tr.exhausts_at)) : Json(nullptr);
    p["wasted_units"] = round_to(tr.wasted_units, 4);
    const double money = tr.type == PackageType::kCredits ? tr.wasted_units : 0;
    p["wasted_money"] = round_to(money, 4);
    p["currency"] = tr.currency;
    if (money > 0) wasted_money[tr.currency] = round_to(wasted_money.value(tr.currency, 0.0) + money, 4);
    packages.push_back(p);
    series[tr.id] = tr.series;
  }
  out["packages"] = packages;
  out["wasted_money"] = wasted_money;
  out["series"] = Json{{"t", times}, {"remaining", series}};
  return out;
}

// A whole count of requests as text, for any double (no integer cast that could overflow).
std::string count_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, std::fabs(v) < 1e15 ? "%.0f" : "%.6g", v);
  return buf;
}

std::string money_text(double v, const std::string& currency) {
  char buf[64];
  if (currency == "USD") std::snprintf(buf, sizeof buf, "$%.2f", v);
  else if (currency == "CNY") std::snprintf(buf, sizeof buf, "\xC2\xA5%.2f", v);
  else std::snprintf(buf, sizeof buf, "%.2f %s", v, currency.c_str());
  return buf;
}

Json compare(const Json& aware, const Json& naive) {
  Json msgs = Json::array();
  for (size_t i = 0; i < aware["packages"].size(); ++i) {
    const Json& a = aware["packages"][i];
    const Json& n = naive["packages"][i];
    const double saved = n["wasted_units"].get<double>() - a["wasted_units"].get<double>();
    if (saved <= -0.005 && a["unit"] != "requests") {
      // Honest in both directions: spending free quotas first can leave paid credits to expire.
      msgs.push_back("without quota terms, " + money_text(-saved, a["currency"].get<std::string>()) + " more of " +
                     a["package_id"].get<std::string>() + " credits would be used before they expire");
      continue;
    }
    if (saved < 0.005) continue;
    if (a["unit"] == "requests")
      msgs.push_back("quota-aware routing uses " + count_text(saved) + " more " +
                     a["package_id"].get<std::string>() + " requests that would otherwise be lost at resets");
    else
      msgs.push_back("quota-aware routing uses " + money_text(saved, a["currency"].get<std::string>()) + " of " +
                     a["package_id"].get<std::string>() + " credits that would otherwise expire");
  }
  const double unserved = naive["unserved"].get<double>() - aware["unserved"].get<double>();
  if (unserved > 0) msgs.push_back("quota-aware routing serves " + count_text(std::floor(unserved)) + " more requests");
  const double failed = naive["failed_attempts"].get<double>() - aware["failed_attempts"].get<double>();
  if (failed > 0) msgs.push_back("quota-aware routing avoids " + count_text(std::floor(failed)) + " rejected attempts");
  Json c = Json::object();
  c["messages"] = msgs;
  c["unserved_delta"] = unserved;
  Json wasted = Json::object();
  for (const Json* side : {&naive, &aware})
    for (auto it = (*side)["wasted_money"].begin(); it != (*side)["wasted_money"].end(); ++it) wasted[it.key()] = 0.0;
  for (auto it = wasted.begin(); it != wasted.end(); ++it)
    it.value() = round_to(naive["wasted_money"].value(it.key(), 0.0) - aware["wasted_money"].value(it.key(), 0.0), 4);
  c["wasted_money_saved"] = wasted;
  return c;
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
    const Scenario sc = parse_scenario(scenario_doc, state_time.value_or(0));
    const Json catalog = tweaked_catalog(state["catalog"], sc.tweaks);
    Json out = Json::object();
    out["start"] = format_iso_utc(sc.start);
    out["end"] = format_iso_utc(sc.end);
    Json policies = Json::object();
    for (const std::string& p : sc.policies) policies[p] = run_policy(state, catalog, sc, p);
    out["policies"] = policies;
    out["comparison"] = policies.contains("quota_aware") && policies.contains("naive")
                            ? compare(policies["quota_aware"], policies["naive"])
                            : Json(nullptr);
    return dump_json(out) + "\n";
  } catch (const nlohmann::json::parse_error& e) {
    return dump_json(Json{{"error", std::string("simulate: invalid JSON: ") + e.what()}}) + "\n";
  } catch (const std::exception& e) {
    return dump_json(Json{{"error", std::string("simulate: ") + e.what()}}) + "\n";
  }
}

}  // namespace qg
