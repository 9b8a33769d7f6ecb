// Replays vector steps against a fresh Engine. Steps:
//   {"op":"catalog","catalog":{...}|"text":"..."}   {"op":"config","config":{...}}
//   {"op":"usage","events":[{ts,provider_id,model,status,cost,tokens_in,tokens_out}]}
//   {"op":"observe","at":T,"provider":P,"status":N,"headers":{..}|"raw":"...","body":"...","latency_ms":X}
//   {"op":"failure","at":T,"provider":P,"reason":"..."}
//   {"op":"quotas","at":T}   {"op":"route","at":T,"model":M}   {"op":"parse","at":T,"raw":"HTTP/1.1 ..."}
//   {"op":"usage_document","at":T,"package":ID,"days":N,"account":A}  (the /api/usage document)
//   {"op":"simulate","at":T,"scenario":{...}}  (the engine's state at T, then the what-if simulator)
#include "quotagate/vector_runner.hpp"

#include "quotagate/civil_time.hpp"
#include "quotagate/engine.hpp"
#include "quotagate/header_parser.hpp"
#include "quotagate/simulator.hpp"

namespace qg {

namespace {

int64_t at_of(const Json& step) {
  if (step.contains("at"))
    if (auto t = instant_from_json(step["at"])) return *t;
  throw std::runtime_error("step " + dump_json(step) + ": \"at\" must be an ISO-8601 instant or epoch ms");
}

HeaderMap headers_of(const Json& step) {
  HeaderMap h;
  if (step.contains("headers") && step["headers"].is_object())
    for (auto it = step["headers"].begin(); it != step["headers"].end(); ++it)
      h.add(it.key(), it.value().is_string() ? it.value().get<std::string>() : dump_json(it.value()));
  return h;
}

UsageEvent event_of(const Json& e) {
  UsageEvent ev;
  auto ts = instant_from_json(e.value("ts", Json()));
  if (!ts) throw std::runtime_error("event " + dump_json(e) + ": ts must be an ISO-8601 instant or epoch ms");
  ev.ts_ms = *ts;
  ev.provider_id = e.value("provider_id", "");
  ev.model = e.value("model", "");
  ev.status = e.value("status", 200);
  ev.cost = e.value("cost", 0.0);
  ev.tokens_in = e.value("tokens_in", 0);
  ev.tokens_out = e.value("tokens_out", 0);
  ev.account = e.value("account", "");
  return ev;
}

}  // namespace

std::string run_vector(std::string_view text) {
  try {
    const Json v = Json::parse(text.begin(), text.end());
    if (!v.contains("steps") || !v["steps"].is_array()) return dump_json(Json{{"error", "vector: expected \"steps\": [...]"}}, 2);
    Engine engine;
    Json outputs = Json::array();
    for (const Json& step : v["steps"]) {
      const std::string op = step.value("op", "");
      Json out = Json::object();
      out["op"] = op;
      if (op == "catalog") {
        const std::string catalog_text = step.contains("text") ? step["text"].get<std::string>() : step["catalog"].dump(2);
        const CatalogLoadResult r = engine.load_catalog(catalog_text, step.value("source", "catalog.v1.json"));
        out["ok"] = r.ok;
        out["error"] = r.ok ? Json(nullptr) : Json(r.error);
        out["loaded"] = r.loaded;
        Json skipped = Json::array();
        for (const auto& s : r.skipped) skipped.push_back(Json{{"package_id", s.package_id}, {"reason", s.reason}});
        out["skipped"] = skipped;
      } else if (op == "config") {
        const std::string err = engine.configure(step["config"].dump());
        out["error"] = err.empty() ? Json(nullptr) : Json(err);
      } else if (op == "usage") {
        for (const Json& e : step["events"]) engine.record_usage(event_of(e));
        out["events"] = step["events"].size();
      } else if (op == "observe") {
        const HeaderMap h = step.contains("raw") ? parse_raw_response(step["raw"].get<std::string>()).headers : headers_of(step);
        const ObserveResult r = engine.observe(step.value("provider", ""), step.value("account", ""), step.value("model", ""),
                                               step.value("status", 200), h, step.value("body", ""),
                                               step.value("latency_ms", -1.0), at_of(step));
        out["snapshot"] = snapshot_to_json(r.snapshot);
        out["cooldown_until"] = r.cooldown_until ? Json(format_iso_utc(*r.cooldown_until)) : Json(nullptr);
        if (!r.cooldown_scope.empty()) out["cooldown_scope"] = r.cooldown_scope;
        out["updated_packages"] = r.updated_packages;
      } else if (op == "failure") {
        engine.record_failure(step.value("provider", ""), step.value("reason", "connection error"), at_of(step));
      } else if (op == "quotas") {
        out["document"] = engine.quotas_document(at_of(step));
      } else if (op == "usage_document") {
        out["document"] = engine.usage_document(step.value("package", ""), at_of(step), step.value("days", 7),
                                                step.value("account", std::string(kAnyAccount)));
      } else if (op == "account") {
        out["added"] = engine.add_account(step.value("provider", ""), step.value("account", ""));
      } else if (op == "route") {
        out["decision"] = decision_to_json(engine.route(step.value("model", "auto"), at_of(step), true, {}, step.value("caller", "")));
      } else if (op == "simulate") {
        const std::string result = simulate_json(engine.state_document(at_of(step)).dump(), step["scenario"].dump());
        out["result"] = Json::parse(result);
      } else if (op == "parse") {
        const RawResponse raw = parse_raw_response(step.value("raw", ""));
        out["snapshot"] = snapshot_to_json(parse_rate_limit_response(raw.status, raw.headers, raw.body, at_of(step)));
      } else {
        throw std::runtime_error("unknown op \"" + op + "\"");
      }
      outputs.push_back(out);
    }
    return dump_json(Json{{"outputs", outputs}}, 2) + "\n";
  } catch (const std::exception& e) {
    return dump_json(Json{{"error", std::string("vector: ") + e.what()}}, 2) + "\n";
  }
}

}  // namespace qg
