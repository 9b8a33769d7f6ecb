// Error bodies that carry rate-limit facts:
//  - OpenAI: error.message "... Please try again in 644ms." ; "Request too large ..." is final;
//    code insufficient_quota is a billing stop, not a rate limit.
//  - Anthropic: {"type":"error","error":{"type":"rate_limit_error"|"overloaded_error",...}}
//  - Gemini: error.status RESOURCE_EXHAUSTED with details RetryInfo.retryDelay ("43s") and
//    QuotaFailure.violations[].quotaId naming PerDay / PerMinute quotas.
//  - Codex: error.type usage_limit_reached with resets_at (epoch s) / resets_in_seconds.
//  - OpenRouter: error.metadata.headers holds X-RateLimit-* (reset in epoch ms); a 429 that the
//    provider's own upstream gave (error.metadata.provider_name / metadata.raw, "temporarily
//    rate-limited upstream") is not about our quota: error_type "upstream_rate_limited", and the
//    raw text, when it is JSON, is read as a body of its own (Gemini's RetryInfo inside it).
// Wrappers providers really use are unwrapped first: a JSON array of errors (Gemini's
// OpenAI-compatible endpoint and Code Assist), `error` as a plain string.
#include <cmath>

#include "dialects.hpp"
#include "quotagate/duration.hpp"
#include "quotagate/text.hpp"

