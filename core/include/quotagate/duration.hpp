// Duration strings as providers send them. Results are in milliseconds (double: "59.345ms" is
// fractional). faigate failed on every compound form ("6m0s", "1h2m3.5s"); this parser takes
// Go's full time.ParseDuration grammar, which also covers protobuf Duration JSON ("43s", "1.5s").
#pragma once
#include <optional>
#include <string_view>

namespace qg {

// Go grammar: [-+]? ( number unit )+ | "0"; units ns us µs ms s m h. Negative results are
// rejected (a reset is never in the past by construction); returns nullopt on any error.
std::optional<double> parse_go_duration_ms(std::string_view text);

}  // namespace qg
