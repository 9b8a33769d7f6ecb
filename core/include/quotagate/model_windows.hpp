// Model-family windows: limits that cover only one family of an account's models (Claude's
// 7d_opus, 7d_sonnet, 7d_oi ...). They never make a package exhausted; they block requests of
// their family only. Pure: `now` (ms) is a parameter.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quotagate/catalog.hpp"
#include "quotagate/quota_tracker.hpp"
#include "quotagate/usage_ledger.hpp"

namespace qg {

// One status per family: every window the catalog declares, then every family the provider
// reported that the catalog does not. A reading counts until its reset (or, without a reset, for
// one window length after it was taken).
std::vector<ModelWindowStatus> model_window_statuses(const Package& p, const PackageUsage& u, const PackageLive& live,
                                                     int64_t now_ms);

// A family window that blocks `model` now: its family and when it frees up (nullopt: unknown).
struct FamilyBlock {
  std::string family;
  std::optional<int64_t> until;
};
// learned: models a rejection showed to belong to a family ({family, model} pairs).
// overage_serves: the provider serves beyond the plan (and the operator allows it): a rejected
// reading then blocks nothing, a local count at its limit still does.
std::optional<FamilyBlock> family_block(const std::vector<ModelWindowStatus>& windows, std::string_view model,
                                        const std::vector<std::pair<std::string, std::string>>& learned,
                                        bool overage_serves);

// Adds one event's weighted units to the family timelines it belongs to.
void record_family_usage(const Package& p, PackageUsage& u, std::string_view model, int64_t ts_ms, double units);

Json model_window_to_json(const ModelWindowStatus& w);

}  // namespace qg
