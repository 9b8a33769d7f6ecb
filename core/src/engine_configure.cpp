// Engine::configure: routing weights, alert thresholds, cooldown and learning settings, and the
// provider list with each provider's auth (key | client), overage policy and accounts, from one
// JSON document (docs/engine.md). Every error names the key and what was expected.
#include <algorithm>
#include <cmath>

#include "quotagate/civil_time.hpp"
#include "quotagate/engine.hpp"
#include "quotagate/text.hpp"

namespace qg {

namespace {

// max bounds values that become integers (ms, counts): converting a larger double is undefined.
std::string read_double(const Json& obj, const char* key, double& out, const std::string& where, bool positive,
                        double max = 1e12) {
  if (!obj.contains(key)) return "";
  const Json& v = obj[key];
  if (!v.is_number() || (positive ? !(v.get<double>() > 0) : v.get<double>() < 0) || !(v.get<double>() <= max))
    return where + "." + key + ": expected a " + (positive ? "positive" : "non-negative") + " number up to " + dump_json(Json(max)) +
           ", got " + dump_json(v);
  out = v.get<double>();
  return "";
}

}  // namespace

std::string Engine::configure(std::string_view text) {
  if (json_too_deep(text)) return "engine config: JSON nested too deep";
  const Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "engine config: expected a JSON object";
  EngineConfig c = config_;
  std::vector<ProviderConfig> providers = providers_;
  static const char* kTop[] = {"thresholds", "weights", "providers", "default_cooldown_s", "learn_after_rejections",
                               "unhealthy_after_failures", "event_retention_days", "max_upstream_wait_s", "model_groups"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find_if(std::begin(kTop), std::end(kTop), [&](const char* k) { return it.key() == k; }) == std::end(kTop))
      return "engine config: unknown key \"" + it.key() + "\"";
  }
  std::string err;
  if (j.contains("thresholds")) {
    const Json& t = j["thresholds"];
    if (!t.is_object()) return "engine config: thresholds: expected an object";
    AlertThresholds& a = c.thresholds;
    const std::pair<const char*, double*> fields[] = {
        {"credits_use_or_lose_days", &a.credits_use_or_lose_days}, {"credits_topup_days", &a.credits_topup_days},
        {"credits_watch_days", &a.credits_watch_days},             {"window_topup_ratio", &a.window_topup_ratio},
        {"window_watch_ratio", &a.window_watch_ratio},             {"window_use_or_lose_elapsed", &a.window_use_or_lose_elapsed},
        {"window_use_or_lose_min_ratio", &a.window_use_or_lose_min_ratio}, {"burn_half_life_days", &a.burn_half_life_days}};
    for (auto it = t.begin(); it != t.end(); ++it) {
      bool known = it.key() == "burn_lookback_days";
      for (const auto& f : fields) known = known || it.key() == f.first;
      if (!known) return "engine config: thresholds: unknown key \"" + it.key() + "\"";
    }
    for (const auto& f : fields)
      if (!(err = read_double(t, f.first, *f.second, "engine config: thresholds", f.second == &a.burn_half_life_days)).empty()) return err;
    if (t.contains("burn_lookback_days")) {
      if (!t["burn_lookback_days"].is_number_integer() || t["burn_lookback_days"].get<int64_t>() < 1 || t["burn_lookback_days"].get<int64_t>() > 35)
        return "engine config: thresholds.burn_lookback_days: expected an integer 1..35";
      a.burn_lookback_days = t["burn_lookback_days"].get<int>();
    }
  }
  if (j.contains("weights")) {
    const Json& w = j["weights"];
    if (!w.is_object()) return "engine config: weights: expected an object";
    RouterWeights& r = c.weights;
    static const char* kRemoved[] = {"health", "failures_base", "failures_step", "latency_unknown", "package_max", "use_or_lose",
                                     "expiry_7d", "expiry_30d", "expiring_capacity", "latency_score"};
    for (auto it = w.begin(); it != w.end(); ++it) {
      for (const char* k : kRemoved)
        if (it.key() == k)
          return "engine config: weights." + it.key() +
                 ": no longer used: the plan orders candidates by cost, value at risk and time to loss, with health and latency as "
                 "tie-breaks (docs/quota-model.md); remove it";
      if (it.key() != "quota_aware" && it.key() != "latency_band_ms") return "engine config: weights: unknown key \"" + it.key() + "\"";
    }
    if (w.contains("quota_aware")) {
      if (!w["quota_aware"].is_boolean()) return "engine config: weights.quota_aware: expected true or false";
      r.quota_aware = w["quota_aware"].get<bool>();
    }
    if (w.contains("latency_band_ms")) {
      const Json& b = w["latency_band_ms"];
      if (!b.is_array() || b.size() != 4) return "engine config: weights.latency_band_ms: expected 4 ascending numbers (ms)";
      for (int i = 0; i < 4; ++i) {
        if (!b[i].is_number() || !(b[i].get<double>() >= 0) || !(b[i].get<double>() <= 1e9) || (i > 0 && b[i].get<double>() < b[i - 1].get<double>()))
          return "engine config: weights.latency_band_ms: expected 4 ascending numbers (ms)";
        r.latency_band_ms[i] = b[i].get<double>();
      }
    }
  }
  if (j.contains("model_groups")) {
    const Json& gs = j["model_groups"];
    if (!gs.is_object()) return "engine config: model_groups: expected an object {NAME: {members, strategy}}";
    c.model_groups.clear();
    for (auto it = gs.begin(); it != gs.end(); ++it) {
      const std::string where = "engine config: model_groups." + it.key();
      if (it.key().empty() || it.key().size() > 128 || it.key() == "auto") return where + ": expected a name of 1..128 characters other than auto";
      const Json& g = it.value();
      if (!g.is_object()) return where + ": expected {members: [\"provider/model\", ...], strategy}";
      for (auto k = g.begin(); k != g.end(); ++k)
        if (k.key() != "members" && k.key() != "strategy") return where + ": unknown key \"" + k.key() + "\"";
      ModelGroup mg;
      mg.name = it.key();
      if (g.contains("strategy")) {
        if (!g["strategy"].is_string() || (g["strategy"] != "ordered" && g["strategy"] != "use_or_lose"))
          return where + ".strategy: expected \"use_or_lose\" or \"ordered\"";
        mg.ordered = g["strategy"] == "ordered";
      }
      if (!g.contains("members") || !g["members"].is_array() || g["members"].empty() || g["members"].size() > 64)
        return where + ".members: expected 1..64 strings \"provider/model\"";
      for (size_t i = 0; i < g["members"].size(); ++i) {
        const Json& m = g["members"][i];
        const std::string mw = where + ".members[" + std::to_string(i) + "]";
        const std::string text = m.is_string() ? m.get<std::string>() : "";
        const size_t slash = text.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == text.size() || text.size() > 256 ||
            text.find('*') != std::string::npos)
          return mw + ": expected \"provider/model\" (a provider id, a slash, a concrete model name)";
        mg.members.emplace_back(text.substr(0, slash), text.substr(slash + 1));
      }
      c.model_groups.push_back(mg);
    }
  }
  if (j.contains("providers")) {
    const Json& ps = j["providers"];
    if (!ps.is_array()) return "engine config: providers: expected an array of {id, models}";
    providers.clear();
    for (size_t i = 0; i < ps.size(); ++i) {
      const Json& p = ps[i];
      const std::string where = "engine config: providers[" + std::to_string(i) + "]";
      if (!p.is_object() || !p.contains("id") || !p["id"].is_string() || p["id"].get<std::string>().empty())
        return where + ".id: expected a non-empty string";
      ProviderConfig pc;
      pc.id = p["id"].get<std::string>();
      if (p.contains("models")) {
        if (!p["models"].is_array()) return where + ".models: expected an array of strings";
        for (const auto& m : p["models"]) {
          if (!m.is_string() || m.get<std::string>().empty()) return where + ".models: expected non-empty strings";
          pc.models.push_back(m.get<std::string>());
        }
      }
      if (p.contains("auth")) {
        if (!p["auth"].is_string() || (p["auth"] != "key" && p["auth"] != "client"))
          return where + ".auth: expected \"key\" or \"client\"";
        pc.client_auth = p["auth"] == "client";
      }
      if (p.contains("overage")) {
        if (!p["overage"].is_string() || (p["overage"] != "allow" && p["overage"] != "avoid"))
          return where + ".overage: expected \"allow\" or \"avoid\"";
        pc.overage_avoid = p["overage"] == "avoid";
      }
      if (p.contains("accounts")) {
        if (!p["accounts"].is_array()) return where + ".accounts: expected an array of {id, name}";
        for (size_t k = 0; k < p["accounts"].size(); ++k) {
          const Json& a = p["accounts"][k];
          const std::string aw = where + ".accounts[" + std::to_string(k) + "]";
          if (!a.is_object() || !a.contains("id") || !a["id"].is_string() || a["id"].get<std::string>().empty() ||
              a["id"].get<std::string>().size() > 64 || a["id"].get<std::string>() == kAnyAccount ||
              a["id"].get<std::string>().find_first_of("\t\n") != std::string::npos)
            return aw + ".id: expected a non-empty string of at most 64 characters without tabs or newlines";
          AccountConfig ac;
          ac.id = a["id"].get<std::string>();
          if (a.contains("name")) {
            if (!a["name"].is_string() || a["name"].get<std::string>().size() > 64) return aw + ".name: expected a string of at most 64 characters";
            ac.name = a["name"].get<std::string>();
          }
          for (const auto& other : pc.accounts)
            if (other.id == ac.id) return aw + ".id: \"" + ac.id + "\" is listed twice";
          pc.accounts.push_back(ac);
        }
      }
      providers.push_back(pc);
    }
  }
  double cooldown_s = static_cast<double>(c.default_cooldown_ms) / 1000.0;
  if (!(err = read_double(j, "default_cooldown_s", cooldown_s, "engine config", false, 366.0 * 86400)).empty()) return err;
  c.default_cooldown_ms = static_cast<int64_t>(std::llround(cooldown_s * 1000));
  double learn = c.learn_after_rejections, unhealthy = c.unhealthy_after_failures;
  if (!(err = read_double(j, "learn_after_rejections", learn, "engine config", true, 1e6)).empty()) return err;
  if (!(err = read_double(j, "unhealthy_after_failures", unhealthy, "engine config", true, 1e6)).empty()) return err;
  c.learn_after_rejections = static_cast<int>(learn);
  c.unhealthy_after_failures = static_cast<int>(unhealthy);
  double retention_days = static_cast<double>(c.event_retention_ms) / kMsPerDay;
  if (!(err = read_double(j, "event_retention_days", retention_days, "engine config", true, 3660)).empty()) return err;
  c.event_retention_ms = static_cast<int64_t>(std::llround(retention_days * kMsPerDay));
  double max_wait_s = static_cast<double>(c.max_upstream_wait_ms) / 1000.0;
  if (!(err = read_double(j, "max_upstream_wait_s", max_wait_s, "engine config", false, 366.0 * 86400)).empty()) return err;
  if (max_wait_s < 1) return "engine config: max_upstream_wait_s: expected a number >= 1";
  c.max_upstream_wait_ms = static_cast<int64_t>(std::llround(max_wait_s * 1000));
  config_ = c;
  const bool accounts_changed = j.contains("providers");
  providers_ = providers;
  for (auto& [id, h] : health_) h.unhealthy_after = config_.unhealthy_after_failures;
  if (accounts_changed) rebuild_usage(live_by_key());  // accounts (and so states) may differ
  else route_cache_.assign(slots_.size(), CachedStatus{});  // route_views_ are recomputed with it
  return "";
}

}  // namespace qg
