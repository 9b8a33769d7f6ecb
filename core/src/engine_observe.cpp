// Engine::observe and record_failure: what one upstream response (or its absence) teaches.
// Provider-wide: latency and transport failures (health). Per account: window readings, overage,
// 429 cooldowns and learned limits. Per account and model family: family windows and their
// rejections.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "quotagate/det_math.hpp"
#include "quotagate/engine.hpp"
#include "quotagate/header_parser.hpp"

namespace qg {

namespace {

bool minutes_match(double a, double b) { return std::fabs(a - b) <= std::max(a, b) * 0.02; }

constexpr size_t kMaxLearnedFamilies = 256;

}  // namespace

ProviderHealth& Engine::health_of(const std::string& provider) {
  auto [it, inserted] = health_.try_emplace(provider);
  if (inserted) it->second.unhealthy_after = config_.unhealthy_after_failures;
  return it->second;
}

void Engine::record_failure(const std::string& provider, const std::string& reason, int64_t now) {
  ProviderHealth& h = health_of(provider);
  if (now < h.last_success_at) return;  // a newer success already showed the provider answering
  h.consecutive_failures += 1;
  h.last_failure_at = std::max(h.last_failure_at, now);
  if (!h.healthy()) {
    const int64_t until = now + config_.default_cooldown_ms;
    if (!h.cooldown_until || *h.cooldown_until < until) {
      h.cooldown_until = until;
      h.cooldown_reason = "unhealthy: " + reason;
    }
  }
}

ObserveResult Engine::observe(const std::string& provider, const std::string& account_in, const std::string& model,
                              int status, const HeaderMap& headers, std::string_view body, double latency_ms, int64_t now) {
  ObserveResult out;
  out.snapshot = parse_rate_limit_response(status, headers, body, now, config_.max_upstream_wait_ms);
  const HeaderSnapshot& snap = out.snapshot;
  const std::string account = account_in.size() <= 64 && account_in != kAnyAccount ? account_in : "";
  // A refused credential (401, 403) is no account; anything else the provider said about it is.
  if (!has_account(provider, account) && status != 401 && status != 403) add_account(provider, account);
  const std::string scope_key = account.empty() ? provider : provider + "\t" + account;
  // Readings can arrive out of order (another instance's, replayed through the shared ledger): an
  // older reading never replaces a newer one.
  if (snap.dialect != "none" || status >= 400) {
    auto [sit, fresh] = snapshots_.try_emplace(scope_key, snap);
    if (!fresh && sit->second.observed_at <= now) sit->second = snap;
  }

  ProviderHealth& h = health_of(provider);
  if (latency_ms >= 0 && std::isfinite(latency_ms))
    h.latency_ms = h.latency_ms ? round_to(*h.latency_ms * 0.7 + latency_ms * 0.3, 3) : round_to(latency_ms, 3);
  // Signals replayed from other instances arrive late and out of order (see ProviderHealth). A
  // 429 is a statement about a quota (it cools what it names, below), never about health.
  if (status >= 200 && status < 400) {
    h.last_success_at = std::max(h.last_success_at, now);
    if (now >= h.last_failure_at) h.consecutive_failures = 0;
  } else if ((status == 408 || status >= 500 || status == 0) && now >= h.last_success_at) {
    h.consecutive_failures += 1;
    h.last_failure_at = std::max(h.last_failure_at, now);
  }

  // This account's states.
  std::vector<size_t> slots;
  if (auto it = slots_by_provider_.find(provider); it != slots_by_provider_.end())
    for (size_t k : it->second)
      if (slots_[k].account == account) slots.push_back(k);
  const auto newer = [&](const std::optional<ObservedWindow>& cur) { return !cur || cur->observed_at <= now; };
  bool attributed_elsewhere = false;  // a 429 explained by a window no package of ours tracks
  std::string rejected_family;        // a 429 explained by a family window
  for (const WindowState& w : snap.windows) {
    if (!w.scope.empty()) {
      // A family window: its own reading on every window package of the account.
      if (w.status == "rejected" && rejected_family.empty()) rejected_family = w.scope;
      if (!w.utilization && w.status != "rejected" && !w.reset_at) continue;
      for (size_t k : slots) {
        const Package& p = catalog_.packages[slots_[k].package];
        if (p.type == PackageType::kCredits) continue;
        auto cur = live_[k].families.find(w.scope);
        if (cur != live_[k].families.end() && cur->second.observed_at > now) continue;
        ObservedWindow o;
        o.observed_at = now;
        o.rejected = w.status == "rejected";
        o.utilization = w.utilization ? std::optional<double>(std::max(0.0, *w.utilization)) : std::nullopt;
        if (o.rejected && (!o.utilization || *o.utilization < 1)) o.utilization = 1.0;
        o.reset_at = w.reset_at;
        o.dialect = snap.dialect;
        o.source_window = w.name;
        o.window_minutes = w.window_minutes;
        live_[k].families[w.scope] = o;
        touch(k);
        out.updated_packages.push_back(p.id + ":" + w.name);
      }
      continue;
    }
    if (!w.window_minutes) continue;
    bool matched = false;
    for (size_t k : slots) {
      const Package& p = catalog_.packages[slots_[k].package];
      if (p.type == PackageType::kCredits) continue;
      const double limit = live_[k].learned ? std::min(live_[k].learned->limit, p.capacity()) : p.capacity();
      auto make = [&](double lim) {
        ObservedWindow o;
        o.observed_at = now;
        o.rejected = w.status == "rejected";
        o.utilization = w.utilization;
        o.used = w.utilization ? std::max(0.0, *w.utilization) * lim : 0;
        if (o.rejected) o.used = std::max(o.used, lim);
        o.reset_at = w.reset_at;
        o.dialect = snap.dialect;
        o.source_window = w.name;
        o.window_minutes = w.window_minutes;
        return o;
      };
      const double pw = p.type == PackageType::kDaily ? 1440.0 : p.window_hours * 60;
      if (minutes_match(*w.window_minutes, pw) && (w.utilization || w.status == "rejected") && newer(live_[k].primary)) {
        live_[k].primary = make(limit);
        touch(k);
        matched = true;
        out.updated_packages.push_back(p.id);
      }
      for (size_t i = 0; i < p.secondary_windows.size(); ++i)
        if (minutes_match(*w.window_minutes, p.secondary_windows[i].window_hours * 60) && (w.utilization || w.status == "rejected") &&
            newer(live_[k].secondary[i])) {
          live_[k].secondary[i] = make(p.secondary_windows[i].limit);
          touch(k);
          matched = true;
          out.updated_packages.push_back(p.id + ":" + p.secondary_windows[i].name);
        }
    }
    if (!matched && w.status == "rejected") attributed_elsewhere = true;
  }
  if (!snap.overage.empty()) {
    for (size_t k : slots) {
      if (live_[k].overage && live_[k].overage->observed_at > now) continue;
      ObservedOverage o;
      o.observed_at = now;
      o.available = snap.overage.available();
      o.in_use = snap.overage.in_use.value_or(false);
      o.status = snap.overage.status;
      o.disabled_reason = snap.overage.disabled_reason;
      o.credits_balance = snap.overage.credits_balance;
      live_[k].overage = o;
      touch(k);
    }
  }

  if (status == 429 && !snap.request_too_large) {
    const std::string block_key = provider + "\t" + account;
    const auto retry = snap.earliest_retry_at();
    const int64_t until = retry && *retry > now ? *retry : now + config_.default_cooldown_ms;
    const std::string why = "429" + (snap.dialect != "none" ? " (" + snap.dialect + ")" : std::string());
    // A rejection of one family's window (the account's other windows still allowed) cools only
    // that family on this account; the model asked for is remembered as one of its members.
    bool whole_account_rejected = false;
    for (const WindowState& w : snap.windows)
      if (w.scope.empty() && w.status == "rejected") whole_account_rejected = true;
    if (!rejected_family.empty() && !whole_account_rejected) {
      ScopedBlock& b = family_blocks_[block_key + "\t" + rejected_family];
      if (!b.until || *b.until < until) b.until = until;
      b.reason = why + ": " + rejected_family + " window rejected";
      out.cooldown_until = b.until;
      out.cooldown_scope = "family:" + rejected_family;
      if (!model.empty() && !model_in_family(rejected_family, model, {}) &&
          std::find(learned_families_.begin(), learned_families_.end(), std::make_pair(rejected_family, model)) == learned_families_.end()) {
        if (learned_families_.size() >= kMaxLearnedFamilies) learned_families_.erase(learned_families_.begin());
        learned_families_.emplace_back(rejected_family, model);
      }
      for (size_t k : slots) touch(k);
      return out;
    }
    // A cooldown covers what the 429 names and no more: the packages of this account that serve
    // the model asked for, when that is not all of them (one Gemini model's daily quota leaves the
    // provider's other daily quotas open); else the whole account.
    std::vector<size_t> named;
    if (!model.empty())
      for (size_t k : slots)
        if (catalog_.packages[slots_[k].package].serves(model)) named.push_back(k);
    const bool package_scope = !named.empty() && named.size() < slots.size();
    if (package_scope) slots = named;
    // 429s that arrive while the scope is already cooling are the same episode (requests that
    // were in flight together); only a rejection after a cooldown ended is a repeat.
    bool repeat_episode = false;
    auto cool = [&](ScopedBlock& b) {
      repeat_episode = repeat_episode || !(b.until && *b.until > now);
      if (!b.until || *b.until < until) b.until = until;
      b.reason = why;
      out.cooldown_until = b.until;
    };
    if (package_scope) {
      for (size_t k : slots) cool(package_blocks_[block_key + "\t" + catalog_.packages[slots_[k].package].id]);
      out.cooldown_scope = "package";
    } else {
      cool(account_blocks_[block_key]);
      out.cooldown_scope = "account";
    }
    for (size_t k : slots) touch(k);

    // Learned limits: repeated 429s while our own count says there is room, and nothing in the
    // response blames a short (per-minute) limit.
    // A 429 that is not about our quota (the provider's own upstream, overload) teaches nothing.
    const bool not_ours = snap.error_type == "upstream_rate_limited" || snap.error_type == "overloaded_error";
    const bool short_limit = not_ours || attributed_elsewhere || (snap.requests.remaining && *snap.requests.remaining <= 0) ||
                             (snap.tokens.remaining && *snap.tokens.remaining <= 0) ||
                             (snap.retry_after_s && *snap.retry_after_s < 60);
    for (size_t k : slots) {
      const Package& p = catalog_.packages[slots_[k].package];
      if (p.type == PackageType::kCredits || short_limit || !repeat_episode) continue;
      PackageLive& live = live_[k];
      if (live.primary && live.primary->observed_at == now) continue;  // the provider told us its count
      const QuotaStatus st = compute_status(p, usage_[k], PackageLive{}, config_.thresholds, now);
      // A window of our own count explains the 429 (the primary, or a longer one that binds).
      if (st.used >= p.capacity() || st.alert == "exhausted") continue;
      if (now < h.last_success_at) continue;  // a newer success already showed there was room
      live.rejections_below_limit += 1;
      live.last_rejection_at = std::max(live.last_rejection_at, now);
      if (live.rejections_below_limit >= config_.learn_after_rejections) {
        LearnedLimit l;
        l.limit = std::max(1.0, std::floor(st.used));
        l.catalog_limit = p.capacity();
        l.rejections = live.rejections_below_limit;
        l.learned_at = now;
        char buf[160];
        std::snprintf(buf, sizeof buf, "%d consecutive 429s with a local count of %.6g against a catalog limit of %.6g",
                      l.rejections, st.used, l.catalog_limit);
        l.evidence = buf;
        if (!live.learned || l.limit < live.learned->limit) live.learned = l;
        else live.learned->rejections = l.rejections;
        touch(k);
      }
    }
  } else if (status >= 200 && status < 400) {
    // Only a success newer than the last rejection breaks the run (see PackageLive).
    for (size_t k : slots)
      if (now >= live_[k].last_rejection_at) live_[k].rejections_below_limit = 0;
  }
  return out;
}

}  // namespace qg
