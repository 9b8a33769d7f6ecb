// IETF draft-ietf-httpapi-ratelimit-headers:
//   current drafts: RateLimit-Policy: "burst";q=100;w=60  and  RateLimit: "burst";r=50;t=30
//   draft <= 07:    RateLimit: limit=100, remaining=50, reset=30  and  RateLimit-Policy: 100;w=60
//   legacy:         RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset (delta seconds)
// Quota units ("qu") other than requests map to tokens; windows come from the policies' w.
#include <cmath>

#include "dialects.hpp"
#include "quotagate/structured_fields.hpp"
#include "quotagate/text.hpp"

namespace qg::dialects {

namespace {

std::optional<double> num_param(const sf::Member& m, const char* key) {
  const sf::BareItem* p = m.param(key);
  if (p && p->is_number()) return p->number;
  return std::nullopt;
}

std::string policy_name(const sf::Member& m, size_t index) {
  if (!m.is_inner_list && (m.item.kind == sf::BareItem::Kind::kString || m.item.kind == sf::BareItem::Kind::kToken))
    return m.item.text;
  return "policy" + std::to_string(index);
}

struct Policy {
  std::string name;
  std::optional<double> quota, window_s;
  std::string unit = "requests";
};

}  // namespace

void ietf_headers(const HeaderMap& h, HeaderSnapshot& s, int64_t now) {
  const auto policy_text = h.get("ratelimit-policy");
  const auto state_text = h.get("ratelimit");
  const auto legacy_limit = h.get("ratelimit-limit");
  const auto legacy_remaining = h.get("ratelimit-remaining");
  const auto legacy_reset = h.get("ratelimit-reset");
  if (!policy_text && !state_text && !legacy_limit && !legacy_remaining && !legacy_reset) return;
  s.add_dialect("ietf");

  std::vector<Policy> policies;
  if (policy_text) {
    if (auto list = sf::parse_list(*policy_text)) {
      for (size_t i = 0; i < list->size(); ++i) {
        const sf::Member& m = (*list)[i];
        Policy p;
        p.name = policy_name(m, i);
        p.quota = num_param(m, "q");
        if (!p.quota && !m.is_inner_list && m.item.is_number()) p.quota = m.item.number;  // draft <= 07
        p.window_s = num_param(m, "w");
        if (const sf::BareItem* qu = m.param("qu"); qu && !qu->text.empty()) p.unit = qu->text;
        policies.push_back(p);
      }
    } else {
      diagnose(s, "ratelimit-policy", *policy_text, "an RFC 8941 list such as \"default\";q=100;w=60");
    }
  }

  auto apply = [&](const std::string& unit, std::optional<double> limit, std::optional<double> remaining,
                   std::optional<double> reset_s) {
    LimitState& l = (unit == "requests") ? s.requests : s.tokens;
    if (limit) l.limit = limit;
    if (remaining) l.remaining = remaining;
    if (reset_s) l.reset_at = after_seconds(now, *reset_s);
  };

  if (state_text) {
    const auto list = sf::parse_list(*state_text);
    const bool current_form = list && !list->empty() && !(*list)[0].is_inner_list &&
                              ((*list)[0].item.kind == sf::BareItem::Kind::kString ||
                               ((*list)[0].item.kind == sf::BareItem::Kind::kToken && (*list)[0].param("r")));
    if (current_form) {
      for (size_t i = 0; i < list->size(); ++i) {
        const sf::Member& m = (*list)[i];
        const std::string name = policy_name(m, i);
        const auto r = num_param(m, "r");
        const auto t = num_param(m, "t");
        const Policy* p = nullptr;
        for (const auto& cand : policies)
          if (cand.name == name) p = &cand;
        const std::string unit = p ? p->unit : "requests";
        apply(unit, p ? p->quota : std::nullopt, r, t);
        WindowState w;
        w.name = name;
        if (p && p->window_s) w.window_minutes = *p->window_s / 60.0;
        if (p && p->quota && *p->quota > 0 && r) w.utilization = std::max(0.0, 1.0 - *r / *p->quota), w.limit = p->quota;
        if (t) w.reset_at = after_seconds(now, *t);
        if (r && *r <= 0) w.status = "rejected";
        s.windows.push_back(w);
      }
    } else if (auto dict = sf::parse_dictionary(*state_text)) {
      std::optional<double> limit, remaining, reset;
      for (const auto& [k, m] : *dict) {
        if (m.is_inner_list || !m.item.is_number()) continue;
        if (k == "limit") limit = m.item.number;
        else if (k == "remaining") remaining = m.item.number;
        else if (k == "reset") reset = m.item.number;
      }
      apply("requests", limit, remaining, reset);
      for (const auto& p : policies)
        if (p.window_s) {
          WindowState w;
          w.name = p.name;
          w.window_minutes = *p.window_s / 60.0;
          w.limit = p.quota;
          if (p.quota && limit && *p.quota == *limit && remaining && *limit > 0)
            w.utilization = std::max(0.0, 1.0 - *remaining / *limit);
          if (reset) w.reset_at = after_seconds(now, *reset);
          s.windows.push_back(w);
        }
    } else {
      diagnose(s, "ratelimit", *state_text, "an RFC 8941 list or dictionary");
    }
  }

  if (legacy_limit || legacy_remaining || legacy_reset) {
    const auto limit = read_number(h, "ratelimit-limit", s);
    const auto remaining = read_number(h, "ratelimit-remaining", s);
    std::optional<double> reset = read_number(h, "ratelimit-reset", s);
    if (reset && *reset > 1e9) {
      const auto at = epoch_to_ms(*reset);
      reset = at ? std::optional<double>((static_cast<double>(*at) - static_cast<double>(now)) / 1000.0) : std::nullopt;
    }
    if (reset && *reset < 0) reset = 0.0;
    apply("requests", limit, remaining, reset);
  }
}

}  // namespace qg::dialects
