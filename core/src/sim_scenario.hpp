// The simulator's scenario (docs/simulator.md): parsing and validation, catalog tweaks, and the
// demand it describes, slot by slot, identical for every policy. Internal to the simulator.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "quotagate/json.hpp"

namespace qg::sim {

struct Traffic {
  std::string model = "auto";
  double per_hour = 0;
  double shape[24];
  double growth_per_day = 0;
  double cost_per_request = 0.01;  // USD (and, for credit packages, in the package currency)
};

// The horizon is [start, end): what the scenario reports over time. Costs are settled over
// [start, settle): settle is the latest expiry of a balance that expires within kSettleDays after
// end (else end), and demand goes on with the same pattern until then, so that a balance expiring
// just after the horizon is neither "spent money" for a policy that uses it before it lapses nor
// free for one that leaves it. A reset or expiry at t is lost inside the settlement when
// start < t < settle, and a balance outlasts it when it expires at settle or later (or never).
constexpr int64_t kSettleDays = 60;

struct Scenario {
  int64_t start = 0, end = 0, settle = 0;
  int sample_minutes = 60;
  int slot_minutes = 1;
  std::vector<Traffic> traffic;
  std::vector<std::string> disabled_providers;
  Json tweaks = Json::array();
  std::vector<std::string> policies;
  int64_t slot_ms() const { return static_cast<int64_t>(slot_minutes) * 60000; }
  size_t slots() const { return static_cast<size_t>((settle - start + slot_ms() - 1) / slot_ms()); }
  bool loss_in_horizon(int64_t t) const { return t > start && t < settle; }
};

std::runtime_error bad(const std::string& what);
Scenario parse_scenario(const Json& s, int64_t state_time);
Json tweaked_catalog(const Json& catalog, const Json& tweaks);
// Sets sc.settle from the catalog's credit expiries (see Scenario).
void settle_horizon(Scenario& sc, const std::vector<std::optional<int64_t>>& credit_expiries);
// Requests arriving per [stream][slot]: whole requests, the fractions carried to the next slot.
std::vector<std::vector<int64_t>> demand_of(const Scenario& sc);

}  // namespace qg::sim
