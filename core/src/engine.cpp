// Engine: catalog lifecycle, event intake, header observations, health, status and routing.
#include "quotagate/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"
#include "quotagate/header_parser.hpp"
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

void Engine::apply_event(size_t i, const StoredEvent& e) {
  const Package& p = catalog_.packages[i];
  if (!counts(p, e.status)) return;
  const std::string& model = strings_[e.model];
  if (!p.models.empty() && !p.serves(model)) return;
  const double units = p.weight_for(model) * e.count;
  record_package_usage(p, usage_[i], e.ts_ms, units, e.cost, e.tokens_in, e.tokens_out, e.count);
  touch(i);
}

void Engine::rebuild_usage() {
  usage_.assign(catalog_.packages.size(), PackageUsage{});
  live_.resize(catalog_.packages.size());
  package_version_.assign(catalog_.packages.size(), 0);
  route_cache_.assign(catalog_.packages.size(), CachedStatus{});
  package_health_.clear();
  packages_by_provider_.clear();
  for (size_t i = 0; i < catalog_.packages.size(); ++i) {
    packages_by_provider_[catalog_.packages[i].provider_id].push_back(i);
    live_[i].secondary.resize(catalog_.packages[i].secondary_windows.size());
  }
  for (const auto& e : events_) {
    auto it = packages_by_provider_.find(strings_[e.provider]);
    if (it == packages_by_provider_.end()) continue;
    for (size_t i : it->second) apply_event(i, e);
  }
}

CatalogLoadResult Engine::load_catalog(std::string_view text, std::string_view source) {
  CatalogLoadResult r;
  CatalogParseResult parsed = parse_catalog(text, source);
  if (!parsed.ok) {
    r.error = parsed.error;
    return r;
  }
  // Live observations survive a reload for packages that keep their id and provider.
  std::map<std::string, PackageLive> old_live;
  for (size_t i = 0; i < catalog_.packages.size() && i < live_.size(); ++i)
    old_live[catalog_.packages[i].id + "\n" + catalog_.packages[i].provider_id] = live_[i];
  catalog_ = std::move(parsed.catalog);
  live_.assign(catalog_.packages.size(), PackageLive{});
  for (size_t i = 0; i < catalog_.packages.size(); ++i) {
    auto it = old_live.find(catalog_.packages[i].id + "\n" + catalog_.packages[i].provider_id);
    if (it != old_live.end()) live_[i] = it->second;
  }
  rebuild_usage();
  r.ok = true;
  r.loaded = static_cast<int>(catalog_.packages.size());
  r.skipped = catalog_.skipped;
  return r;
}

namespace {

// max bounds values that become integers (ms, counts): converting a larger double is undefined.
std::string read_double(const Json& obj, const char* key, double& out, const std::string& where, bool positive,
                        double max = 1e12) {
  if (!obj.contains(key)) return "";
  const Json& v = obj[key];
  if (!v.is_number() || (positive ? !(v.get<double>() > 0) : v.get<double>() < 0) || !(v.get<double>() <= max))
    return where + "." + key + ": expected a " + (positive ? "positive" : "non-negative") + " number up to " + dump_json(Json(max)) +
           ", got " + dump_json(v);
  out = v.get<double>();
  return "";
}

}  // namespace

