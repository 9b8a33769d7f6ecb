// Engine::route: the candidates for one request (providers serving the model, each package on each
// account the caller may use, with their cached status and any account or family block) handed
// to the router (router.cpp).
#include <algorithm>

#include "quotagate/civil_time.hpp"
#include "quotagate/engine.hpp"
#include "quotagate/model_windows.hpp"

namespace qg {

const RouteView& Engine::route_status(size_t k, int64_t second) const {
  CachedStatus& c = route_cache_[k];
  if (c.second_ms != second || c.version != package_version_[k]) {
    const Package& p = catalog_.packages[slots_[k].package];
    c.view = route_view_of(compute_status(p, usage_[k], live_[k], config_.thresholds, second), &p.id);
    if (const ProviderConfig* pc = provider_config(p.provider_id); pc && pc->overage_avoid) c.view.overage_serves = false;
    c.second_ms = second;
    c.version = package_version_[k];
  }
  return c.view;
}

const ProviderHealth* Engine::health_ptr(const std::string& provider) const {
  auto it = health_.find(provider);
  return it == health_.end() ? nullptr : &it->second;
}

void Engine::refresh_slot_health() const {
  if (slot_health_.size() == slots_.size() && slot_health_epoch_ == health_.size()) return;
  // std::map nodes never move, so the pointers stay valid until a provider is added.
  slot_health_.resize(slots_.size());
  for (size_t k = 0; k < slots_.size(); ++k) slot_health_[k] = health_ptr(catalog_.packages[slots_[k].package].provider_id);
  slot_health_epoch_ = health_.size();
}

// The account's 429 cooldown and any family window that blocks `model`, merged (the later end
// wins); nullptr when nothing blocks. Blocks live in scratch_blocks_ for the current call.
const ScopedBlock* Engine::block_for(size_t k, const std::string& model, int64_t second) const {
  const Slot& slot = slots_[k];
  const Package& p = catalog_.packages[slot.package];
  if (account_blocks_.empty() && family_blocks_.empty() && p.model_windows.empty() && live_[k].families.empty()) return nullptr;
  std::optional<ScopedBlock> out;
  auto merge = [&](std::optional<int64_t> until, const std::string& reason) {
    if (!out) {
      out = ScopedBlock{until, reason};
      return;
    }
    if (!until || (out->until && *until > *out->until)) out->until = until;
    out->reason += "; " + reason;
  };
  const std::string key = p.provider_id + "\t" + slot.account;
  if (!account_blocks_.empty())
    if (auto it = account_blocks_.find(key); it != account_blocks_.end() && it->second.until && *it->second.until > second)
      merge(it->second.until, (slot.account.empty() ? "cooldown (" : "account cooldown (") + it->second.reason + ")");
  const bool any = model == "auto" || model.empty();
  if (!any && !family_blocks_.empty()) {
    for (auto it = family_blocks_.lower_bound(key + "\t"); it != family_blocks_.end() && it->first.compare(0, key.size() + 1, key + "\t") == 0; ++it) {
      const std::string family = it->first.substr(key.size() + 1);
      if (!it->second.until || *it->second.until <= second) continue;
      bool member = model_in_family(family, model, {});
      for (const auto& [f, m] : learned_families_) member = member || (f == family && m == model);
      for (const auto& mw : p.model_windows)
        if (mw.family == family) member = member || model_in_family(family, model, mw.models);
      if (member) merge(it->second.until, "cooldown (" + it->second.reason + ")");
    }
  }
  if (!any && (!p.model_windows.empty() || !live_[k].families.empty())) {
    const auto windows = model_window_statuses(p, usage_[k], live_[k], second);
    const ProviderConfig* pc = provider_config(p.provider_id);
    const bool overage = live_[k].overage && live_[k].overage->available && !(pc && pc->overage_avoid);
    if (auto b = family_block(windows, model, learned_families_, overage))
      merge(b->until, b->family + " window exhausted");
  }
  if (!out) return nullptr;
  scratch_blocks_.push_back(*out);
  return &scratch_blocks_.back();
}

std::vector<RouteCandidateInput> Engine::candidates_for(const std::string& model, int64_t second,
                                                        const std::vector<std::string>& skip, const std::string& caller) const {
  std::vector<RouteCandidateInput> out;
  // Pointers into scratch_blocks_ must stay valid: at most one block per state or account.
  scratch_blocks_.clear();
  size_t account_count = 0;
  for (const auto& [provider, accounts] : accounts_) account_count += accounts.size();
  scratch_blocks_.reserve(slots_.size() + account_count + 1);
  auto skipped = [&](const std::string& id) { return !skip.empty() && std::find(skip.begin(), skip.end(), id) != skip.end(); };
  const bool any = model == "auto" || model.empty();
  auto matches = [&](const std::string& pattern) { return model_pattern_matches(pattern, model); };
  static const std::string kNone;
  if (!providers_.empty()) {
    for (const auto& pc : providers_) {
      bool serves = any;
      for (const auto& m : pc.models) serves = serves || matches(m);
      if (!serves || skipped(pc.id)) continue;
      const ProviderHealth* h = health_ptr(pc.id);
      auto acc = accounts_.find(pc.id);
      if (acc == accounts_.end()) continue;
      auto it = slots_by_provider_.find(pc.id);
      for (const std::string& account : acc->second) {
        // A caller's own credential is the only account of an auth: client provider it may use.
        if (pc.client_auth && caller != kAnyAccount && account != caller) continue;
        if (!skip.empty() && skipped(pc.id + "\t" + account)) continue;
        if (it == slots_by_provider_.end()) {  // a provider without a quota package
          const ScopedBlock* block = nullptr;
          const std::string key = pc.id + "\t" + account;
          if (auto b = account_blocks_.find(key); b != account_blocks_.end() && b->second.until && *b->second.until > second) {
            scratch_blocks_.push_back(ScopedBlock{b->second.until, "account cooldown (" + b->second.reason + ")"});
            block = &scratch_blocks_.back();
          }
          out.push_back({&pc.id, nullptr, h, &account, block});
          continue;
        }
        for (size_t k : it->second) {
          if (slots_[k].account != account) continue;
          const Package& p = catalog_.packages[slots_[k].package];
          if (any || p.models.empty() || p.serves(model))
            out.push_back({&pc.id, &route_status(k, second), h, &slots_[k].account, block_for(k, model, second)});
        }
      }
    }
    return out;
  }
  out.reserve(slots_.size());
  refresh_slot_health();
  for (size_t k = 0; k < slots_.size(); ++k) {
    const Package& p = catalog_.packages[slots_[k].package];
    if ((!any && !p.serves(model)) || skipped(p.provider_id)) continue;
    if (!slots_[k].account.empty() && caller != kAnyAccount && slots_[k].account != caller) continue;
    if (!skip.empty() && skipped(p.provider_id + "\t" + slots_[k].account)) continue;
    out.push_back({&p.provider_id, &route_status(k, second), slot_health_[k], &slots_[k].account, block_for(k, model, second)});
  }
  return out;
}

namespace {

std::string first_concrete(const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (!n.empty() && n.back() != '*') return n;
  return "";
}

}  // namespace

RouteDecision Engine::route(const std::string& requested, int64_t now, bool explain, const std::vector<std::string>& skip,
                            const std::string& caller) const {
  const std::string model = requested.empty() ? "auto" : requested;
  // The end of the current second: every event recorded so far (ts <= now) is included.
  const int64_t second = -floor_div(-now, kMsPerSecond) * kMsPerSecond;
  std::vector<RouteCandidateInput> inputs = candidates_for(model, second, skip, caller);
  // For "auto" the upstream needs a concrete model: the first non-pattern name we know.
  auto send_for = [&](const RouteCandidateInput& in) {
    if (model != "auto") return model;
    const Package* p = nullptr;
    if (in.status)
      for (const auto& pkg : catalog_.packages)
        if (&pkg.id == in.status->package_id) p = &pkg;
    std::string m = p ? first_concrete(p->models) : "";
    if (m.empty())
      for (const auto& pc : providers_)
        if (pc.id == *in.provider_id) m = first_concrete(pc.models);
    if (m.empty() && p && !p->model_weights.empty()) m = p->model_weights[0].first;
    return m.empty() ? model : m;
  };
  std::vector<std::string> models;
  if (explain)
    for (const auto& in : inputs) models.push_back(send_for(in));
  RouteDecision d = decide_route(model, inputs, config_.weights, now, explain, explain ? &models : nullptr);
  if (d.ok && !explain) d.model = send_for(inputs[d.winner]);
  return d;
}

}  // namespace qg
