// Embind bindings: the only code in wasm/. Every entry point catches everything, so no C++
// exception ever reaches JS; failures come back as values (error strings or ok:false objects).
// Times cross the boundary as JS numbers (ms since the epoch); documents as JSON strings.
#include <emscripten/bind.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "quotagate/balance.hpp"
#include "quotagate/civil_time.hpp"
#include "quotagate/engine.hpp"
#include "quotagate/header_parser.hpp"
#include "quotagate/simulator.hpp"
#include "quotagate/vector_runner.hpp"

namespace {

// JS numbers to instants: NaN is 0, anything beyond year +-9999 is clamped there (never cast out of range).
int64_t to_ms(double v) {
  if (std::isnan(v)) return 0;
  const double limit = static_cast<double>(qg::kMaxInstantMs);
  return static_cast<int64_t>(std::llround(std::max(-limit, std::min(limit, v))));
}
std::string error_json(const char* where, const char* what) {
  return qg::dump_json(qg::Json{{"error", std::string(where) + ": " + what}});
}

struct LoadSummary {
  bool ok = false;
  std::string error;
  int loaded = 0;
  std::string skipped_json = "[]";
};

struct ObserveSummary {
  std::string error;
  std::string dialect;
  bool retryable = false;
  double cooldown_until = -1;  // ms, -1 when none
  double retry_at = -1;        // ms, -1 when the response names none
  std::string cooldown_scope;  // "account", "family:<name>" or ""
};

struct RouteSummary {
  bool ok = false;
  std::string provider, package_id, model, reason, account;
  bool all_excluded = false;
  double retry_at = -1;  // ms, -1 when unknown
};

class WasmEngine {
 public:
  LoadSummary loadCatalog(const std::string& text, const std::string& source) {
    LoadSummary s;
    try {
      const qg::CatalogLoadResult r = engine_.load_catalog(text, source);
      s.ok = r.ok;
      s.error = r.error;
      s.loaded = r.loaded;
      qg::Json skipped = qg::Json::array();
      for (const auto& k : r.skipped) skipped.push_back(qg::Json{{"package_id", k.package_id}, {"reason", k.reason}});
      s.skipped_json = qg::dump_json(skipped);
    } catch (const std::exception& e) {
      s.error = std::string("loadCatalog: ") + e.what();
    }
    return s;
  }

  std::string configure(const std::string& json) {
    try {
      return engine_.configure(json);
    } catch (const std::exception& e) {
      return std::string("configure: ") + e.what();
    }
  }

  // account: the provider account that served it ("" for a provider's only key; never a credential).
  std::string recordUsage(double ts_ms, const std::string& provider, const std::string& model, int status, double cost,
                          double tokens_in, double tokens_out, const std::string& account) {
    return record("recordUsage", ts_ms, provider, model, status, cost, tokens_in, tokens_out, account, 1);
  }

  // `count` events of one second summed (the ledger's per-second rows at start): cost, tokens_in
  // and tokens_out are totals over them; count in [1, 1e9] (else the row counts as one event).
  std::string recordUsageCount(double ts_ms, const std::string& provider, const std::string& model, int status, double cost_total,
                               double tokens_in, double tokens_out, const std::string& account, double count) {
    return record("recordUsageCount", ts_ms, provider, model, status, cost_total, tokens_in, tokens_out, account, count);
  }

  bool addAccount(const std::string& provider, const std::string& account) {
    try {
      return engine_.add_account(provider, account);
    } catch (...) {
      return false;
    }
  }

  bool removeAccount(const std::string& provider, const std::string& account) {
    try {
      return engine_.remove_account(provider, account);
    } catch (...) {
      return false;
    }
  }

