// Engine: the facade the bindings and the native tools drive. It owns the catalog, the usage
// aggregates, the live header observations, provider health and the router configuration.
// No I/O, no clock: every time is a parameter (ms since the epoch, UTC). Public methods never
// throw; failures come back as values.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quotagate/catalog.hpp"
#include "quotagate/header_parser.hpp"
#include "quotagate/header_snapshot.hpp"
#include "quotagate/http_headers.hpp"
#include "quotagate/json.hpp"
#include "quotagate/quota_tracker.hpp"
#include "quotagate/router.hpp"
#include "quotagate/usage_ledger.hpp"

namespace qg {

// A name clients may ask for as their model, standing for members on named providers
// (config model_groups; docs/config.md). ordered: members in order, skipping excluded ones;
// use_or_lose: the plan chooses among members.
struct ModelGroup {
  std::string name;
  std::vector<std::pair<std::string, std::string>> members;  // (provider id, model sent upstream)
  bool ordered = false;
};

struct EngineConfig {
  AlertThresholds thresholds;
  RouterWeights weights;
  int64_t default_cooldown_ms = 30 * 1000;  // a 429 that names no reset
  int learn_after_rejections = 2;           // repeated 429s below the catalog limit
  int unhealthy_after_failures = 3;
  int64_t event_retention_ms = 40LL * 24 * 3600 * 1000;  // raw events kept to rebuild on catalog reload
  int64_t max_upstream_wait_ms = kDefaultMaxUpstreamWaitMs;  // cap on any retry-after / reset (header_parser.hpp)
  std::vector<ModelGroup> model_groups;
};

// One credential of a provider. id: for auth: key, the configured account name; for auth: client,
// the credential's fingerprint (12 hex digits, computed by the host). name: what the operator
// calls it ("" = show the id).
struct AccountConfig {
  std::string id, name;
};

struct ProviderConfig {
  std::string id;
  std::vector<std::string> models;  // served models or prefixes ("*" = any); first is the default
  // auth: client: accounts are the callers' own credentials; a request may use only its caller's
  // account (Engine::route `caller`). auth: key (false): accounts are configured credentials, and
  // a provider without any has one account, "".
  bool client_auth = false;
  // overage: avoid: a rejected plan window is exhausted even when the provider would serve the
  // request as billed overage (or from Codex credits).
  bool overage_avoid = false;
  std::vector<AccountConfig> accounts;
};

// Route `caller` that may use every account (the simulator, the operator's what-if view).
inline constexpr const char* kAnyAccount = "*";

struct CatalogLoadResult {
  bool ok = false;
  std::string error;
  int loaded = 0;
  std::vector<SkippedPackage> skipped;
};

struct ObserveResult {
  HeaderSnapshot snapshot;
  std::optional<int64_t> cooldown_until;
  std::string cooldown_scope;  // "account", "family:<name>" or "" (no cooldown)
  std::vector<std::string> updated_packages;
};

class Engine {
 public:
  // Replaces the catalog; on a parse error the previous catalog stays in force.
  CatalogLoadResult load_catalog(std::string_view json_text, std::string_view source_name);
  // Routing/alert configuration and the provider list as JSON (docs/engine.md). "" on success.
  std::string configure(std::string_view json_text);

  void record_usage(const UsageEvent& e);
  // Makes `account` known for a provider (auth: client: a caller's fingerprint seen for the first
  // time), with one state per package of the provider. Returns true when it was new. An auth: key
  // provider accepts only its configured accounts.
  bool add_account(const std::string& provider_id, const std::string& account);
  // Forgets a caller's account of an auth: client provider (a credential the provider refused, or
  // the least recently used one making room): its states leave, its events stay (a later served
  // request re-creates it). Configured accounts stay. Returns true when it was known.
  bool remove_account(const std::string& provider_id, const std::string& account);
  // Feeds one upstream response (any status) to the header parser and the live state of the
  // provider's `account` ("" = its only key). model: what the request asked the upstream for (a
  // rejection of a family window teaches that the model belongs to the family).
  ObserveResult observe(const std::string& provider_id, const std::string& account, const std::string& model, int status,
                        const HeaderMap& headers, std::string_view body, double latency_ms, int64_t now_ms);
  ObserveResult observe(const std::string& provider_id, int status, const HeaderMap& headers, std::string_view body,
                        double latency_ms, int64_t now_ms) {
    return observe(provider_id, "", "", status, headers, body, latency_ms, now_ms);
  }
  // A request that never got a response (connection refused, timeout).
  void record_failure(const std::string& provider_id, const std::string& reason, int64_t now_ms);

