// Internal: one function per rate-limit dialect. Each reads what it recognises into the
// snapshot, tags the dialect, and records diagnostics for values it cannot read.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quotagate/header_snapshot.hpp"
#include "quotagate/http_headers.hpp"
#include "quotagate/json.hpp"

namespace qg::dialects {

void openai_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now_ms);
void anthropic_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now_ms);
void anthropic_unified_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now_ms);
void codex_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now_ms);
void openrouter_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now_ms);
void ietf_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now_ms);
void retry_after_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now_ms);
// Error bodies (429 and friends): OpenAI, Anthropic, Gemini, Codex, OpenRouter. Returns false
// when the body says nothing this reader understands. depth: nested bodies read so far.
bool error_body(const Json& body, HeaderSnapshot& s, int64_t now_ms, int depth = 0);

// Shared readers. Each records a diagnostic naming the header when a value is unreadable.
std::optional<double> read_number(const HeaderMap& h, const char* name, HeaderSnapshot& s);
void diagnose(HeaderSnapshot& s, std::string_view name, std::string_view value, std::string_view expected);
// A header value as a short token we can report: printable ASCII only, at most max_len bytes.
std::string printable(std::string_view value, size_t max_len = 64);
// Epoch given in seconds or milliseconds, told apart by magnitude; nullopt outside 1970..9999.
std::optional<int64_t> epoch_to_ms(double epoch);
// now + seconds, or nullopt when that leaves 1970..9999 (a hostile header can say anything).
std::optional<int64_t> after_seconds(int64_t now_ms, double seconds);
// "in 644ms", "in 1.5s", "in 6m0s", "in 20 seconds", "in 3 days 4 hours" inside a message: the
// delay in seconds (every unit and compound, read whole).
std::optional<double> delay_in_message(std::string_view message);
// A reset value whose unit the header does not say: epoch milliseconds, epoch seconds or delta
// seconds, by magnitude against now; an epoch in the past is now. nullopt when it fits none
// (negative, or an epoch beyond year 9999).
std::optional<int64_t> reset_instant(double value, int64_t now_ms);

}  // namespace qg::dialects
