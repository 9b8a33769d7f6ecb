// The normalised view of one provider response's rate-limit signals, whatever the dialect.
// Instants are ms since the epoch (UTC); JSON output renders them as ISO-8601 strings.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "quotagate/json.hpp"

namespace qg {

struct LimitState {
  std::optional<double> limit;
  std::optional<double> remaining;
  std::optional<int64_t> reset_at;
  bool empty() const { return !limit && !remaining && !reset_at; }
};

// One quota window a provider reported (Anthropic 5h/7d, Codex primary/secondary, an IETF
// policy, Gemini per-day ...). utilization is 0..1 of the window's limit.
struct WindowState {
  std::string name;
  std::optional<double> window_minutes;
  std::optional<double> utilization;
  std::optional<double> limit;  // when the provider states it
  std::string status;           // "allowed", "allowed_warning", "rejected" or ""
  std::optional<int64_t> reset_at;
  // A window that covers only one model family ("opus" for Anthropic's 7d_opus claim); "" for a
  // window of the whole account. A scoped window never stands for a package's primary or secondary
  // window: it limits only the models of its family.
  std::string scope;
};

// Paid capacity beyond the plan windows: Anthropic's overage (extra usage billed once the plan
// window is spent) and Codex credits. What the provider said; whether to use it is the provider's
// `overage` setting (allow | avoid).
struct OverageState {
  std::string status;                   // Anthropic -overage-status: allowed | allowed_warning | rejected ("" unknown)
  std::optional<bool> in_use;           // Anthropic -overage-in-use
  std::string disabled_reason;          // Anthropic -overage-disabled-reason
  std::optional<bool> has_credits;      // Codex x-codex-credits-has-credits
  std::optional<bool> unlimited;        // Codex x-codex-credits-unlimited
  std::optional<double> credits_balance;  // Codex x-codex-credits-balance (credits)
  bool empty() const {
    return status.empty() && !in_use && disabled_reason.empty() && !has_credits && !unlimited && !credits_balance;
  }
  // True when the provider says a request beyond the plan windows would still be served (and billed).
  bool available() const;
};

struct HeaderSnapshot {
  std::string dialect = "none";  // e.g. "openai", "anthropic-unified", "openai+ietf"
  int status = 0;
  LimitState requests, tokens, input_tokens, output_tokens;
  std::vector<WindowState> windows;
  std::optional<double> retry_after_s;
  bool retryable = false;
  bool request_too_large = false;  // more than the whole limit: retrying never helps
  std::string representative_claim;  // Anthropic unified: which window binds
  OverageState overage;
  std::string error_type;            // from the body: rate_limit_error, usage_limit_reached ...
  std::vector<std::string> diagnostics;
  int64_t observed_at = 0;

  void add_dialect(const std::string& d);
  // The earliest instant at which this response says capacity returns (retry-after, or the reset
  // of a rejected/exhausted dimension); nullopt when it says nothing.
  std::optional<int64_t> earliest_retry_at() const;
};

Json snapshot_to_json(const HeaderSnapshot& s);

}  // namespace qg