std::string Engine::configure(std::string_view text) {
  if (json_too_deep(text)) return "engine config: JSON nested too deep";
  const Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "engine config: expected a JSON object";
  EngineConfig c = config_;
  std::vector<ProviderConfig> providers = providers_;
  static const char* kTop[] = {"thresholds", "weights", "providers", "default_cooldown_s", "learn_after_rejections",
                               "unhealthy_after_failures", "event_retention_days", "max_upstream_wait_s"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find_if(std::begin(kTop), std::end(kTop), [&](const char* k) { return it.key() == k; }) == std::end(kTop))
      return "engine config: unknown key \"" + it.key() + "\"";
  }
  std::string err;
  if (j.contains("thresholds")) {
    const Json& t = j["thresholds"];
    if (!t.is_object()) return "engine config: thresholds: expected an object";
    AlertThresholds& a = c.thresholds;
    const std::pair<const char*, double*> fields[] = {
        {"credits_use_or_lose_days", &a.credits_use_or_lose_days}, {"credits_topup_days", &a.credits_topup_days},
        {"credits_watch_days", &a.credits_watch_days},             {"window_topup_ratio", &a.window_topup_ratio},
        {"window_watch_ratio", &a.window_watch_ratio},             {"window_use_or_lose_elapsed", &a.window_use_or_lose_elapsed},
        {"window_use_or_lose_min_ratio", &a.window_use_or_lose_min_ratio}, {"burn_half_life_days", &a.burn_half_life_days}};
    for (auto it = t.begin(); it != t.end(); ++it) {
      bool known = it.key() == "burn_lookback_days";
      for (const auto& f : fields) known = known || it.key() == f.first;
      if (!known) return "engine config: thresholds: unknown key \"" + it.key() + "\"";
    }
    for (const auto& f : fields)
      if (!(err = read_double(t, f.first, *f.second, "engine config: thresholds", f.second == &a.burn_half_life_days)).empty()) return err;
    if (t.contains("burn_lookback_days")) {
      if (!t["burn_lookback_days"].is_number_integer() || t["burn_lookback_days"].get<int64_t>() < 1 || t["burn_lookback_days"].get<int64_t>() > 35)
        return "engine config: thresholds.burn_lookback_days: expected an integer 1..35";
      a.burn_lookback_days = t["burn_lookback_days"].get<int>();
    }
  }
  if (j.contains("weights")) {
    const Json& w = j["weights"];
    if (!w.is_object()) return "engine config: weights: expected an object";
    RouterWeights& r = c.weights;
    const std::pair<const char*, double*> fields[] = {
        {"health", &r.health},           {"failures_base", &r.failures_base}, {"failures_step", &r.failures_step},
        {"latency_unknown", &r.latency_unknown}, {"package_max", &r.package_max}, {"use_or_lose", &r.use_or_lose},
        {"expiry_7d", &r.expiry_7d},     {"expiry_30d", &r.expiry_30d},       {"expiring_capacity", &r.expiring_capacity}};
    for (auto it = w.begin(); it != w.end(); ++it) {
      bool known = it.key() == "quota_aware" || it.key() == "latency_band_ms" || it.key() == "latency_score";
      for (const auto& f : fields) known = known || it.key() == f.first;
      if (!known) return "engine config: weights: unknown key \"" + it.key() + "\"";
    }
    for (const auto& f : fields)
      if (!(err = read_double(w, f.first, *f.second, "engine config: weights", false)).empty()) return err;
    if (w.contains("quota_aware")) {
      if (!w["quota_aware"].is_boolean()) return "engine config: weights.quota_aware: expected true or false";
      r.quota_aware = w["quota_aware"].get<bool>();
    }
    if (w.contains("latency_band_ms")) {
      const Json& b = w["latency_band_ms"];
      if (!b.is_array() || b.size() != 4) return "engine config: weights.latency_band_ms: expected 4 ascending numbers (ms)";
      for (int i = 0; i < 4; ++i) {
        if (!b[i].is_number()) return "engine config: weights.latency_band_ms: expected numbers";
        r.latency_band_ms[i] = b[i].get<double>();
      }
    }
    if (w.contains("latency_score")) {
      const Json& b = w["latency_score"];
      if (!b.is_array() || b.size() != 5) return "engine config: weights.latency_score: expected 5 numbers";
      for (int i = 0; i < 5; ++i) {
        if (!b[i].is_number()) return "engine config: weights.latency_score: expected numbers";
        r.latency_score[i] = b[i].get<double>();
      }
    }
  }
  if (j.contains("providers")) {
    const Json& ps = j["providers"];
    if (!ps.is_array()) return "engine config: providers: expected an array of {id, models}";
    providers.clear();
    for (size_t i = 0; i < ps.size(); ++i) {
      const Json& p = ps[i];
      const std::string where = "engine config: providers[" + std::to_string(i) + "]";
      if (!p.is_object() || !p.contains("id") || !p["id"].is_string() || p["id"].get<std::string>().empty())
        return where + ".id: expected a non-empty string";
      ProviderConfig pc;
      pc.id = p["id"].get<std::string>();
      if (p.contains("models")) {
        if (!p["models"].is_array()) return where + ".models: expected an array of strings";
        for (const auto& m : p["models"]) {
          if (!m.is_string() || m.get<std::string>().empty()) return where + ".models: expected non-empty strings";
          pc.models.push_back(m.get<std::string>());
        }
      }
      providers.push_back(pc);
    }
  }
  double cooldown_s = static_cast<double>(c.default_cooldown_ms) / 1000.0;
  if (!(err = read_double(j, "default_cooldown_s", cooldown_s, "engine config", false, 366.0 * 86400)).empty()) return err;
  c.default_cooldown_ms = static_cast<int64_t>(std::llround(cooldown_s * 1000));
  double learn = c.learn_after_rejections, unhealthy = c.unhealthy_after_failures;
  if (!(err = read_double(j, "learn_after_rejections", learn, "engine config", true, 1e6)).empty()) return err;
  if (!(err = read_double(j, "unhealthy_after_failures", unhealthy, "engine config", true, 1e6)).empty()) return err;
  c.learn_after_rejections = static_cast<int>(learn);
  c.unhealthy_after_failures = static_cast<int>(unhealthy);
  double retention_days = static_cast<double>(c.event_retention_ms) / kMsPerDay;
  if (!(err = read_double(j, "event_retention_days", retention_days, "engine config", true, 3660)).empty()) return err;
  c.event_retention_ms = static_cast<int64_t>(std::llround(retention_days * kMsPerDay));
  double max_wait_s = static_cast<double>(c.max_upstream_wait_ms) / 1000.0;
  if (!(err = read_double(j, "max_upstream_wait_s", max_wait_s, "engine config", false, 366.0 * 86400)).empty()) return err;
  if (max_wait_s < 1) return "engine config: max_upstream_wait_s: expected a number >= 1";
  c.max_upstream_wait_ms = static_cast<int64_t>(std::llround(max_wait_s * 1000));
  config_ = c;
  providers_ = providers;
  route_cache_.assign(catalog_.packages.size(), CachedStatus{});
  for (auto& [id, h] : health_) h.unhealthy_after = config_.unhealthy_after_failures;
  return "";
}

