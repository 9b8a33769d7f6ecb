// Engine: catalog lifecycle, accounts and their states (package x account), event intake, statuses
// and documents. observe: engine_observe.cpp; route: engine_route.cpp; configure: engine_configure.cpp.
#include "quotagate/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"
#include "quotagate/header_parser.hpp"
#include "quotagate/model_windows.hpp"
#include "quotagate/package_forecast.hpp"
#include "quotagate/text.hpp"

namespace qg {

std::optional<int64_t> instant_from_json(const Json& v) {
  if (v.is_number()) return ms_from_double(v.get<double>());
  if (v.is_string()) return parse_iso8601(v.get<std::string>());
  return std::nullopt;
}

uint32_t Engine::intern(const std::string& s) {
  auto it = string_ids_.find(s);
  if (it != string_ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(strings_.size());
  strings_.push_back(s);
  string_ids_.emplace(s, id);
  return id;
}

bool Engine::counts(const Package& p, int status) const {
  if (status >= 200 && status < 400) return true;
  return p.count_failed && status >= 400;
}

void Engine::apply_event(size_t k, const StoredEvent& e) {
  const Package& p = catalog_.packages[slots_[k].package];
  if (!counts(p, e.status)) return;
  const std::string& model = strings_[e.model];
  if (!p.models.empty() && !p.serves(model)) return;
  const double units = p.weight_for(model) * e.count;
  record_package_usage(p, usage_[k], e.ts_ms, units, e.cost, e.tokens_in, e.tokens_out, e.count);
  record_family_usage(p, usage_[k], model, e.ts_ms, units);
  touch(k);
}

const ProviderConfig* Engine::provider_config(const std::string& provider) const {
  for (const auto& pc : providers_)
    if (pc.id == provider) return &pc;
  return nullptr;
}

bool Engine::has_account(const std::string& provider, const std::string& account) const {
  auto it = accounts_.find(provider);
  return it != accounts_.end() && std::find(it->second.begin(), it->second.end(), account) != it->second.end();
}

bool Engine::discoverable(const std::string& provider, const std::string& account) const {
  if (account == kAnyAccount || account.size() > 64) return false;
  const ProviderConfig* pc = provider_config(provider);
  if (!pc) return true;  // no provider list (CLI, simulator): whatever the ledger holds
  return pc->client_auth && !account.empty();
}

std::string Engine::account_name(const std::string& provider, const std::string& account) const {
  if (const ProviderConfig* pc = provider_config(provider))
    for (const auto& a : pc->accounts)
      if (a.id == account) return a.name;
  return "";
}

std::string Engine::scope_label(const std::string& provider, const std::string& account) const {
  if (account.empty()) return provider;
  const std::string name = account_name(provider, account);
  return provider + "@" + (name.empty() ? account : name);
}

void Engine::add_slots(const std::string& provider, const std::string& account) {
  accounts_[provider].push_back(account);
  for (size_t i = 0; i < catalog_.packages.size(); ++i) {
    if (catalog_.packages[i].provider_id != provider) continue;
    slots_.push_back(Slot{i, account});
    usage_.emplace_back();
    live_.emplace_back();
    live_.back().secondary.resize(catalog_.packages[i].secondary_windows.size());
    package_version_.push_back(0);
    route_cache_.emplace_back();
    route_views_.emplace_back();
    slots_by_provider_[provider].push_back(slots_.size() - 1);
  }
  slot_health_.clear();
}

bool Engine::add_account(const std::string& provider, const std::string& account) {
  if (has_account(provider, account) || !discoverable(provider, account)) return false;
  removed_accounts_.erase(provider + "\t" + account);
  const size_t first = slots_.size();
  add_slots(provider, account);
  for (size_t k = first; k < slots_.size(); ++k) {
    const Package& p = catalog_.packages[slots_[k].package];
    auto it = parked_live_.find(p.id + "\n" + provider + "\n" + account);
    if (it == parked_live_.end()) continue;
    live_[k] = it->second;
    live_[k].secondary.resize(p.secondary_windows.size());
    parked_order_.erase(std::remove(parked_order_.begin(), parked_order_.end(), it->first), parked_order_.end());
    parked_live_.erase(it);
  }
  const auto pid = string_ids_.find(provider);
  const auto aid = string_ids_.find(account);
  if (pid == string_ids_.end() || aid == string_ids_.end()) return true;  // no events of it yet
  for (const auto& e : events_)
    if (e.provider == pid->second && e.account == aid->second)
      for (size_t k = first; k < slots_.size(); ++k) apply_event(k, e);
  return true;
}

bool Engine::remove_account(const std::string& provider, const std::string& account) {
  const ProviderConfig* pc = provider_config(provider);
  if (!pc || !pc->client_auth || !has_account(provider, account)) return false;
  for (const auto& a : pc->accounts)
    if (a.id == account) return false;
  removed_accounts_[provider + "\t" + account] = true;
  // Its cooldowns (account_blocks_, family_blocks_) stay until they expire, and its readings are
  // parked: a login that comes back finds what the provider last said about it.
  erase_slots(provider, account);
  auto& list = accounts_[provider];
  list.erase(std::remove(list.begin(), list.end(), account), list.end());
  return true;
}

void Engine::erase_slots(const std::string& provider, const std::string& account) {
  constexpr size_t kMaxParked = 4096;
  size_t keep = 0;
  for (size_t k = 0; k < slots_.size(); ++k) {
    const Package& p = catalog_.packages[slots_[k].package];
    if (p.provider_id == provider && slots_[k].account == account) {
      const PackageLive& l = live_[k];
      if (l.primary || l.learned || !l.families.empty() || l.overage ||
          std::any_of(l.secondary.begin(), l.secondary.end(), [](const std::optional<ObservedWindow>& w) { return w.has_value(); })) {
        const std::string key = p.id + "\n" + provider + "\n" + account;
        if (!parked_live_.count(key)) parked_order_.push_back(key);
        parked_live_[key] = l;
        while (parked_order_.size() > kMaxParked) {
          parked_live_.erase(parked_order_.front());
          parked_order_.erase(parked_order_.begin());
        }
      }
      continue;
    }
    if (keep != k) {
      slots_[keep] = std::move(slots_[k]);
      usage_[keep] = std::move(usage_[k]);
      live_[keep] = std::move(live_[k]);
      package_version_[keep] = package_version_[k];
      route_cache_[keep] = route_cache_[k];
      route_views_[keep] = route_views_[k];
    }
    ++keep;
  }
  slots_.resize(keep);
  usage_.resize(keep);
  live_.resize(keep);
  package_version_.resize(keep);
  route_cache_.resize(keep);
  route_views_.resize(keep);
  slots_by_provider_.clear();
  for (size_t k = 0; k < slots_.size(); ++k) slots_by_provider_[catalog_.packages[slots_[k].package].provider_id].push_back(k);
  for (auto& c : route_cache_) {  // views point at package ids: still valid, recomputed anyway
    c.second_ms = INT64_MIN;
    c.payg_version = UINT64_MAX;  // a provider may have lost its last state: its prices now count
  }
  slot_health_.clear();
}

std::map<std::string, PackageLive> Engine::live_by_key() const {
  std::map<std::string, PackageLive> out;
  for (size_t k = 0; k < slots_.size(); ++k) {
    const Package& p = catalog_.packages[slots_[k].package];
    out[p.id + "\n" + p.provider_id + "\n" + slots_[k].account] = live_[k];
  }
  return out;
}

void Engine::rebuild_usage(const std::map<std::string, PackageLive>& carry) {
  const auto previous = accounts_;  // callers' accounts known now stay known
  slots_.clear();
  usage_.clear();
  live_.clear();
  package_version_.clear();
  route_cache_.clear();
  route_views_.clear();
  slots_by_provider_.clear();
  accounts_.clear();
  slot_health_.clear();
  // Accounts: configured ones first (a provider with none has ""), then those the ledger shows.
  for (const auto& pc : providers_) {
    if (pc.accounts.empty() && !pc.client_auth) add_slots(pc.id, "");
    for (const auto& a : pc.accounts) add_slots(pc.id, a.id);
  }
  for (const auto& p : catalog_.packages)
    if (!provider_config(p.provider_id) && !accounts_.count(p.provider_id)) add_slots(p.provider_id, "");
  for (const auto& entry : previous)
    for (const auto& account : entry.second)
      if (!has_account(entry.first, account) && discoverable(entry.first, account)) add_slots(entry.first, account);
  // An account comes back from the ledger only through a request it served (a refused login's
  // attempts never make it a state) and unless it was forgotten since.
  for (const auto& e : events_) {
    const std::string& provider = strings_[e.provider];
    const std::string& account = strings_[e.account];
    if (e.status < 200 || e.status >= 400 || has_account(provider, account) || !discoverable(provider, account)) continue;
    if (!removed_accounts_.empty() && removed_accounts_.count(provider + "\t" + account)) continue;
    add_slots(provider, account);
  }
  for (const auto& e : events_) {
    auto it = slots_by_provider_.find(strings_[e.provider]);
    if (it == slots_by_provider_.end()) continue;
    for (size_t k : it->second)
      if (slots_[k].account == strings_[e.account]) apply_event(k, e);
  }
  // Live observations survive for states that keep their package id, provider and account.
  for (size_t k = 0; k < slots_.size() && !carry.empty(); ++k) {
    const Package& p = catalog_.packages[slots_[k].package];
    auto it = carry.find(p.id + "\n" + p.provider_id + "\n" + slots_[k].account);
    if (it == carry.end()) continue;
    live_[k] = it->second;
    live_[k].secondary.resize(p.secondary_windows.size());
  }
}

CatalogLoadResult Engine::load_catalog(std::string_view text, std::string_view source) {
  CatalogLoadResult r;
  CatalogParseResult parsed = parse_catalog(text, source);
  if (!parsed.ok) {
    r.error = parsed.error;
    return r;
  }
  std::map<std::string, PackageLive> carry = live_by_key();
  catalog_ = std::move(parsed.catalog);
  rebuild_usage(carry);
  r.ok = true;
  r.loaded = static_cast<int>(catalog_.packages.size());
  r.skipped = catalog_.skipped;
  return r;
}

void Engine::record_usage(const UsageEvent& e) {
  if (!is_valid_instant(e.ts_ms)) return;  // corrupt (a bad row, a hand-edited state): never counted
  const double count = e.count > 0 && e.count <= kMaxEventCount ? e.count : 1;
  // Usage numbers from outside: not finite, negative or absurd counts as unknown (0); the request
  // itself still counts. A negative value can never refund a package.
  const double cost = std::isfinite(e.cost) && e.cost >= 0 && e.cost <= kMaxEventAmount ? e.cost : 0;
  const auto tokens = [](int64_t t) { return t >= 0 && t <= static_cast<int64_t>(kMaxEventAmount) ? t : int64_t{0}; };
  // An account id is a fingerprint or a configured name: anything longer is not one.
  const std::string account = e.account.size() <= 64 && e.account != kAnyAccount ? e.account : "";
  const StoredEvent s{second_floor(e.ts_ms), intern(e.provider_id), intern(e.model), intern(account), e.status, cost * count,
                      tokens(e.tokens_in), tokens(e.tokens_out), count};
  // Merge into the entry of the same second and key; the search walks only that second's entries.
  auto at = std::upper_bound(events_.begin(), events_.end(), s.ts_ms,
                             [](int64_t ts, const StoredEvent& ev) { return ts < ev.ts_ms; });
  bool merged = false;
  for (auto it = at; it != events_.begin() && (it - 1)->ts_ms == s.ts_ms; --it) {
    StoredEvent& x = *(it - 1);
    if (x.provider == s.provider && x.model == s.model && x.status == s.status && x.account == s.account) {
      x.cost += s.cost;
      x.tokens_in += s.tokens_in;
      x.tokens_out += s.tokens_out;
      x.count += s.count;
      merged = true;
      break;
    }
  }
  if (!merged) events_.insert(at, s);
  if (e.status >= 200 && e.status < 400) {
    auto add = [&](PaygCost& pc) {
      const double keep = pc.requests > 1000 ? 1000 / pc.requests : 1.0;  // about the last 1,000 requests
      pc.cost = pc.cost * keep + cost * count;
      pc.requests = pc.requests * keep + count;
    };
    add(payg_cost_[e.provider_id]);
    // Per model only where it is paid as you go (a provider without packages when it served).
    if (!slots_by_provider_.count(e.provider_id)) {
      auto key = std::make_pair(e.provider_id, e.model);
      if (payg_model_cost_.size() < 1024 || payg_model_cost_.count(key)) {
        add(payg_model_cost_[std::move(key)]);
        ++payg_version_;
      }
    }
  }
  // Trim raw events past retention in amortised batches.
  const int64_t cutoff = events_.back().ts_ms - config_.event_retention_ms;
  if (events_.size() > 1024 && events_.front().ts_ms < cutoff && events_[events_.size() / 8].ts_ms < cutoff) {
    auto end = std::lower_bound(events_.begin(), events_.end(), cutoff,
                                [](const StoredEvent& ev, int64_t ts) { return ev.ts_ms < ts; });
    events_.erase(events_.begin(), end);
  }
  if (!has_account(e.provider_id, account)) {
    // A served request makes (or brings back) its account; a refused one does not.
    if (e.status >= 200 && e.status < 400) add_account(e.provider_id, account);  // replays its events, this one included
    return;
  }
  auto it = slots_by_provider_.find(e.provider_id);
  if (it == slots_by_provider_.end()) return;
  for (size_t k : it->second)
    if (slots_[k].account == account) apply_event(k, s);
}

QuotaStatus Engine::slot_status(size_t k, int64_t now) const {
  const Package& p = catalog_.packages[slots_[k].package];
  QuotaStatus st = compute_status(p, usage_[k], live_[k], config_.thresholds, now);
  st.account = slots_[k].account;
  st.account_name = account_name(p.provider_id, slots_[k].account);
  return st;
}

std::vector<QuotaStatus> Engine::statuses(int64_t now) const {
  std::vector<QuotaStatus> out;
  out.reserve(slots_.size());
  // Catalog order, each package's accounts together.
  for (size_t i = 0; i < catalog_.packages.size(); ++i) {
    auto it = slots_by_provider_.find(catalog_.packages[i].provider_id);
    if (it == slots_by_provider_.end()) continue;
    for (size_t k : it->second)
      if (slots_[k].package == i) out.push_back(slot_status(k, now));
  }
  return out;
}

std::optional<QuotaStatus> Engine::status_of(const std::string& id, int64_t now, const std::string& account) const {
  for (size_t k = 0; k < slots_.size(); ++k)
    if (catalog_.packages[slots_[k].package].id == id && (account == kAnyAccount || slots_[k].account == account))
      return slot_status(k, now);
  return std::nullopt;
}

Json Engine::quotas_document(int64_t now) const {
  const auto st = statuses(now);
  Json doc = Json::object();
  doc["generated_at"] = format_iso_utc(now);
  doc["count"] = st.size();
  Json packages = Json::array();
  Json by_alert = Json::object();
  for (const char* a : {"exhausted", "use_or_lose", "expired", "topup", "watch", "ok"}) by_alert[a] = 0;
  for (const auto& s : st) {
    packages.push_back(status_to_json(s));
    const std::string alert(s.alert);
    by_alert[alert] = by_alert[alert].get<int>() + 1;
  }
  doc["packages"] = packages;
  doc["by_alert"] = by_alert;
  doc["has_use_or_lose"] = by_alert["use_or_lose"].get<int>() > 0;
  doc["has_exhausted"] = by_alert["exhausted"].get<int>() > 0;
  Json skipped = Json::array();
  for (const auto& s : catalog_.skipped) skipped.push_back(Json{{"package_id", s.package_id}, {"reason", s.reason}});
  doc["skipped_packages"] = skipped;
  // Keys: the provider, "provider@account" for one of several accounts (its name, else its
  // fingerprint), and " family" after it for a family window's cooldown.
  const auto label_of = [&](const std::string& key) {
    const size_t tab = key.find('\t');
    return tab == std::string::npos ? key : scope_label(key.substr(0, tab), key.substr(tab + 1));
  };
  Json snaps = Json::object();
  for (const auto& [key, snap] : snapshots_) snaps[label_of(key)] = snapshot_to_json(snap);
  doc["header_snapshots"] = snaps;
  Json cooldowns = Json::object();
  for (const auto& [provider, h] : health_)
    if (h.cooldown_until && *h.cooldown_until > now)
      cooldowns[provider] = Json{{"until", format_iso_utc(*h.cooldown_until)}, {"reason", h.cooldown_reason}, {"scope", "provider"}};
  for (const auto& [key, b] : account_blocks_)
    if (b.until && *b.until > now) {
      const std::string label = label_of(key);
      if (cooldowns.contains(label)) continue;  // the provider-wide one covers it
      cooldowns[label] = Json{{"until", format_iso_utc(*b.until)}, {"reason", b.reason}, {"scope", "account"}};
    }
  for (const auto& [key, b] : family_blocks_)
    if (b.until && *b.until > now) {
      const size_t last = key.rfind('\t');
      cooldowns[label_of(key.substr(0, last)) + " " + key.substr(last + 1)] =
          Json{{"until", format_iso_utc(*b.until)}, {"reason", b.reason}, {"scope", "family"}, {"family", key.substr(last + 1)}};
    }
  for (const auto& [key, b] : package_blocks_)
    if (b.until && *b.until > now) {
      const size_t last = key.rfind('\t');
      cooldowns[label_of(key.substr(0, last)) + " " + key.substr(last + 1)] =
          Json{{"until", format_iso_utc(*b.until)}, {"reason", b.reason}, {"scope", "package"}, {"package_id", key.substr(last + 1)}};
    }
  doc["cooldowns"] = cooldowns;
  return doc;
}

Json Engine::usage_document(const std::string& id, int64_t now, int days, const std::string& account) const {
  size_t i = 0;
  while (i < slots_.size() &&
         (catalog_.packages[slots_[i].package].id != id || (account != kAnyAccount && slots_[i].account != account)))
    ++i;
  if (i == slots_.size()) return Json{{"error", "unknown package \"" + id + "\"" + (account == kAnyAccount ? "" : " for that account")}};
  days = std::clamp(days, 1, 35);
  const Package& p = catalog_.packages[slots_[i].package];
  Json doc = Json::object();
  doc["package_id"] = p.id;
  doc["provider_id"] = p.provider_id;
  if (!slots_[i].account.empty()) doc["account_id"] = slots_[i].account;
  doc["unit"] = p.type == PackageType::kCredits ? p.currency : "requests";
  doc["range_days"] = days;
  Json buckets = Json::array();
  const int64_t today = floor_div(now + utc_offset_ms(p.zone, now), kMsPerDay);
  for (int64_t d = today - days + 1; d <= today; ++d) {
    Json b = Json::object();
    b["day"] = format_date(d);
    b["start"] = format_iso_utc(local_midnight_utc(p.zone, d));
    auto it = usage_[i].days.find(d);
    const DayTotals t = it == usage_[i].days.end() ? DayTotals{} : it->second;
    b["units"] = round_to(t.units, 6);
    b["cost"] = round_to(t.cost, 6);
    b["requests"] = round_to(t.requests, 6);
    b["tokens_in"] = t.tokens_in;
    b["tokens_out"] = t.tokens_out;
    buckets.push_back(b);
  }
  doc["days"] = buckets;
  const QuotaStatus s = slot_status(i, now);
  const auto sample = [](int64_t t, const QuotaStatus& st) {
    return Json{{"t", format_iso_utc(t)}, {"used", round_to(st.used, 6)}, {"remaining", round_to(st.remaining, 6)}};
  };
  // Remaining every 6 hours over the range; the history is the same samples, or the current window's
  // (25 evenly spaced, from its start) when the window is shorter than the range.
  const int64_t range_ms = static_cast<int64_t>(days) * kMsPerDay;
  const int64_t window_ms = p.type == PackageType::kCredits || !s.window_hours ? 0 : std::llround(*s.window_hours * kMsPerHour);
  const bool by_window = window_ms > 0 && window_ms < range_ms;
  Json remaining = Json::array();
  Json history = Json::array();
  const int64_t step = 6 * kMsPerHour;
  const int64_t from = now - range_ms;
  for (int64_t t = from - floor_div(from, step) * step == 0 ? from : (floor_div(from, step) + 1) * step; t < now; t += step) {
    const QuotaStatus st = compute_status(p, usage_[i], live_[i], config_.thresholds, t);
    remaining.push_back(Json{{"t", format_iso_utc(t)}, {"remaining", round_to(st.remaining, 6)}});
    if (!by_window) history.push_back(sample(t, st));
  }
  const int64_t history_from = !by_window ? from : s.window_start && *s.window_start < now ? *s.window_start : now - window_ms;
  if (by_window)
    for (int64_t k = 0, last = INT64_MIN; k < 24; ++k) {
      const int64_t t = history_from + (now - history_from) * k / 24;
      if (t == last) continue;
      last = t;
      history.push_back(sample(t, compute_status(p, usage_[i], live_[i], config_.thresholds, t)));
    }
  remaining.push_back(Json{{"t", format_iso_utc(now)}, {"remaining", round_to(s.remaining, 6)}});
  history.push_back(sample(now, s));
  doc["remaining"] = remaining;
  doc["total"] = round_to(s.total, 6);
  doc["generated_at"] = format_iso_utc(now);
  doc["history"] = Json{{"basis", by_window ? "window" : "range"}, {"from", format_iso_utc(history_from)}, {"points", history}};
  // A line that meets no reset or expiry is drawn one window (windows) or the range (credits) ahead.
  doc["forecast"] = forecast_to_json(package_forecast(s, now, window_ms > 0 ? window_ms : range_ms));
  return doc;
}

Json Engine::state_document(int64_t now) const {
  Json doc = Json::object();
  doc["generated_at"] = format_iso_utc(now);
  doc["catalog"] = catalog_.document;
  doc["quotas"] = quotas_document(now);
  Json providers = Json::array();
  for (const auto& p : providers_) {
    Json pj{{"id", p.id}, {"models", p.models}};
    if (p.client_auth) pj["auth"] = "client";
    if (p.overage_avoid) pj["overage"] = "avoid";
    // Every known account (configured and seen), ids and names only: never a credential.
    auto it = accounts_.find(p.id);
    if (it != accounts_.end() && !(it->second.size() == 1 && it->second[0].empty())) {
      Json accounts = Json::array();
      for (const auto& a : it->second) {
        Json aj{{"id", a}};
        const std::string name = account_name(p.id, a);
        if (!name.empty()) aj["name"] = name;
        accounts.push_back(aj);
      }
      pj["accounts"] = accounts;
    }
    providers.push_back(pj);
  }
  doc["providers"] = providers;
  if (!config_.model_groups.empty()) {
    Json groups = Json::object();
    for (const auto& g : config_.model_groups) {
      Json members = Json::array();
      for (const auto& [provider, model] : g.members) members.push_back(provider + "/" + model);
      groups[g.name] = Json{{"members", members}, {"strategy", g.ordered ? "ordered" : "use_or_lose"}};
    }
    doc["model_groups"] = groups;
  }
  Json events = Json::array();
  const int64_t since = now - 7 * kMsPerDay;
  for (const auto& e : events_) {
    if (e.ts_ms < since || e.ts_ms > now) continue;
    Json row = Json::array({e.ts_ms, strings_[e.provider], strings_[e.model], e.status, round_to(e.cost / e.count, 9),
                            e.tokens_in, e.tokens_out, e.count});
    if (!strings_[e.account].empty()) row.push_back(strings_[e.account]);
    events.push_back(row);
  }
  doc["recent_events"] = events;
  return doc;
}

}  // namespace qg
