// Engine::route: the candidates for one request (providers serving the model, each package on each
// account the caller may use, with their cached status and any account or family block) handed
// to the router (router.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "quotagate/civil_time.hpp"
#include "quotagate/engine.hpp"
#include "quotagate/model_windows.hpp"

namespace qg {

const RouteView& Engine::route_status(size_t k, int64_t second) const {
  CachedStatus& c = route_cache_[k];
  RouteView& view = route_views_[k];
  if (c.second_ms != second || c.version != package_version_[k]) [[unlikely]] {
    const Package& p = catalog_.packages[slots_[k].package];
    view = route_view_of(compute_status(p, usage_[k], live_[k], config_.thresholds, second), p, &p.id, second);
    if (const ProviderConfig* pc = provider_config(p.provider_id); pc && pc->overage_avoid) view.overage_serves = false;
    const bool credits = p.type == PackageType::kCredits;
    view.recent_per_h = (credits ? usage_[k].timeline.cost_in(second - kMsPerDay, second)
                                   : usage_[k].timeline.units_in(second - kMsPerDay, second)) / 24;
    view.recent_since = usage_[k].timeline.first_in(second - kMsPerDay, second);
    if (credits) {
      // The mean cost of one of its requests over the burn lookback (currency units).
      const int64_t from = second - static_cast<int64_t>(config_.thresholds.burn_lookback_days) * kMsPerDay;
      const double units = usage_[k].timeline.units_in(from, second);
      if (units > 0) view.cost_per_request = usage_[k].timeline.cost_in(from, second) / units;
    }
    c.second_ms = second;
    c.version = package_version_[k];
  }
  return view;
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
  const bool any = model == "auto" || model.empty();  // no family window blocks "auto"
  if (any && account_blocks_.empty() && package_blocks_.empty()) return nullptr;
  const Slot& slot = slots_[k];
  const Package& p = catalog_.packages[slot.package];
  if (account_blocks_.empty() && family_blocks_.empty() && package_blocks_.empty() && p.model_windows.empty() &&
      live_[k].families.empty())
    return nullptr;
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
  if (!package_blocks_.empty())
    if (auto it = package_blocks_.find(key + "\t" + p.id); it != package_blocks_.end() && it->second.until && *it->second.until > second)
      merge(it->second.until, "package cooldown (" + it->second.reason + ")");
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

namespace {

bool concrete(const std::string& name) { return !name.empty() && name.find('*') == std::string::npos; }

}  // namespace

std::string Engine::auto_model(const std::string& provider, const Package* p) const {
  // The provider's first concrete model that the package serves, else the package's first concrete
  // model, else its weight key nearest weight 1 (the plain model, not the premium or small one),
  // else "auto" itself where the provider or package takes any name ("*"). A namespace pattern
  // ("blackboxai/*") names no model: such a candidate is left out of "auto".
  if (const ProviderConfig* pc = provider_config(provider))
    for (const auto& m : pc->models)
      if (concrete(m) && (!p || p->serves(m))) return m;
  // A provider that takes any name ("*") and names none: "auto" itself goes upstream.
  bool any_name = false;
  if (const ProviderConfig* pc = provider_config(provider))
    for (const auto& m : pc->models) any_name = any_name || m == "*";
  if (!p) return any_name ? "auto" : "";
  for (const auto& m : p->models)
    if (concrete(m)) return m;
  const std::pair<std::string, double>* best = nullptr;
  for (const auto& kv : p->model_weights)
    if (concrete(kv.first) && (!best || std::fabs(kv.second - 1) < std::fabs(best->second - 1))) best = &kv;
  if (best) return best->first;
  for (const auto& m : p->models) any_name = any_name || m == "*";
  return any_name ? "auto" : "";
}

double Engine::slot_weight(size_t k, const std::string& model) const {
  CachedStatus& c = route_cache_[k];
  if (!c.weighed || c.weighed_model != model) {
    c.weight = catalog_.packages[slots_[k].package].weight_for(model);
    c.weighed_model = model;
    c.weighed = true;
  }
  return c.weight;
}

double Engine::shadow_price(size_t k) const {
  CachedStatus& cache = route_cache_[k];
  if (cache.payg_version == payg_version_) return cache.shadow;
  const Package& p = catalog_.packages[slots_[k].package];
  double best = 0;
  for (const auto& [key, c] : payg_model_cost_) {
    const auto& [provider, model] = key;
    if (c.requests <= 0 || slots_by_provider_.count(provider) || !p.serves(model)) continue;  // only pay-as-you-go prices
    const double w = p.weight_for(model);
    if (w > 0) best = std::max(best, c.cost / c.requests / w);
  }
  cache.shadow = best;
  cache.payg_version = payg_version_;
  return best;
}

void Engine::add_candidates(const std::string& model, const std::string& only_provider, int group_rank, int64_t second,
                            const std::vector<std::string>& skip, const std::string& caller,
                            std::vector<RouteCandidateInput>& out) const {
  const bool no_skip = skip.empty();
  auto skipped = [&](const std::string& id) { return !no_skip && std::find(skip.begin(), skip.end(), id) != skip.end(); };
  const bool any = model == "auto" || model.empty();
  // "auto" meets no family window: only an account's or a package's cooldown can block it.
  const bool no_blocks = account_blocks_.empty() && package_blocks_.empty();
  auto payg = [&](const std::string& provider) {
    auto it = payg_cost_.find(provider);
    return it != payg_cost_.end() && it->second.requests > 0 ? it->second.cost / it->second.requests : -1.0;
  };
  // One candidate: the model it sends and its weight there.
  auto push = [&](const std::string* provider, size_t k, const ProviderHealth* h, const std::string* account, const ScopedBlock* block) {
    const Package* p = k == SIZE_MAX ? nullptr : &catalog_.packages[slots_[k].package];
    const std::string* send = &model;
    double weight = -1;  // windows: the weight of `send` (-1: look it up)
    if (any && p) {
      CachedStatus& c = route_cache_[k];
      if (!c.auto_known) {
        c.auto_send = auto_model(*provider, p);
        c.auto_weight = p->weight_for(c.auto_send);
        c.auto_known = true;
      }
      send = &c.auto_send;
      weight = c.auto_weight;
    } else if (any) {
      scratch_models_.push_back(auto_model(*provider, nullptr));
      send = &scratch_models_.back();
    }
    if (send->empty()) return;  // "auto" and nothing concrete known to send: not a candidate
    if (p && !skip.empty() && skipped(*provider + "\t" + *account + "\t" + p->id)) return;
    RouteCandidateInput& in = out.emplace_back();  // written in place: no copy of a half-written struct
    in.provider_id = provider;
    if (p) {
      const CachedStatus& c = route_cache_[k];  // the fresh case inline: no call per candidate
      in.status = c.second_ms == second && c.version == package_version_[k] ? &route_views_[k] : &route_status(k, second);
    }
    in.health = h;
    in.account = account;
    in.block = p && !(any && no_blocks) ? block_for(k, *send, second) : block;
    // The package's type from its view (in cache already), not from the catalog's Package.
    const bool window = p && in.status->package_type != PackageType::kCredits;
    if (window) in.weight = weight >= 0 ? weight : slot_weight(k, *send);
    else in.weight = p && in.status->cost_per_request ? *in.status->cost_per_request : 1;
    in.payg_cost_usd = p ? 0 : payg(*provider);
    if (window) in.shadow_per_unit = route_cache_[k].payg_version == payg_version_ ? route_cache_[k].shadow : shadow_price(k);
    in.group_rank = group_rank;
    in.model = send;
    if (p) in.state = static_cast<int>(k);
  };
  auto matches = [&](const std::string& pattern) { return model_pattern_matches(pattern, model); };
  if (!providers_.empty()) {
    for (const auto& pc : providers_) {
      if (!only_provider.empty() && pc.id != only_provider) continue;
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
        if (it == slots_by_provider_.end()) {  // a provider without a quota package: pay as you go
          const ScopedBlock* block = nullptr;
          const std::string key = pc.id + "\t" + account;
          if (auto b = account_blocks_.find(key); b != account_blocks_.end() && b->second.until && *b->second.until > second) {
            scratch_blocks_.push_back(ScopedBlock{b->second.until, "account cooldown (" + b->second.reason + ")"});
            block = &scratch_blocks_.back();
          }
          push(&pc.id, SIZE_MAX, h, &account, block);
          continue;
        }
        for (size_t k : it->second) {
          if (slots_[k].account != account) continue;
          const Package& p = catalog_.packages[slots_[k].package];
          if (any || p.models.empty() || p.serves(model)) push(&pc.id, k, h, &slots_[k].account, nullptr);
        }
      }
    }
    return;
  }
  refresh_slot_health();
  for (size_t k = 0; k < slots_.size(); ++k) {
    const Package& p = catalog_.packages[slots_[k].package];
    if (!only_provider.empty() && p.provider_id != only_provider) continue;
    if ((!any && !p.serves(model)) || (!no_skip && skipped(p.provider_id))) continue;
    if (!slots_[k].account.empty() && caller != kAnyAccount && slots_[k].account != caller) continue;
    if (!no_skip && skipped(p.provider_id + "\t" + slots_[k].account)) continue;
    push(&p.provider_id, k, slot_health_[k], &slots_[k].account, nullptr);
  }
}

std::vector<RouteCandidateInput> Engine::candidates_for(const std::string& model, int64_t second,
                                                        const std::vector<std::string>& skip, const std::string& caller) const {
  std::vector<RouteCandidateInput> out;
  scratch_blocks_.clear();  // deques: the blocks' and models' addresses stay valid as more are added
  scratch_models_.clear();
  const ModelGroup* group = nullptr;
  for (const auto& g : config_.model_groups)
    if (g.name == model) group = &g;
  out.reserve(slots_.size());
  if (!group) {
    add_candidates(model, "", 0, second, skip, caller, out);
    return out;
  }
  for (size_t i = 0; i < group->members.size(); ++i)
    add_candidates(group->members[i].second, group->members[i].first, group->ordered ? static_cast<int>(i) : 0, second, skip,
                   caller, out);
  return out;
}

RouteDecision Engine::route(const std::string& requested, int64_t now, bool explain, const std::vector<std::string>& skip,
                            const std::string& caller) const {
  const std::string model = requested.empty() ? "auto" : requested;
  // The end of the current second: every event recorded so far (ts <= now) is included.
  const int64_t second = -floor_div(-now, kMsPerSecond) * kMsPerSecond;
  const std::vector<RouteCandidateInput> inputs = candidates_for(model, second, skip, caller);
  return decide_route(model, inputs, config_.weights, now, explain, &route_scratch_);
}

}  // namespace qg