void Engine::record_usage(const UsageEvent& e) {
  if (!is_valid_instant(e.ts_ms)) return;  // corrupt (a bad row, a hand-edited state): never counted
  const double count = e.count > 0 && e.count <= kMaxEventCount ? e.count : 1;
  // Usage numbers from outside: not finite, negative or absurd counts as unknown (0); the request
  // itself still counts. A negative value can never refund a package.
  const double cost = std::isfinite(e.cost) && e.cost >= 0 && e.cost <= kMaxEventAmount ? e.cost : 0;
  const auto tokens = [](int64_t t) { return t >= 0 && t <= static_cast<int64_t>(kMaxEventAmount) ? t : int64_t{0}; };
  const StoredEvent s{second_floor(e.ts_ms), intern(e.provider_id), intern(e.model), e.status, cost * count,
                      tokens(e.tokens_in), tokens(e.tokens_out), count};
  // Merge into the entry of the same second and key; the search walks only that second's entries.
  auto at = std::upper_bound(events_.begin(), events_.end(), s.ts_ms,
                             [](int64_t ts, const StoredEvent& ev) { return ts < ev.ts_ms; });
  bool merged = false;
  for (auto it = at; it != events_.begin() && (it - 1)->ts_ms == s.ts_ms; --it) {
    StoredEvent& x = *(it - 1);
    if (x.provider == s.provider && x.model == s.model && x.status == s.status) {
      x.cost += s.cost;
      x.tokens_in += s.tokens_in;
      x.tokens_out += s.tokens_out;
      x.count += s.count;
      merged = true;
      break;
    }
  }
  if (!merged) events_.insert(at, s);
  // Trim raw events past retention in amortised batches.
  const int64_t cutoff = events_.back().ts_ms - config_.event_retention_ms;
  if (events_.size() > 1024 && events_.front().ts_ms < cutoff && events_[events_.size() / 8].ts_ms < cutoff) {
    auto end = std::lower_bound(events_.begin(), events_.end(), cutoff,
                                [](const StoredEvent& ev, int64_t ts) { return ev.ts_ms < ts; });
    events_.erase(events_.begin(), end);
  }
  auto it = packages_by_provider_.find(e.provider_id);
  if (it == packages_by_provider_.end()) return;
  for (size_t i : it->second) apply_event(i, s);
}

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