  // headers_text: "Name: value" lines. account: as in recordUsage; model: what the upstream was asked for.
  ObserveSummary observe(const std::string& provider, const std::string& account, const std::string& model, int status,
                         const std::string& headers_text, const std::string& body, double latency_ms, double now) {
    ObserveSummary s;
    try {
      const qg::ObserveResult r = engine_.observe(provider, account, model, status, qg::parse_header_lines(headers_text),
                                                  body, latency_ms, to_ms(now));
      s.cooldown_scope = r.cooldown_scope;
      s.dialect = r.snapshot.dialect;
      s.retryable = r.snapshot.retryable;
      if (r.cooldown_until) s.cooldown_until = static_cast<double>(*r.cooldown_until);
      if (auto t = r.snapshot.earliest_retry_at()) s.retry_at = static_cast<double>(*t);
    } catch (const std::exception& e) {
      s.error = std::string("observe: ") + e.what();
    }
    return s;
  }

  std::string recordFailure(const std::string& provider, const std::string& reason, double now) {
    try {
      engine_.record_failure(provider, reason, to_ms(now));
      return "";
    } catch (const std::exception& e) {
      return std::string("recordFailure: ") + e.what();
    }
  }

  // skip: what was already tried for this request, separated by '\n' ("" for none): provider
  // ids, or "provider\taccount". caller: the request's own account id ("" none, "*" any).
  RouteSummary route(const std::string& model, double now, const std::string& skip, const std::string& caller) {
    RouteSummary s;
    try {
      std::vector<std::string> skip_list;
      size_t start = 0;
      while (start < skip.size()) {
        size_t end = skip.find('\n', start);
        if (end == std::string::npos) end = skip.size();
        if (end > start) skip_list.push_back(skip.substr(start, end - start));
        start = end + 1;
      }
      const qg::RouteDecision d = engine_.route(model, to_ms(now), /*explain=*/false, skip_list, caller);
      s.ok = d.ok;
      s.account = d.account;
      s.provider = d.provider_id;
      s.package_id = d.package_id;
      s.model = d.model;
      s.reason = d.ok ? d.reason : d.error;
      s.all_excluded = d.all_excluded;
      if (d.retry_at) s.retry_at = static_cast<double>(*d.retry_at);
    } catch (const std::exception& e) {
      s.reason = std::string("route: ") + e.what();
    }
    return s;
  }

  std::string routeJson(const std::string& model, double now, const std::string& caller) {
    try {
      return qg::dump_json(qg::decision_to_json(engine_.route(model, to_ms(now), true, {}, caller)));
    } catch (const std::exception& e) {
      return error_json("routeJson", e.what());
    }
  }
  std::string quotasJson(double now) {
    try {
      return qg::dump_json(engine_.quotas_document(to_ms(now)));
    } catch (const std::exception& e) {
      return error_json("quotasJson", e.what());
    }
  }
  std::string stateJson(double now) {
    try {
      return qg::dump_json(engine_.state_document(to_ms(now)));
    } catch (const std::exception& e) {
      return error_json("stateJson", e.what());
    }
  }
  // account: "*" = the package's first account.
  std::string usageJson(const std::string& package_id, double now, int days, const std::string& account) {
    try {
      return qg::dump_json(engine_.usage_document(package_id, to_ms(now), days, account));
    } catch (const std::exception& e) {
      return error_json("usageJson", e.what());
    }
  }
  double eventCount() const { return static_cast<double>(engine_.event_count()); }

 private:
  // One usage event standing for `count` requests (1 from the proxy); cost_total is their cost.
  std::string record(const char* op, double ts_ms, const std::string& provider, const std::string& model, int status, double cost_total,
                     double tokens_in, double tokens_out, const std::string& account, double count) {
    try {
      qg::UsageEvent e;
      e.ts_ms = to_ms(ts_ms);
      e.provider_id = provider;
      e.model = model;
      e.status = status;
      e.count = std::isfinite(count) && count >= 1 && count <= qg::kMaxEventCount ? std::floor(count) : 1;
      e.cost = std::isfinite(cost_total) ? cost_total / e.count : 0;  // the engine takes the cost of one request
      e.tokens_in = to_ms(tokens_in);
      e.tokens_out = to_ms(tokens_out);
      e.account = account;
      engine_.record_usage(e);
      return "";
    } catch (const std::exception& e) {
      return std::string(op) + ": " + e.what();
    }
  }

