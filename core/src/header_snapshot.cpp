// HeaderSnapshot helpers and its JSON rendering (field order is part of the golden vectors).
#include "quotagate/header_snapshot.hpp"

#include <algorithm>
#include <cmath>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"
#include "json_fields.hpp"

namespace qg {

void HeaderSnapshot::add_dialect(const std::string& d) {
  if (dialect == "none" || dialect.empty()) {
    dialect = d;
    return;
  }
  const std::string wrapped = "+" + dialect + "+";
  if (wrapped.find("+" + d + "+") != std::string::npos) return;
  dialect += "+" + d;
}

bool OverageState::available() const {
  if (status == "rejected") return false;
  if (status == "allowed" || status == "allowed_warning" || (in_use && *in_use)) return true;
  if (unlimited && *unlimited) return true;
  return has_credits && *has_credits && (!credits_balance || *credits_balance > 0);
}

std::optional<int64_t> HeaderSnapshot::earliest_retry_at() const {
  std::optional<int64_t> best;
  auto take = [&](std::optional<int64_t> t) {
    if (t && (!best || *t < *best)) best = t;
  };
  if (retry_after_s && *retry_after_s >= 0 && *retry_after_s < 1e10)
    take(observed_at + static_cast<int64_t>(std::ceil(*retry_after_s * 1000)));
  if (!best) {
    for (const auto& w : windows)
      if (w.status == "rejected" || (w.utilization && *w.utilization >= 1)) take(w.reset_at);
    for (const LimitState* l : {&requests, &tokens, &input_tokens, &output_tokens})
      if (l->remaining && *l->remaining <= 0) take(l->reset_at);
  }
  return best;
}

namespace {

Json limit_json(const LimitState& l) {
  Json j = Json::object();
  j["limit"] = num_or_null(l.limit);
  j["remaining"] = num_or_null(l.remaining);
  j["reset_at"] = iso_or_null(l.reset_at);
  return j;
}

}  // namespace

Json snapshot_to_json(const HeaderSnapshot& s) {
  Json j = Json::object();
  j["dialect"] = s.dialect;
  j["status"] = s.status;
  j["observed_at"] = format_iso_utc(s.observed_at);
  j["requests"] = limit_json(s.requests);
  j["tokens"] = limit_json(s.tokens);
  j["input_tokens"] = limit_json(s.input_tokens);
  j["output_tokens"] = limit_json(s.output_tokens);
  Json windows = Json::array();
  for (const auto& w : s.windows) {
    Json wj = Json::object();
    wj["name"] = w.name;
    wj["window_minutes"] = num_or_null(w.window_minutes);
    wj["utilization"] = num_or_null(w.utilization);
    wj["limit"] = num_or_null(w.limit);
    wj["status"] = str_or_null(w.status);
    wj["reset_at"] = iso_or_null(w.reset_at);
    if (!w.scope.empty()) wj["scope"] = w.scope;
    windows.push_back(wj);
  }
  j["windows"] = windows;
  j["retry_after_s"] = num_or_null(s.retry_after_s);
  j["retryable"] = s.retryable;
  j["request_too_large"] = s.request_too_large;
  j["representative_claim"] = str_or_null(s.representative_claim);
  if (!s.overage.empty()) {
    Json o = Json::object();
    o["status"] = str_or_null(s.overage.status);
    o["in_use"] = s.overage.in_use ? Json(*s.overage.in_use) : Json(nullptr);
    o["disabled_reason"] = str_or_null(s.overage.disabled_reason);
    o["has_credits"] = s.overage.has_credits ? Json(*s.overage.has_credits) : Json(nullptr);
    o["unlimited"] = s.overage.unlimited ? Json(*s.overage.unlimited) : Json(nullptr);
    o["credits_balance"] = num_or_null(s.overage.credits_balance);
    o["available"] = s.overage.available();
    j["overage"] = o;
  }
  j["error_type"] = str_or_null(s.error_type);
  const auto retry_at = s.earliest_retry_at();
  j["retry_at"] = iso_or_null(retry_at);
  j["diagnostics"] = s.diagnostics;
  return j;
}

}  // namespace qg
