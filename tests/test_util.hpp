// Helpers shared by the GoogleTest files.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "quotagate/civil_time.hpp"

inline int64_t T(const char* iso) {
  auto t = qg::parse_iso8601(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(0);
}
inline std::string iso(int64_t ms) { return qg::format_iso_utc(ms); }