namespace qg::dialects {

namespace {

std::string str_at(const Json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return "";
}

std::optional<double> num_at(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return std::nullopt;
  const Json& v = j[key];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return parse_number(v.get<std::string>());
  return std::nullopt;
}

void gemini(const Json& err, HeaderSnapshot& s, int64_t now) {
  s.add_dialect("gemini");
  s.error_type = "RESOURCE_EXHAUSTED";
  std::optional<double> delay_s;
  std::vector<WindowState> windows;
  if (err.contains("details") && err["details"].is_array()) {
    for (const auto& d : err["details"]) {
      const std::string type = str_at(d, "@type");
      if (type.find("RetryInfo") != std::string::npos) {
        const std::string delay = str_at(d, "retryDelay");
        if (auto ms = parse_go_duration_ms(delay)) delay_s = *ms / 1000.0;
        else if (!delay.empty()) diagnose(s, "body.error.details.RetryInfo.retryDelay", delay, "a duration such as \"43s\"");
      } else if (type.find("QuotaFailure") != std::string::npos && d.contains("violations") && d["violations"].is_array()) {
        for (const auto& v : d["violations"]) {
          const std::string id = str_at(v, "quotaId") + " " + str_at(v, "quotaMetric");
          WindowState w;
          w.status = "rejected";
          w.utilization = 1.0;
          if (ifind(id, "PerDay") != std::string::npos || ifind(id, "per_day") != std::string::npos) {
            w.name = "per_day";
            w.window_minutes = 1440;
          } else if (ifind(id, "PerMinute") != std::string::npos || ifind(id, "per_minute") != std::string::npos) {
            w.name = "per_minute";
            w.window_minutes = 1;
          } else {
            w.name = str_at(v, "quotaId").empty() ? "quota" : str_at(v, "quotaId");
          }
          w.limit = num_at(v, "quotaValue");
          windows.push_back(w);
        }
      }
    }
  }
  if (!delay_s) delay_s = delay_in_message(str_at(err, "message"));
  // Without a QuotaFailure naming one of our quotas, RESOURCE_EXHAUSTED is shared capacity
  // (Vertex AI's dynamic shared quota): not a limit of this package.
  if (windows.empty()) s.error_type = "upstream_rate_limited";
  if (delay_s && !s.retry_after_s) s.retry_after_s = delay_s;
  // RetryInfo is when to retry, not when a quota resets: it gives the reset of a short (per-minute)
  // quota only. A per-day quota that is exhausted stays so until its own reset (the package's), even
  // when Google suggests retrying in 31 s.
  for (auto& w : windows) {
    if (delay_s && w.window_minutes && *w.window_minutes <= 60) w.reset_at = after_seconds(now, std::ceil(*delay_s * 1000) / 1000);
    s.windows.push_back(w);
  }
}

void openrouter_meta(const Json& headers, HeaderSnapshot& s, int64_t now) {
  HeaderMap h;
  for (auto it = headers.begin(); it != headers.end(); ++it)
    h.add(it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  openrouter_headers(h, s, now);
}

// Capacity refusals, not quotas: "capacity exceeded", "overloaded", "temporarily".
bool capacity_words(std::string_view text) {
  return ifind(text, "capacity") != std::string_view::npos || ifind(text, "overloaded") != std::string_view::npos ||
         ifind(text, "temporarily") != std::string_view::npos;
}

}  // namespace

bool error_body(const Json& outer, HeaderSnapshot& s, int64_t now, int depth) {
  const Json& body = outer.is_array() && !outer.empty() ? outer[0] : outer;
  if (!body.is_object()) return false;
  if (body.contains("error") && body["error"].is_string()) {
    const std::string message = body["error"].get<std::string>();
    s.error_type = "error";
    if (auto d = delay_in_message(message); d && !s.retry_after_s) s.retry_after_s = d;
    if (ifind(message, "rate limit") != std::string::npos) s.add_dialect("openai");
    return true;
  }
  const Json* err = (body.contains("error") && body["error"].is_object()) ? &body["error"] : nullptr;
  if (!err && body.contains("message") && body["message"].is_string() && (body.contains("type") || body.contains("code"))) {
    // Mistral {"object":"error","message","type","code"} and Cerebras {"message","type","code"}.
    const std::string message = str_at(body, "message");
    const std::string t = str_at(body, "type"), c = str_at(body, "code");
    s.error_type = capacity_words(message) || capacity_words(t) ? "upstream_rate_limited" : !c.empty() ? c : t;
    if (ifind(message, "rate limit") != std::string::npos || ifind(t, "too_many_requests") != std::string::npos) s.add_dialect("openai");
    if (!s.retry_after_s)
      if (auto d = delay_in_message(message)) s.retry_after_s = d;
    return true;
  }
  if (!err) return false;
  const std::string type = str_at(*err, "type");
  const std::string code = err->contains("code") && (*err)["code"].is_string() ? (*err)["code"].get<std::string>() : "";
  const std::string status = str_at(*err, "status");
  const std::string message = str_at(*err, "message");

  if (status == "RESOURCE_EXHAUSTED") {
    gemini(*err, s, now);
    return true;
  }
  if (type == "usage_limit_reached" || code == "usage_limit_reached") {
    s.add_dialect("codex");
    s.error_type = "usage_limit_reached";
    WindowState w;
    w.name = "usage_limit";
    w.status = "rejected";
    w.utilization = 1.0;
    if (auto at = num_at(*err, "resets_at"); at && *at > 0) w.reset_at = epoch_to_ms(*at);
    else if (auto in = num_at(*err, "resets_in_seconds"); in && *in >= 0) w.reset_at = after_seconds(now, *in);
    if (w.reset_at && !s.retry_after_s) s.retry_after_s = static_cast<double>(std::max<int64_t>(0, *w.reset_at - now)) / 1000.0;
    s.windows.push_back(w);
    return true;
  }
  if (body.contains("type") && body["type"] == "error" && !type.empty()) {
    s.add_dialect("anthropic");
    s.error_type = type;
    if (!s.retry_after_s)
      if (auto d = delay_in_message(message)) s.retry_after_s = d;
    return true;
  }
  const Json* meta = err->contains("metadata") && (*err)["metadata"].is_object() ? &(*err)["metadata"] : nullptr;
  const bool relayed = meta && !meta->contains("headers") &&
                      ((meta->contains("provider_name") && (*meta)["provider_name"].is_string() && !(*meta)["provider_name"].get<std::string>().empty()) ||
                       meta->contains("raw"));
  if (relayed) {
    // OpenRouter relaying its provider's refusal: not our quota.
    s.add_dialect("openrouter");
    s.error_type = "upstream_rate_limited";
    const std::string provider = str_at(*meta, "provider_name");
    s.diagnostics.push_back("body: the provider's own upstream" + (provider.empty() ? std::string() : " (" + printable(provider, 60) + ")") +
                            " refused the request; not a limit of this package");
    // The provider's own quotas (a Gemini per-day QuotaFailure inside raw) are not ours: only the
    // wait it suggests is taken.
    // (find, never operator[] on a const object: a missing key there is undefined behaviour.)
    const auto rit = meta->find("raw");
    const std::string raw = rit == meta->end() ? std::string() : rit->is_string() ? rit->get<std::string>() : rit->dump();
    const std::string_view t = trim(raw);
    if (depth < 2 && !t.empty() && (t.front() == '{' || t.front() == '[') && t.size() <= (1u << 16) && !json_too_deep(t)) {
      const Json inner = Json::parse(t.begin(), t.end(), nullptr, false);
      if (!inner.is_discarded()) {
        HeaderSnapshot scratch;
        scratch.observed_at = now;
        error_body(inner, scratch, now, depth + 1);
        if (scratch.retry_after_s && !s.retry_after_s) s.retry_after_s = scratch.retry_after_s;
      }
    }
    if (!s.retry_after_s)
      if (auto d = delay_in_message(raw)) s.retry_after_s = d;
    return true;
  }
  if (err->contains("metadata") && (*err)["metadata"].is_object() && (*err)["metadata"].contains("headers") &&
      (*err)["metadata"]["headers"].is_object()) {
    openrouter_meta((*err)["metadata"]["headers"], s, now);
    s.error_type = "rate_limit";
    if (ifind(message, "per-day") != std::string::npos || ifind(message, "per day") != std::string::npos) {
      WindowState w{"per_day", 1440.0, 1.0, s.requests.limit, "rejected", s.requests.reset_at, ""};
      s.windows.push_back(w);
    }
    return true;
  }
  // OpenAI-shaped error.
  if (!message.empty() || !code.empty()) {
    if (code == "rate_limit_exceeded" || type == "requests" || type == "tokens" || code == "insufficient_quota" ||
        ifind(message, "rate limit") != std::string::npos || ifind(message, "request too large") != std::string::npos)
      s.add_dialect("openai");
    s.error_type = !code.empty() ? code : type;
    if (ifind(message, "request too large") != std::string::npos) s.request_too_large = true;
    // "temporarily rate-limited upstream", "overloaded": the provider's trouble, not our quota.
    if (capacity_words(message) || capacity_words(type) || ifind(message, "upstream") != std::string::npos) s.error_type = "upstream_rate_limited";
    if (!s.retry_after_s)
      if (auto d = delay_in_message(message)) s.retry_after_s = d;
    return true;
  }
  return false;
}

}  // namespace qg::dialects
