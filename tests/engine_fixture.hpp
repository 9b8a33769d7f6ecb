// Builds an Engine from an inline catalog and a list of usage events, for tracker/router tests.
#pragma once
#include <string>
#include <vector>

#include "quotagate/engine.hpp"
#include "test_util.hpp"

inline qg::UsageEvent Ev(const char* ts, const char* provider, const char* model, double cost = 0, int status = 200) {
  qg::UsageEvent e;
  e.ts_ms = T(ts);
  e.provider_id = provider;
  e.model = model;
  e.cost = cost;
  e.status = status;
  return e;
}

inline qg::Engine EngineWith(const std::string& packages_json) {
  qg::Engine e;
  const auto r = e.load_catalog("{\"schema_version\":1,\"packages\":" + packages_json + "}", "test.json");
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.skipped.empty()) << (r.skipped.empty() ? "" : r.skipped[0].reason);
  return e;
}

inline qg::QuotaStatus StatusOf(const qg::Engine& e, const std::string& id, int64_t now) {
  for (const auto& s : e.statuses(now))
    if (s.package_id == id) return s;
  ADD_FAILURE() << "no package " << id;
  return {};
}
