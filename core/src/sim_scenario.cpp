// Scenario parsing, catalog tweaks and the demand series (sim_scenario.hpp).
#include "sim_scenario.hpp"

#include <algorithm>
#include <cmath>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"
#include "quotagate/engine.hpp"

namespace qg::sim {

std::runtime_error bad(const std::string& what) { return std::runtime_error("scenario: " + what); }

namespace {

double number_at(const Json& j, const char* key, double fallback, double min, double max) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number()) throw bad(std::string(key) + ": expected a number");
  const double v = j[key].get<double>();
  if (!(v >= min && v <= max)) throw bad(std::string(key) + ": expected a number in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return v;
}

}  // namespace

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
  sc.settle = sc.end;
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
  if (s.contains("policy") && !s["policy"].is_string()) throw bad("policy: expected quota_aware | naive | hindsight | both | all");
  const std::string policy = s.value("policy", std::string("all"));
  if (policy == "all") sc.policies = {"quota_aware", "naive", "hindsight"};
  else if (policy == "both") sc.policies = {"quota_aware", "naive"};
  else if (policy == "quota_aware" || policy == "naive" || policy == "hindsight") sc.policies = {policy};
  else throw bad("policy: expected quota_aware | naive | hindsight | both | all");
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

void settle_horizon(Scenario& sc, const std::vector<std::optional<int64_t>>& credit_expiries) {
  sc.settle = sc.end;
  for (const auto& e : credit_expiries)
    if (e && *e >= sc.end && *e <= sc.end + kSettleDays * kMsPerDay) sc.settle = std::max(sc.settle, *e + sc.slot_ms());
}

std::vector<std::vector<int64_t>> demand_of(const Scenario& sc) {
  const size_t slots = sc.slots();
  std::vector<std::vector<int64_t>> out(sc.traffic.size(), std::vector<int64_t>(slots, 0));
  for (size_t k = 0; k < sc.traffic.size(); ++k) {
    const Traffic& tr = sc.traffic[k];
    double carry = 0;
    for (size_t i = 0; i < slots; ++i) {
      const int64_t t = sc.start + static_cast<int64_t>(i) * sc.slot_ms();
      const int hour = static_cast<int>(floor_div(t, kMsPerHour) % 24 + 24) % 24;
      const int whole_days = static_cast<int>((t - sc.start) / kMsPerDay);
      double growth = 1;
      for (int d = 0; d < whole_days; ++d) growth *= 1 + tr.growth_per_day;
      carry += tr.per_hour * tr.shape[hour] * growth * sc.slot_minutes / 60.0;
      const double n = std::floor(carry + 1e-9);
      carry -= n;
      out[k][i] = static_cast<int64_t>(n);
    }
  }
  return out;
}

}  // namespace qg::sim
