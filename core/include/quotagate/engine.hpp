// Engine: the facade the bindings and the native tools drive. It owns the catalog, the usage
// aggregates, the live header observations, provider health and the router configuration.
// No I/O, no clock: every time is a parameter (ms since the epoch, UTC). Public methods never
// throw; failures come back as values.
#pragma once
#include <cstdint>
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

struct EngineConfig {
  AlertThresholds thresholds;
  RouterWeights weights;
  int64_t default_cooldown_ms = 30 * 1000;  // a 429 that names no reset
  int learn_after_rejections = 2;           // repeated 429s below the catalog limit
  int unhealthy_after_failures = 3;
  int64_t event_retention_ms = 40LL * 24 * 3600 * 1000;  // raw events kept to rebuild on catalog reload
  int64_t max_upstream_wait_ms = kDefaultMaxUpstreamWaitMs;  // cap on any retry-after / reset (header_parser.hpp)
};

struct ProviderConfig {
  std::string id;
  std::vector<std::string> models;  // served models or prefixes ("*" = any); first is the default
};

struct CatalogLoadResult {
  bool ok = false;
  std::string error;
  int loaded = 0;
  std::vector<SkippedPackage> skipped;
};

struct ObserveResult {
  HeaderSnapshot snapshot;
  std::optional<int64_t> cooldown_until;
  std::vector<std::string> updated_packages;
};

class Engine {
 public:
  // Replaces the catalog; on a parse error the previous catalog stays in force.
  CatalogLoadResult load_catalog(std::string_view json_text, std::string_view source_name);
  // Routing/alert configuration and the provider list as JSON (docs/engine.md). "" on success.
  std::string configure(std::string_view json_text);

  void record_usage(const UsageEvent& e);
  // Feeds one upstream response (any status) to the header parser and the live state.
  ObserveResult observe(const std::string& provider_id, int status, const HeaderMap& headers, std::string_view body,
                        double latency_ms, int64_t now_ms);
  // A request that never got a response (connection refused, timeout).
  void record_failure(const std::string& provider_id, const std::string& reason, int64_t now_ms);

  std::vector<QuotaStatus> statuses(int64_t now_ms) const;
  // One package's status; nullopt for an unknown id.
  std::optional<QuotaStatus> status_of(const std::string& package_id, int64_t now_ms) const;
  Json quotas_document(int64_t now_ms) const;
  // Routing evaluates quota state at 1-second resolution (now rounded up to the second, cached per
  // package until its state changes), so a decision costs O(candidates) on the hot path. It is
  // still a pure function of the engine's inputs and `now`. explain=false skips the ranked list.
  // `skip` names providers already tried for this request (failover): they are not candidates.
  RouteDecision route(const std::string& model, int64_t now_ms, bool explain = true,
                      const std::vector<std::string>& skip = {}) const;
  Json state_document(int64_t now_ms) const;
  // The last `days` local days of one package: weighted usage per day (from the day buckets, kept
  // 40 days) and remaining capacity every 6 hours up to now. Remaining is exact for credits and for
  // the current window; earlier window samples only see events still kept for the window.
  // {"error": ...} for an unknown package.
  Json usage_document(const std::string& package_id, int64_t now_ms, int days) const;

  const Catalog& catalog() const { return catalog_; }
  const EngineConfig& config() const { return config_; }
  EngineConfig& mutable_config() { return config_; }
  size_t event_count() const { return events_.size(); }

 private:
  // Raw events, kept event_retention_ms to rebuild usage on a catalog reload. One entry per
  // (second, provider, model, status): ts_ms is second-aligned and the rest are sums.
  struct StoredEvent {
    int64_t ts_ms;
    uint32_t provider, model;  // interned
    int status;
    double cost;  // total over the `count` requests (UsageEvent::cost is per request)
    int64_t tokens_in, tokens_out;
    double count;
  };
  uint32_t intern(const std::string& s);
  bool counts(const Package& p, int status) const;
  void apply_event(size_t package_index, const StoredEvent& e);
  void rebuild_usage();
  ProviderHealth& health_of(const std::string& provider_id);
  std::vector<RouteCandidateInput> candidates_for(const std::string& model, int64_t second_ms,
                                                  const std::vector<std::string>& skip) const;
  const RouteView& route_status(size_t package_index, int64_t second_ms) const;
  const ProviderHealth* health_ptr(const std::string& provider_id) const;
  void refresh_package_health() const;
  void touch(size_t package_index) { ++package_version_[package_index]; }

  struct CachedStatus {
    int64_t second_ms = INT64_MIN;
    uint64_t version = 0;
    RouteView view;
  };

  EngineConfig config_;
  Catalog catalog_;
  std::vector<ProviderConfig> providers_;
  std::vector<PackageUsage> usage_;  // parallel to catalog_.packages
  std::vector<PackageLive> live_;    // parallel to catalog_.packages
  std::map<std::string, ProviderHealth> health_;
  std::map<std::string, HeaderSnapshot> snapshots_;  // latest per provider
  std::vector<StoredEvent> events_;                  // recent raw events, time-ordered
  std::vector<std::string> strings_;
  std::map<std::string, uint32_t> string_ids_;
  std::map<std::string, std::vector<size_t>> packages_by_provider_;
  std::vector<uint64_t> package_version_;          // bumped whenever a package's inputs change
  mutable std::vector<CachedStatus> route_cache_;  // parallel to catalog_.packages
  mutable std::vector<const ProviderHealth*> package_health_;  // parallel to catalog_.packages
  mutable size_t package_health_epoch_ = 0;                    // health_.size() when built
};

// Parses an ISO-8601 instant or epoch milliseconds given as a JSON value (used by vectors/CLI).
std::optional<int64_t> instant_from_json(const Json& v);

}  // namespace qg
