// Internal: how the core renders optional values in its JSON documents (null when absent).
// Numbers are rounded to `decimals` (deterministic across builds), instants are ISO-8601 UTC.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "quotagate/civil_time.hpp"
#include "quotagate/det_math.hpp"
#include "quotagate/json.hpp"

namespace qg {

inline Json num_or_null(const std::optional<double>& v, int decimals = 6) {
  return v ? Json(round_to(*v, decimals)) : Json(nullptr);
}
inline Json iso_or_null(const std::optional<int64_t>& v) { return v ? Json(format_iso_utc(*v)) : Json(nullptr); }
inline Json str_or_null(const std::string& v) { return v.empty() ? Json(nullptr) : Json(v); }

}  // namespace qg
