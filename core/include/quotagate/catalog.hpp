// The package catalog: faigate's packages/catalog.v1.json read as-is, plus quotagate's optional
// extensions (docs/catalog.md). Parsing never throws; one bad entry skips only that entry.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quotagate/json.hpp"
#include "quotagate/time_zone.hpp"

namespace qg {

enum class PackageType { kCredits, kRollingWindow, kDaily };
enum class WindowMode { kSliding, kFixed };

const char* to_string(PackageType t);
const char* to_string(WindowMode m);

// A second limit beside the primary window (e.g. Claude's 7-day cap next to the 5 h window).
struct SecondaryWindow {
  std::string name;         // e.g. "7d"
  double window_hours = 0;  // > 0
  double limit = 0;         // weighted requests per window, > 0
  WindowMode mode = WindowMode::kSliding;
};

// A limit that covers only one model family of an account (Anthropic's 7d_opus, 7d_sonnet, 7d_oi
// claims; any 7d_<family>). Declared in the catalog when the user knows it; header readings fill
// the utilization either way.
struct ModelWindow {
  std::string family;               // lowercase, e.g. "opus"
  double window_hours = 0;          // > 0
  double limit = 0;                 // weighted requests per window; 0 = not known
  std::vector<std::string> models;  // patterns; empty = models whose name has the family as a word
};

// True if `model` belongs to `family`: it matches one of `patterns`, or one of its words (split at
// - _ . / :) is the family, case-insensitively ("claude-opus-4-8" is in "opus").
bool model_in_family(std::string_view family, std::string_view model, const std::vector<std::string>& patterns);

struct Package {
  std::string id;
  std::string provider_id;
  PackageType type = PackageType::kCredits;
  // credits (in `currency` units, e.g. USD or CNY)
  double total_credits = 0;
  double used_credits = 0;
  std::string expiry_date;            // as written ("" when none)
  std::optional<int64_t> expires_at;  // ms: end of expiry_date in the package's zone
  // windows
  double window_hours = 0;
  double limit_per_window = 0;
  double limit_per_day = 0;
  WindowMode window_mode = WindowMode::kSliding;
  std::vector<SecondaryWindow> secondary_windows;
  std::vector<ModelWindow> model_windows;
  // shared
  std::vector<std::pair<std::string, double>> model_weights;  // in file order
  // Extension: models this package serves, exact names or "prefix*" patterns ("*" = any). When set,
  // only requests for these models route here and only their events count against the package.
  std::vector<std::string> models;
  std::string source = "manual";
  std::string confidence = "medium";
  std::string last_updated;            // as written
  std::optional<int64_t> last_updated_ms;
  std::string notes;
  std::string currency = "USD";
  std::string reset_timezone = "UTC";
  TimeZone zone;  // parsed reset_timezone
  bool count_failed = false;
  // Extensions for the plan (docs/catalog.md): what one unit is worth in USD, given directly or
  // following from a subscription's monthly price (USD per month).
  std::optional<double> unit_value;
  std::optional<double> monthly_price;

  // Weight of one request for `model` (weight_key_match: exact key, else the longest key that
  // prefixes it at a name boundary, else a key of the same family), else 1.
  double weight_for(std::string_view model) const;
  // True if this package's provider is known to serve `model` (models list, else weight keys).
  bool serves(std::string_view model) const;
  // USD per unit (credits: per currency unit; windows: per weighted request). unit_value when
  // declared; else credits 1, windows monthly_price / units_per_month(), else 0.
  double unit_value_usd() const;
  // Weighted requests a month (30 days) of this subscription gives: the tightest of its windows.
  double units_per_month() const;
  // Primary capacity: total credits, limit per window, or limit per day.
  double capacity() const;
  // Primary window length in ms (credits: 0; daily: 24 h nominal).
  int64_t window_ms() const;
};

// How a model_weights key matches a model name: 3 exact; 2 the key is a prefix ending at a name
// boundary ("claude-opus" covers "claude-opus-4-8"; "gpt-4" covers "gpt-4-turbo" but not
// "gpt-4.1-mini" nor "gpt-4o"); 1 same family (model_family: "claude-opus-4-5" covers
// "claude-opus-4-8"); 0 no match.
int weight_key_match(std::string_view key, std::string_view model);
// A model name without its version tokens: dash-separated tokens made only of digits and dots
// are dropped ("claude-3-5-sonnet-20241022" -> "claude-sonnet", "gpt-4.1-mini" -> "gpt-mini").
std::string model_family(std::string_view model);

// "gpt-4o" matches only itself; "claude-opus-4*" matches any model starting "claude-opus-4"; "*" any.
bool model_pattern_matches(std::string_view pattern, std::string_view model);

struct SkippedPackage {
  std::string package_id;
  std::string reason;
};

struct Catalog {
  Json document;  // the whole file as read: envelope, _notes and unknown fields are preserved
  std::vector<Package> packages;
  std::vector<SkippedPackage> skipped;
};

struct CatalogParseResult {
  bool ok = false;
  std::string error;  // "FILE:LINE:COL: ..." or "FILE: $.path: expected ..."
  Catalog catalog;
};

CatalogParseResult parse_catalog(std::string_view json_text, std::string_view source_name);
// Parses one entry (used by parse_catalog and by the host's merge). Returns an error message
// naming the JSON path, or the package.
std::optional<std::string> parse_package(const std::string& id, const Json& entry, Package& out);

}  // namespace qg