namespace {

bool minutes_match(double a, double b) { return std::fabs(a - b) <= std::max(a, b) * 0.02; }

}  // namespace

ObserveResult Engine::observe(const std::string& provider, int status, const HeaderMap& headers, std::string_view body,
                              double latency_ms, int64_t now) {
  ObserveResult out;
  out.snapshot = parse_rate_limit_response(status, headers, body, now, config_.max_upstream_wait_ms);
  const HeaderSnapshot& snap = out.snapshot;
  // Readings can arrive out of order (another instance's, replayed through the shared ledger): an
  // older reading never replaces a newer one.
  if (snap.dialect != "none" || status >= 400) {
    auto [sit, fresh] = snapshots_.try_emplace(provider, snap);
    if (!fresh && sit->second.observed_at <= now) sit->second = snap;
  }

  ProviderHealth& h = health_of(provider);
  if (latency_ms >= 0 && std::isfinite(latency_ms))
    h.latency_ms = h.latency_ms ? round_to(*h.latency_ms * 0.7 + latency_ms * 0.3, 3) : round_to(latency_ms, 3);
  // Signals replayed from other instances arrive late and out of order (see ProviderHealth).
  if (status >= 200 && status < 400) {
    h.last_success_at = std::max(h.last_success_at, now);
    if (now >= h.last_failure_at) h.consecutive_failures = 0;
  } else if ((status == 429 || status == 408 || status >= 500 || status == 0) && now >= h.last_success_at) {
    h.consecutive_failures += 1;
    h.last_failure_at = std::max(h.last_failure_at, now);
  }

  // Windows the provider reported -> the packages whose window they describe.
  auto it = packages_by_provider_.find(provider);
  const std::vector<size_t> none;
  const std::vector<size_t>& pkgs = it == packages_by_provider_.end() ? none : it->second;
  bool attributed_elsewhere = false;  // a 429 explained by a window no package of ours tracks
  for (const WindowState& w : snap.windows) {
    if (!w.window_minutes) continue;
    bool matched = false;
    for (size_t i : pkgs) {
      const Package& p = catalog_.packages[i];
      if (p.type == PackageType::kCredits) continue;
      const double limit = live_[i].learned ? std::min(live_[i].learned->limit, p.capacity()) : p.capacity();
      auto make = [&](double lim) {
        ObservedWindow o;
        o.observed_at = now;
        o.rejected = w.status == "rejected";
        o.used = w.utilization ? std::max(0.0, *w.utilization) * lim : 0;
        if (o.rejected) o.used = std::max(o.used, lim);
        o.reset_at = w.reset_at;
        o.dialect = snap.dialect;
        o.source_window = w.name;
        return o;
      };
      const double pw = p.type == PackageType::kDaily ? 1440.0 : p.window_hours * 60;
      const auto newer = [&](const std::optional<ObservedWindow>& cur) { return !cur || cur->observed_at <= now; };
      if (minutes_match(*w.window_minutes, pw) && (w.utilization || w.status == "rejected") && newer(live_[i].primary)) {
        live_[i].primary = make(limit);
        touch(i);
        matched = true;
        out.updated_packages.push_back(p.id);
      }
      for (size_t k = 0; k < p.secondary_windows.size(); ++k)
        if (minutes_match(*w.window_minutes, p.secondary_windows[k].window_hours * 60) && (w.utilization || w.status == "rejected") &&
            newer(live_[i].secondary[k])) {
          live_[i].secondary[k] = make(p.secondary_windows[k].limit);
          touch(i);
          matched = true;
          out.updated_packages.push_back(p.id + ":" + p.secondary_windows[k].name);
        }
    }
    if (!matched && w.status == "rejected") attributed_elsewhere = true;
  }

  if (status == 429 && !snap.request_too_large) {
    // 429s that arrive while we already hold the provider in cooldown are the same episode (requests
    // that were in flight together); only a rejection after a cooldown ended is a repeat.
    const bool repeat_episode = !(h.cooldown_until && *h.cooldown_until > now);
    const auto retry = snap.earliest_retry_at();
    const int64_t until = retry && *retry > now ? *retry : now + config_.default_cooldown_ms;
    h.cooldown_until = std::max(h.cooldown_until.value_or(0), until);
    h.cooldown_reason = "429" + (snap.dialect != "none" ? " (" + snap.dialect + ")" : std::string());
    out.cooldown_until = h.cooldown_until;

    // Learned limits: repeated 429s while our own count says there is room, and nothing in the
    // response blames a short (per-minute) limit.
    // A 429 that is not about our quota (the provider's own upstream, overload) teaches nothing.
    const bool not_ours = snap.error_type == "upstream_rate_limited" || snap.error_type == "overloaded_error";
    const bool short_limit = not_ours || attributed_elsewhere || (snap.requests.remaining && *snap.requests.remaining <= 0) ||
                             (snap.tokens.remaining && *snap.tokens.remaining <= 0) ||
                             (snap.retry_after_s && *snap.retry_after_s < 60);
    for (size_t i : pkgs) {
      const Package& p = catalog_.packages[i];
      if (p.type == PackageType::kCredits || short_limit || !repeat_episode) continue;
      PackageLive& live = live_[i];
      if (live.primary && live.primary->observed_at == now) continue;  // the provider told us its count
      const QuotaStatus st = compute_status(p, usage_[i], PackageLive{}, config_.thresholds, now);
      if (st.used >= p.capacity()) continue;
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
        touch(i);
      }
    }
  } else if (status >= 200 && status < 400) {
    // Only a success newer than the last rejection breaks the run (see PackageLive).
    for (size_t i : pkgs)
      if (now >= live_[i].last_rejection_at) live_[i].rejections_below_limit = 0;
  }
  return out;
}

