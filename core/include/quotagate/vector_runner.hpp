// Golden-vector runner: replays a scripted sequence of engine operations (tests/vectors/*.json)
// and returns the outputs as one JSON document. The native tests and the wasm module both run
// it, and both must print byte-identical text (docs/testing.md).
#pragma once
#include <string>
#include <string_view>

namespace qg {

// Never throws: a malformed vector yields {"error": "..."}.
std::string run_vector(std::string_view vector_json);

}  // namespace qg