  // One status per (package, account).
  std::vector<QuotaStatus> statuses(int64_t now_ms) const;
  // One package's status for `account` (kAnyAccount: its first account); nullopt when unknown.
  std::optional<QuotaStatus> status_of(const std::string& package_id, int64_t now_ms,
                                       const std::string& account = kAnyAccount) const;
  Json quotas_document(int64_t now_ms) const;
  // Routing evaluates quota state at 1-second resolution (now rounded up to the second, cached per
  // package until its state changes), so a decision costs O(candidates) on the hot path. It is
  // still a pure function of the engine's inputs and `now`. explain=false skips the ranked list.
  // `skip` names what was already tried for this request (failover): "provider" (every account)
  // or "provider\taccount". `caller`: the account id (fingerprint) of the request's own
  // credential: the only account of auth: client providers it may use ("" = none; kAnyAccount =
  // all, for what-if views). Accounts of auth: key providers are open to every caller.
  RouteDecision route(const std::string& model, int64_t now_ms, bool explain = true,
                      const std::vector<std::string>& skip = {}, const std::string& caller = "") const;
  Json state_document(int64_t now_ms) const;
  // The last `days` local days of one package (now_ms: ms since the epoch; days clamped to 1..35):
  //   "days": weighted usage per local day (from the day buckets, kept 40 days);
  //   "remaining": [{t, remaining}] every 6 hours up to now, then now;
  //   "history": {"basis": "range" | "window", "from", "points": [{t, used, remaining}]}: the same
  //     samples, or the current window's (25 from its start to now) when the window is shorter
  //     than the range;
  //   "forecast": package_forecast.hpp's line from now (to exhaustion, the reset or the expiry)
  //     and the capacity lost there, from the same status as quotas_document(now_ms);
  //   "total", "unit" (the currency for credits, "requests" for windows), "generated_at".
  // Instants are ISO-8601 UTC strings. Remaining is exact for credits and for the current window;
  // earlier window samples only see events still kept for the window. {"error": ...} for an
  // unknown package.
  Json usage_document(const std::string& package_id, int64_t now_ms, int days,
                      const std::string& account = kAnyAccount) const;

  const Catalog& catalog() const { return catalog_; }
  const EngineConfig& config() const { return config_; }
  EngineConfig& mutable_config() { return config_; }
  size_t event_count() const { return events_.size(); }
  // The operator's name for an account ("" when none).
  std::string account_name(const std::string& provider_id, const std::string& account) const;

 private:
  // Raw events, kept event_retention_ms to rebuild usage on a catalog reload. One entry per
  // (second, provider, model, status): ts_ms is second-aligned and the rest are sums.
  struct StoredEvent {
    int64_t ts_ms;
    uint32_t provider, model, account;  // interned
    int status;
    double cost;  // total over the `count` requests (UsageEvent::cost is per request)
    int64_t tokens_in, tokens_out;
    double count;
  };
  // One state: a catalog package on one account of its provider. Everything per state
  // (usage_, live_, versions, caches) is parallel to slots_.
  struct Slot {
    size_t package;
    std::string account;
  };
  uint32_t intern(const std::string& s);
  bool counts(const Package& p, int status) const;
  void apply_event(size_t slot, const StoredEvent& e);
  // Rebuilds states (accounts x packages) and replays events_; `carry`: live observations by
  // "package\nprovider\naccount" (live_by_key()) to keep.
  void rebuild_usage(const std::map<std::string, PackageLive>& carry);
  std::map<std::string, PackageLive> live_by_key() const;
  void add_slots(const std::string& provider_id, const std::string& account);
  void erase_slots(const std::string& provider_id, const std::string& account);
  const ProviderConfig* provider_config(const std::string& provider_id) const;
  // May events of this (unknown) account create it? auth: client and unconfigured providers.
  bool discoverable(const std::string& provider_id, const std::string& account) const;
  bool has_account(const std::string& provider_id, const std::string& account) const;
  ProviderHealth& health_of(const std::string& provider_id);
  // The candidates for `model` (a model name, "auto" or a model group) and, parallel, the model
  // each would send upstream.
  // Each candidate's `model` points at `model`, a group member's name in config_, or a state's
  // cached auto send: valid until the engine changes.
  std::vector<RouteCandidateInput> candidates_for(const std::string& model, int64_t second_ms,
                                                  const std::vector<std::string>& skip, const std::string& caller) const;
  void add_candidates(const std::string& model, const std::string& only_provider, int group_rank, int64_t second_ms,
                      const std::vector<std::string>& skip, const std::string& caller, std::vector<RouteCandidateInput>& out) const;
  // The weight of one request for `model` at a window state (Package::weight_for), cached per state.
  double slot_weight(size_t slot, const std::string& model) const;
  // The model an "auto" request sends to this provider (and package): a concrete name it serves,
  // or "auto" where it takes any name ("*"); "" when none is known (the candidate is left out).
  std::string auto_model(const std::string& provider_id, const Package* p) const;
  // USD per unit of a window package's capacity when the demand it would serve pays elsewhere:
  // the highest pay-as-you-go price per unit among the models it serves (0: none known). Cached
  // per state until a pay-as-you-go price changes.
  double shadow_price(size_t slot) const;
  const RouteView& route_status(size_t slot, int64_t second_ms) const;
  const ProviderHealth* health_ptr(const std::string& provider_id) const;
  const ScopedBlock* block_for(size_t slot, const std::string& model, int64_t second_ms) const;
  QuotaStatus slot_status(size_t slot, int64_t now_ms) const;
  void refresh_slot_health() const;
  void touch(size_t slot) { ++package_version_[slot]; }
  std::string scope_label(const std::string& provider_id, const std::string& account) const;

