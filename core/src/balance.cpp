// Balance readings -> used/total (see balance.hpp).
#include "quotagate/balance.hpp"

#include <algorithm>

#include "quotagate/det_math.hpp"
#include "json_fields.hpp"
#include "quotagate/json.hpp"
#include "quotagate/text.hpp"

namespace qg {

BalanceUpdate apply_balance(const BalanceMemory& m, const BalanceReading& r) {
  BalanceUpdate u;
  if (!r.remaining) {
    u.total = r.total.value_or(m.catalog_total);
    u.used = r.used.value_or(m.catalog_used);
  } else if (r.total) {
    u.total = *r.total;
    u.used = r.used.value_or(*r.total - *r.remaining);
  } else {
    double total = m.catalog_total;
    double peak = m.peak_balance.value_or(*r.remaining);
    if (m.last_balance && *r.remaining > *m.last_balance + 1e-9) {
      u.topup = *r.remaining - *m.last_balance;
      total += *u.topup;
      peak = *r.remaining;
    }
    peak = std::max(peak, *r.remaining);
    u.total = std::max(total, peak);
    u.used = u.total - *r.remaining;
    u.peak_balance = round_to(peak, 6);
  }
  if (r.remaining) u.last_balance = round_to(*r.remaining, 6);
  u.total = round_to(std::max(0.0, u.total), 6);
  u.used = round_to(std::max(0.0, u.used), 6);
  if (u.topup) u.topup = round_to(*u.topup, 6);
  return u;
}

namespace {
std::optional<double> opt_number(const Json& j, const char* key) {
  if (j.contains(key) && j[key].is_number()) return j[key].get<double>();
  return std::nullopt;
}
}  // namespace

std::string apply_balance_json(std::string_view memory_text, std::string_view reading_text) {
  if (json_too_deep(memory_text) || json_too_deep(reading_text)) return dump_json(Json{{"error", "balance: JSON nested too deep"}});
  const Json mj = Json::parse(memory_text.begin(), memory_text.end(), nullptr, false);
  const Json rj = Json::parse(reading_text.begin(), reading_text.end(), nullptr, false);
  if (!mj.is_object() || !rj.is_object()) return dump_json(Json{{"error", "balance: expected two JSON objects"}});
  BalanceMemory m;
  m.catalog_total = opt_number(mj, "catalog_total").value_or(0);
  m.catalog_used = opt_number(mj, "catalog_used").value_or(0);
  m.last_balance = opt_number(mj, "last_balance");
  m.peak_balance = opt_number(mj, "peak_balance");
  BalanceReading r{opt_number(rj, "remaining"), opt_number(rj, "total"), opt_number(rj, "used")};
  const BalanceUpdate u = apply_balance(m, r);
  Json out = Json::object();
  out["total_credits"] = u.total;
  out["used_credits"] = u.used;
  out["last_balance"] = num_or_null(u.last_balance);
  out["peak_balance"] = num_or_null(u.peak_balance);
  out["topup"] = num_or_null(u.topup);
  return dump_json(out);
}

}  // namespace qg