  qg::Engine engine_;
};

std::string parseResponseJson(const std::string& raw, double now) {
  try {
    const qg::RawResponse r = qg::parse_raw_response(raw);
    return qg::dump_json(qg::snapshot_to_json(qg::parse_rate_limit_response(r.status, r.headers, r.body, to_ms(now))));
  } catch (const std::exception& e) {
    return error_json("parseResponse", e.what());
  }
}

std::string simulateJson(const std::string& state, const std::string& scenario) {
  try {
    return qg::simulate_json(state, scenario);
  } catch (...) {
    return error_json("simulate", "unexpected failure");
  }
}

std::string applyBalanceJson(const std::string& memory, const std::string& reading) {
  try {
    return qg::apply_balance_json(memory, reading);
  } catch (...) {
    return error_json("applyBalance", "unexpected failure");
  }
}

std::string runVector(const std::string& text) {
  try {
    return qg::run_vector(text);
  } catch (...) {
    return error_json("runVector", "unexpected failure");
  }
}

std::string parseIsoMs(const std::string& text) {
  auto t = qg::parse_iso8601(text);
  return t ? std::to_string(*t) : "";
}

}  // namespace

EMSCRIPTEN_BINDINGS(quotagate) {
  using namespace emscripten;
  value_object<LoadSummary>("LoadSummary")
      .field("ok", &LoadSummary::ok)
      .field("error", &LoadSummary::error)
      .field("loaded", &LoadSummary::loaded)
      .field("skippedJson", &LoadSummary::skipped_json);
  value_object<ObserveSummary>("ObserveSummary")
      .field("error", &ObserveSummary::error)
      .field("dialect", &ObserveSummary::dialect)
      .field("retryable", &ObserveSummary::retryable)
      .field("cooldownUntil", &ObserveSummary::cooldown_until)
      .field("retryAt", &ObserveSummary::retry_at)
      .field("cooldownScope", &ObserveSummary::cooldown_scope);
  value_object<RouteSummary>("RouteSummary")
      .field("ok", &RouteSummary::ok)
      .field("provider", &RouteSummary::provider)
      .field("packageId", &RouteSummary::package_id)
      .field("account", &RouteSummary::account)
      .field("model", &RouteSummary::model)
      .field("reason", &RouteSummary::reason)
      .field("allExcluded", &RouteSummary::all_excluded)
      .field("retryAt", &RouteSummary::retry_at);
  class_<WasmEngine>("Engine")
      .constructor<>()
      .function("loadCatalog", &WasmEngine::loadCatalog)
      .function("configure", &WasmEngine::configure)
      .function("recordUsage", &WasmEngine::recordUsage)
      .function("recordUsageCount", &WasmEngine::recordUsageCount)
      .function("observe", &WasmEngine::observe)
      .function("addAccount", &WasmEngine::addAccount)
      .function("removeAccount", &WasmEngine::removeAccount)
      .function("recordFailure", &WasmEngine::recordFailure)
      .function("route", &WasmEngine::route)
      .function("routeJson", &WasmEngine::routeJson)
      .function("quotasJson", &WasmEngine::quotasJson)
      .function("stateJson", &WasmEngine::stateJson)
      .function("usageJson", &WasmEngine::usageJson)
      .function("eventCount", &WasmEngine::eventCount);
  function("parseResponseJson", &parseResponseJson);
  function("runVector", &runVector);
  function("simulateJson", &simulateJson);
  function("applyBalanceJson", &applyBalanceJson);
  function("parseIsoMs", &parseIsoMs);
}