  struct CachedStatus {
    int64_t second_ms = INT64_MIN;  // route_views_[slot] is as of this second and version
    uint64_t version = 0;
    // Window packages: shadow_price() as of payg_version (UINT64_MAX: not computed yet).
    double shadow = 0;
    uint64_t payg_version = UINT64_MAX;
    // What an "auto" request sends here (auto_model) and the model last routed here with its
    // weight (units per request): both depend only on the package and the provider config, and
    // the cache is reset whenever either changes (configure, rebuild_usage).
    bool auto_known = false;
    std::string auto_send;
    double auto_weight = 1;
    bool weighed = false;
    std::string weighed_model;
    double weight = 1;
  };

  EngineConfig config_;
  Catalog catalog_;
  std::vector<ProviderConfig> providers_;
  std::vector<Slot> slots_;
  std::vector<PackageUsage> usage_;  // parallel to slots_
  std::vector<PackageLive> live_;    // parallel to slots_
  std::map<std::string, ProviderHealth> health_;
  std::map<std::string, std::vector<std::string>> accounts_;  // provider -> account ids (config order, then first seen)
  std::map<std::string, bool> removed_accounts_;              // "provider\taccount" forgotten until served again
  // Live readings of forgotten accounts, by "package\nprovider\naccount", restored when the
  // account comes back (an evicted login keeps its cooldowns and windows); bounded.
  std::map<std::string, PackageLive> parked_live_;
  std::vector<std::string> parked_order_;
  std::map<std::string, ScopedBlock> account_blocks_;  // "provider\taccount" -> 429 cooldown of that account
  std::map<std::string, ScopedBlock> family_blocks_;   // "provider\taccount\tfamily" -> 429 on a family window
  std::map<std::string, ScopedBlock> package_blocks_;  // "provider\taccount\tpackage" -> 429 for a model only it serves
  // Pay-as-you-go price of one request per provider: recorded cost and requests, decayed so that
  // the mean follows recent prices (USD, as the host prices events).
  struct PaygCost {
    double cost = 0, requests = 0;
  };
  std::map<std::string, PaygCost> payg_cost_;
  // The same per (provider, model) (bounded): what a model costs where it is paid for, the
  // shadow price of a scarce window's units (RouteCandidateInput::shadow_per_unit).
  std::map<std::pair<std::string, std::string>, PaygCost> payg_model_cost_;  // (provider, model)
  uint64_t payg_version_ = 0;  // bumped whenever payg_model_cost_ changes
  std::vector<std::pair<std::string, std::string>> learned_families_;  // (family, model) from rejections, bounded
  std::map<std::string, HeaderSnapshot> snapshots_;  // latest per "provider" or "provider\taccount"
  std::vector<StoredEvent> events_;                  // recent raw events, time-ordered
  std::vector<std::string> strings_;
  std::map<std::string, uint32_t> string_ids_;
  std::map<std::string, std::vector<size_t>> slots_by_provider_;
  std::vector<uint64_t> package_version_;          // bumped whenever a state's inputs change
  mutable std::vector<CachedStatus> route_cache_;  // parallel to slots_
  // The router's views, parallel to slots_: contiguous, so that 1,000 candidates stay in cache.
  mutable std::vector<RouteView> route_views_;
  mutable std::deque<ScopedBlock> scratch_blocks_;  // blocks of one route() call (family + account)
  mutable RouteScratch route_scratch_;  // the last route's order of deadlines (a verified hint)
  mutable std::deque<std::string> scratch_models_;  // auto sends of pay-as-you-go providers in one route() call
  mutable std::vector<const ProviderHealth*> slot_health_;  // parallel to slots_
  mutable size_t slot_health_epoch_ = 0;                    // health_.size() when built
};

// Parses an ISO-8601 instant or epoch milliseconds given as a JSON value (used by vectors/CLI).
std::optional<int64_t> instant_from_json(const Json& v);

}  // namespace qg
