// Policy comparison (sim_compare.hpp).
#include "sim_compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "quotagate/det_math.hpp"

namespace qg::sim {

namespace {

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

Json compare_naive(const Json& aware, const Json& naive) {
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

// How far quota_aware is from the hindsight optimum (target: at most 5 % more cost, or at most
// $0.05 when the optimum is about 0, and never more unserved requests), and what it saves over naive.
Json compare(const Json& policies) {
  const Json& aware = policies["quota_aware"];
  Json c = policies.contains("naive") ? compare_naive(aware, policies["naive"]) : Json{{"messages", Json::array()}};
  if (policies.contains("hindsight")) {
    const Json& h = policies["hindsight"];
    const double ca = aware["cost_usd"].get<double>(), ch = h["cost_usd"].get<double>();
    const double gap = ca - ch;
    Json o = Json::object();
    o["quota_aware_cost_usd"] = ca;
    o["hindsight_cost_usd"] = ch;
    o["gap_usd"] = round_to(gap, 4);
    o["gap_ratio"] = std::fabs(ch) > 1e-9 ? Json(round_to(gap / std::fabs(ch), 4)) : Json(nullptr);
    o["unserved_delta"] = aware["unserved"].get<double>() - h["unserved"].get<double>();
    o["within_target"] = gap <= std::max(0.05 * std::fabs(ch), 0.05) + 1e-9 && aware["unserved"].get<double>() <= h["unserved"].get<double>();
    c["hindsight"] = o;
    char buf[200];
    std::snprintf(buf, sizeof buf, "quota-aware routing costs %s; the hindsight optimum %s (%s more)", money_text(ca, "USD").c_str(),
                  money_text(ch, "USD").c_str(), money_text(gap, "USD").c_str());
    c["messages"].push_back(buf);
  }
  return c;
}

}  // namespace qg::sim
