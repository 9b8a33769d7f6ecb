// Credit balances read from a provider's balance API, turned into the catalog's used/total.
// Pure: the poller (host) passes what it read and what it remembered; amounts in the package currency.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace qg {

struct BalanceReading {
  std::optional<double> remaining;  // balance left, when the API says it
  std::optional<double> total;      // a stated total (OpenRouter limit or credits, Kilo blocks)
  std::optional<double> used;       // a stated usage
};

struct BalanceMemory {
  double catalog_total = 0;   // total_credits in the catalog now
  double catalog_used = 0;    // used_credits in the catalog now
  std::optional<double> last_balance;  // the previous reading
  std::optional<double> peak_balance;  // highest balance since the last top-up
};

struct BalanceUpdate {
  double total = 0, used = 0;
  std::optional<double> last_balance, peak_balance;
  std::optional<double> topup;  // amount added since the previous reading, when the balance rose
};

// For balance-only readings: remaining = balance; a rise in balance is a top-up, added to the
// total so that used stays continuous; total = max(catalog total, peak since the last top-up);
// used = total - remaining. Stated totals and usage are taken as given.
BalanceUpdate apply_balance(const BalanceMemory& memory, const BalanceReading& reading);

// JSON in/out for the bindings: memory {catalog_total, catalog_used, last_balance, peak_balance},
// reading {remaining, total, used} -> {total_credits, used_credits, last_balance, peak_balance,
// topup} or {"error": ...}.
std::string apply_balance_json(std::string_view memory_json, std::string_view reading_json);

}  // namespace qg
