// Small string helpers shared by the parsers: trimming, ASCII case folding, strict numbers.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qg {

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
// Case-insensitive substring search; npos when absent.
size_t ifind(std::string_view haystack, std::string_view needle);
std::vector<std::string_view> split_ws(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);

// Strict decimal number: optional sign, digits, optional fraction and exponent; the whole
// (trimmed) text must be consumed. No hex, no inf/nan.
std::optional<double> parse_number(std::string_view s);
// Strict non-negative or negative integer that fits in int64.
std::optional<long long> parse_integer(std::string_view s);

// JSON documents from outside may nest at most this deep: nlohmann's copy and dump recurse, so a
// hostile 100k-deep document would overflow the stack (natively, and in wasm) after parsing.
constexpr int kMaxJsonDepth = 64;
// True when `json_text` nests brackets (outside strings) deeper than max_depth. One linear pass,
// no allocation; malformed text is the parser's to reject.
bool json_too_deep(std::string_view json_text, int max_depth = kMaxJsonDepth);

}  // namespace qg