std::vector<QuotaStatus> Engine::statuses(int64_t now) const {
  std::vector<QuotaStatus> out;
  out.reserve(catalog_.packages.size());
  for (size_t i = 0; i < catalog_.packages.size(); ++i)
    out.push_back(compute_status(catalog_.packages[i], usage_[i], live_[i], config_.thresholds, now));
  return out;
}

std::optional<QuotaStatus> Engine::status_of(const std::string& id, int64_t now) const {
  for (size_t i = 0; i < catalog_.packages.size(); ++i)
    if (catalog_.packages[i].id == id) return compute_status(catalog_.packages[i], usage_[i], live_[i], config_.thresholds, now);
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
  Json snaps = Json::object();
  for (const auto& [provider, snap] : snapshots_) snaps[provider] = snapshot_to_json(snap);
  doc["header_snapshots"] = snaps;
  Json cooldowns = Json::object();
  for (const auto& [provider, h] : health_)
    if (h.cooldown_until && *h.cooldown_until > now)
      cooldowns[provider] = Json{{"until", format_iso_utc(*h.cooldown_until)}, {"reason", h.cooldown_reason}};
  doc["cooldowns"] = cooldowns;
  return doc;
}

const RouteView& Engine::route_status(size_t i, int64_t second) const {
  CachedStatus& c = route_cache_[i];
  if (c.second_ms != second || c.version != package_version_[i]) {
    c.view = route_view_of(compute_status(catalog_.packages[i], usage_[i], live_[i], config_.thresholds, second),
                           &catalog_.packages[i].id);
    c.second_ms = second;
    c.version = package_version_[i];
  }
  return c.view;
}

const ProviderHealth* Engine::health_ptr(const std::string& provider) const {
  auto it = health_.find(provider);
  return it == health_.end() ? nullptr : &it->second;
}

void Engine::refresh_package_health() const {
  if (package_health_.size() == catalog_.packages.size() && package_health_epoch_ == health_.size()) return;
  // std::map nodes never move, so the pointers stay valid until a provider is added.
  package_health_.resize(catalog_.packages.size());
  for (size_t k = 0; k < catalog_.packages.size(); ++k) package_health_[k] = health_ptr(catalog_.packages[k].provider_id);
  package_health_epoch_ = health_.size();
}

std::vector<RouteCandidateInput> Engine::candidates_for(const std::string& model, int64_t second,
                                                        const std::vector<std::string>& skip) const {
  std::vector<RouteCandidateInput> out;
  auto skipped = [&](const std::string& id) { return !skip.empty() && std::find(skip.begin(), skip.end(), id) != skip.end(); };
  const bool any = model == "auto" || model.empty();
  auto matches = [&](const std::string& pattern) { return model_pattern_matches(pattern, model); };
  if (!providers_.empty()) {
    for (const auto& pc : providers_) {
      bool serves = any;
      for (const auto& m : pc.models) serves = serves || matches(m);
      if (!serves || skipped(pc.id)) continue;
      const ProviderHealth* h = health_ptr(pc.id);
      auto it = packages_by_provider_.find(pc.id);
      if (it == packages_by_provider_.end()) {
        out.push_back({&pc.id, nullptr, h});
        continue;
      }
      for (size_t i : it->second) {
        const Package& p = catalog_.packages[i];
        if (any || p.models.empty() || p.serves(model)) out.push_back({&pc.id, &route_status(i, second), h});
      }
    }
    return out;
  }
  out.reserve(catalog_.packages.size());
  refresh_package_health();
  for (size_t i = 0; i < catalog_.packages.size(); ++i) {
    const Package& p = catalog_.packages[i];
    if ((!any && !p.serves(model)) || skipped(p.provider_id)) continue;
    out.push_back({&p.provider_id, &route_status(i, second), package_health_[i]});
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

RouteDecision Engine::route(const std::string& requested, int64_t now, bool explain,
                            const std::vector<std::string>& skip) const {
  const std::string model = requested.empty() ? "auto" : requested;
  // The end of the current second: every event recorded so far (ts <= now) is included.
  const int64_t second = -floor_div(-now, kMsPerSecond) * kMsPerSecond;
  std::vector<RouteCandidateInput> inputs = candidates_for(model, second, skip);
  // For "auto" the upstream needs a concrete model: the first non-pattern name we know.
  auto send_for = [&](const RouteCandidateInput& in) {
    if (model != "auto") return model;
    const Package* p = nullptr;
    if (in.status)
      if (auto it = packages_by_provider_.find(*in.provider_id); it != packages_by_provider_.end())
        for (size_t i : it->second)
          if (&catalog_.packages[i].id == in.status->package_id) p = &catalog_.packages[i];
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

Json Engine::usage_document(const std::string& id, int64_t now, int days) const {
  size_t i = 0;
  while (i < catalog_.packages.size() && catalog_.packages[i].id != id) ++i;
  if (i == catalog_.packages.size()) return Json{{"error", "unknown package \"" + id + "\""}};
  days = std::clamp(days, 1, 35);
  const Package& p = catalog_.packages[i];
  Json doc = Json::object();
  doc["package_id"] = p.id;
  doc["provider_id"] = p.provider_id;
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
  Json remaining = Json::array();
  const int64_t step = 6 * kMsPerHour;
  const int64_t from = now - static_cast<int64_t>(days) * kMsPerDay;
  for (int64_t t = from - floor_div(from, step) * step == 0 ? from : (floor_div(from, step) + 1) * step; t < now; t += step) {
    const QuotaStatus s = compute_status(p, usage_[i], live_[i], config_.thresholds, t);
    remaining.push_back(Json{{"t", format_iso_utc(t)}, {"remaining", round_to(s.remaining, 6)}});
  }
  const QuotaStatus s = compute_status(p, usage_[i], live_[i], config_.thresholds, now);
  remaining.push_back(Json{{"t", format_iso_utc(now)}, {"remaining", round_to(s.remaining, 6)}});
  doc["remaining"] = remaining;
  doc["total"] = round_to(s.total, 6);
  return doc;
}

Json Engine::state_document(int64_t now) const {
  Json doc = Json::object();
  doc["generated_at"] = format_iso_utc(now);
  doc["catalog"] = catalog_.document;
  doc["quotas"] = quotas_document(now);
  Json providers = Json::array();
  for (const auto& p : providers_) providers.push_back(Json{{"id", p.id}, {"models", p.models}});
  doc["providers"] = providers;
  Json events = Json::array();
  const int64_t since = now - 7 * kMsPerDay;
  for (const auto& e : events_) {
    if (e.ts_ms < since || e.ts_ms > now) continue;
    events.push_back(Json::array({e.ts_ms, strings_[e.provider], strings_[e.model], e.status, round_to(e.cost / e.count, 9),
                                  e.tokens_in, e.tokens_out, e.count}));
  }
  doc["recent_events"] = events;
  return doc;
}

}  // namespace qg
