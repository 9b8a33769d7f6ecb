// Catalog parsing and validation. Errors name the file, the JSON path and what was expected.
#include "quotagate/catalog.hpp"

#include <cmath>

#include "quotagate/civil_time.hpp"
#include "quotagate/text.hpp"

namespace qg {

const char* to_string(PackageType t) {
  switch (t) {
    case PackageType::kCredits: return "credits";
    case PackageType::kRollingWindow: return "rolling_window";
    case PackageType::kDaily: return "daily";
  }
  return "credits";
}

const char* to_string(WindowMode m) { return m == WindowMode::kFixed ? "fixed" : "sliding"; }

std::string model_family(std::string_view model) {
  std::string out;
  size_t start = 0;
  while (start <= model.size()) {
    size_t end = model.find('-', start);
    if (end == std::string_view::npos) end = model.size();
    const std::string_view tok = model.substr(start, end - start);
    bool version = !tok.empty();
    for (char c : tok) version = version && ((c >= '0' && c <= '9') || c == '.');
    if (!version) {
      if (!out.empty()) out += '-';
      out.append(tok.data(), tok.size());
    }
    start = end + 1;
  }
  return out;
}

int weight_key_match(std::string_view key, std::string_view model) {
  if (key == model) return 3;
  if (key.empty()) return 0;
  if (model.size() > key.size() && model.substr(0, key.size()) == key) {
    const char next = model[key.size()];
    const char last = key.back();
    const bool boundary = next == '-' || next == '_' || next == ':' || next == '@' || next == '/';
    // A digit followed by "." or another digit continues a version number ("gpt-4" / "gpt-4.1").
    const bool continues = (last >= '0' && last <= '9') && (next == '.' || (next >= '0' && next <= '9'));
    if (boundary && !continues) return 2;
  }
  const std::string kf = model_family(key);
  return !kf.empty() && kf != key && kf == model_family(model) ? 1 : 0;
}

double Package::weight_for(std::string_view model) const {
  int best_kind = 0;
  size_t best_len = 0;
  double best = 1.0;
  for (const auto& [key, w] : model_weights) {
    const int kind = weight_key_match(key, model);
    if (kind == 3) return w;
    // Prefixes beat families; the longest prefix wins; among families the first key in the file.
    if (kind > best_kind || (kind == 2 && kind == best_kind && key.size() > best_len)) {
      best_kind = kind;
      best_len = key.size();
      best = w;
    }
  }
  return best_kind ? best : 1.0;
}

double Package::units_per_month() const {
  constexpr double kMonthHours = 30 * 24;
  double out = 0;
  auto tighter = [&](double limit, double hours) {
    const double v = limit * kMonthHours / hours;
    if (out == 0 || v < out) out = v;
  };
  if (type == PackageType::kDaily) tighter(limit_per_day, 24);
  if (type == PackageType::kRollingWindow) tighter(limit_per_window, window_hours);
  for (const auto& s : secondary_windows) tighter(s.limit, s.window_hours);
  return out;
}

double Package::unit_value_usd() const {
  if (unit_value) return *unit_value;
  if (type == PackageType::kCredits) return 1;
  const double units = units_per_month();
  return monthly_price && units > 0 ? *monthly_price / units : 0;
}

bool model_pattern_matches(std::string_view pattern, std::string_view model) {
  if (pattern == "*") return true;
  if (!pattern.empty() && pattern.back() == '*') {
    const std::string_view prefix = pattern.substr(0, pattern.size() - 1);
    return model.size() >= prefix.size() && model.substr(0, prefix.size()) == prefix;
  }
  return pattern == model;
}

bool Package::serves(std::string_view model) const {
  if (!models.empty()) {
    for (const auto& m : models)
      if (model_pattern_matches(m, model)) return true;
    return false;
  }
  // Without a models list, the weight keys name the served models (weight_key_match).
  for (const auto& kv : model_weights)
    if (weight_key_match(kv.first, model)) return true;
  return false;
}

double Package::capacity() const {
  switch (type) {
    case PackageType::kCredits: return total_credits;
    case PackageType::kRollingWindow: return limit_per_window;
    case PackageType::kDaily: return limit_per_day;
  }
  return 0;
}

int64_t Package::window_ms() const {
  switch (type) {
    case PackageType::kCredits: return 0;
    case PackageType::kRollingWindow: return static_cast<int64_t>(std::llround(window_hours * kMsPerHour));
    case PackageType::kDaily: return kMsPerDay;
  }
  return 0;
}

namespace {

std::string describe(const Json& v) {
  std::string s = dump_json(v);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string path_of(const std::string& id, std::string_view field) {
  std::string out = "$.packages.";
  out += id;
  if (!field.empty()) {
    out += '.';
    out += field;
  }
  return out;
}

// Reads an optional number field; returns an error message on a wrong type or range.
std::optional<std::string> read_number(const Json& e, const std::string& id, const char* field, double& out,
                                       bool required, bool positive) {
  if (!e.contains(field) || e[field].is_null()) {
    if (required) return path_of(id, field) + ": expected a number, but the field is missing";
    return std::nullopt;
  }
  const Json& v = e[field];
  if (!v.is_number()) return path_of(id, field) + ": expected a number, got " + describe(v);
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0 || (positive && d == 0))
    return path_of(id, field) + ": expected a " + (positive ? "positive" : "non-negative") + " number, got " + describe(v);
  out = d;
  return std::nullopt;
}

std::optional<std::string> read_string(const Json& e, const std::string& id, const char* field, std::string& out) {
  if (!e.contains(field) || e[field].is_null()) return std::nullopt;
  if (!e[field].is_string()) return path_of(id, field) + ": expected a string, got " + describe(e[field]);
  out = e[field].get<std::string>();
  return std::nullopt;
}

std::optional<std::string> read_enum(const Json& e, const std::string& id, const char* field, std::string& out,
                                     std::initializer_list<const char*> allowed) {
  if (auto err = read_string(e, id, field, out)) return err;
  if (!e.contains(field) || e[field].is_null()) return std::nullopt;
  std::string list;
  for (const char* a : allowed) {
    if (out == a) return std::nullopt;
    list += list.empty() ? a : std::string(" | ") + a;
  }
  return path_of(id, field) + ": expected one of " + list + ", got " + describe(e[field]);
}

WindowMode parse_mode(const std::string& s) { return s == "fixed" ? WindowMode::kFixed : WindowMode::kSliding; }

// Window lengths in hours: at least one second, at most one leap year. Outside that range the
// millisecond arithmetic (now - window) would overflow int64 and no real subscription looks so.
constexpr double kMinWindowHours = 1.0 / 3600.0;
constexpr double kMaxWindowHours = 366.0 * 24.0;

std::optional<std::string> check_window_hours(const std::string& where, double hours) {
  if (hours >= kMinWindowHours && hours <= kMaxWindowHours) return std::nullopt;
  return where + ": expected between 1 second (0.000278) and 8784 hours (366 days), got " + dump_json(Json(hours));
}

}  // namespace

std::optional<std::string> parse_package(const std::string& id, const Json& e, Package& p) {
  if (!e.is_object()) return path_of(id, "") + ": expected an object, got " + describe(e);
  p = Package{};
  p.id = id;
  if (auto err = read_string(e, id, "provider_id", p.provider_id)) return err;
  if (p.provider_id.empty()) return path_of(id, "provider_id") + ": expected a non-empty string naming the provider";

  std::string type = "credits";
  if (auto err = read_enum(e, id, "package_type", type, {"credits", "rolling_window", "daily"})) return err;
  p.type = type == "rolling_window" ? PackageType::kRollingWindow
           : type == "daily"        ? PackageType::kDaily
                                    : PackageType::kCredits;

  if (auto err = read_enum(e, id, "source", p.source, {"api_poll", "header_capture", "local_count", "manual"})) return err;
  if (auto err = read_enum(e, id, "confidence", p.confidence, {"high", "medium", "low", "estimated"})) return err;
  if (auto err = read_string(e, id, "notes", p.notes)) return err;
  if (auto err = read_string(e, id, "currency", p.currency)) return err;
  if (p.currency.empty()) return path_of(id, "currency") + ": expected a currency code such as \"USD\" or \"CNY\"";

  if (auto err = read_string(e, id, "reset_timezone", p.reset_timezone)) return err;
  auto zone = find_time_zone(p.reset_timezone);
  if (!zone) return path_of(id, "reset_timezone") + ": expected an IANA time zone name such as \"America/Los_Angeles\", got \"" + p.reset_timezone + "\"";
  p.zone = *zone;

  if (auto err = read_string(e, id, "last_updated", p.last_updated)) return err;
  if (!p.last_updated.empty()) {
    p.last_updated_ms = parse_iso8601(p.last_updated);
    if (!p.last_updated_ms) return path_of(id, "last_updated") + ": expected an ISO-8601 timestamp, got \"" + p.last_updated + "\"";
  }

  if (auto err = read_string(e, id, "expiry_date", p.expiry_date)) return err;
  if (!p.expiry_date.empty()) {
    // A date means "usable through that whole day" in the package's zone; a timestamp is exact.
    if (auto day = parse_date_only(p.expiry_date)) {
      p.expires_at = local_midnight_utc(p.zone, *day + 1);
    } else if (auto ts = parse_iso8601(p.expiry_date)) {
      p.expires_at = *ts;
    } else {
      return path_of(id, "expiry_date") + ": expected a date YYYY-MM-DD, got \"" + p.expiry_date + "\"";
    }
  }

  if (e.contains("count_failed") && !e["count_failed"].is_null()) {
    if (!e["count_failed"].is_boolean()) return path_of(id, "count_failed") + ": expected true or false, got " + describe(e["count_failed"]);
    p.count_failed = e["count_failed"].get<bool>();
  }

  for (const char* field : {"unit_value", "monthly_price"}) {
    double v = 0;
    if (auto err = read_number(e, id, field, v, false, false)) return err;
    if (!(v <= 1e9)) return path_of(id, field) + ": expected a number of USD up to 1e9";
    if (e.contains(field) && !e[field].is_null()) (std::string(field) == "unit_value" ? p.unit_value : p.monthly_price) = v;
  }

  if (e.contains("model_weights") && !e["model_weights"].is_null()) {
    const Json& mw = e["model_weights"];
    if (!mw.is_object()) return path_of(id, "model_weights") + ": expected an object of model name -> weight, got " + describe(mw);
    for (auto it = mw.begin(); it != mw.end(); ++it) {
      if (!it.value().is_number() || !(it.value().get<double>() > 0))
        return path_of(id, "model_weights") + "[\"" + it.key() + "\"]: expected a positive number, got " + describe(it.value());
      p.model_weights.emplace_back(it.key(), it.value().get<double>());
    }
  }
  if (e.contains("models") && !e["models"].is_null()) {
    const Json& ms = e["models"];
    if (!ms.is_array()) return path_of(id, "models") + ": expected an array of model names, got " + describe(ms);
    for (const auto& m : ms) {
      if (!m.is_string() || m.get<std::string>().empty()) return path_of(id, "models") + ": expected non-empty strings, got " + describe(m);
      p.models.push_back(m.get<std::string>());
    }
  }

  std::string mode = "sliding";
  if (auto err = read_enum(e, id, "window_mode", mode, {"sliding", "fixed"})) return err;
  p.window_mode = parse_mode(mode);

  switch (p.type) {
    case PackageType::kCredits:
      if (auto err = read_number(e, id, "total_credits", p.total_credits, true, false)) return err;
      if (auto err = read_number(e, id, "used_credits", p.used_credits, false, false)) return err;
      break;
    case PackageType::kRollingWindow:
      if (auto err = read_number(e, id, "window_hours", p.window_hours, true, true)) return err;
      if (auto err = check_window_hours(path_of(id, "window_hours"), p.window_hours)) return err;
      if (auto err = read_number(e, id, "limit_per_window", p.limit_per_window, true, true)) return err;
      break;
    case PackageType::kDaily:
      if (auto err = read_number(e, id, "limit_per_day", p.limit_per_day, true, true)) return err;
      break;
  }

  if (e.contains("secondary_windows") && !e["secondary_windows"].is_null()) {
    const Json& sw = e["secondary_windows"];
    if (!sw.is_array()) return path_of(id, "secondary_windows") + ": expected an array of {name, window_hours, limit}, got " + describe(sw);
    for (size_t i = 0; i < sw.size(); ++i) {
      const std::string where = path_of(id, "secondary_windows") + "[" + std::to_string(i) + "]";
      const Json& w = sw[i];
      if (!w.is_object()) return where + ": expected an object {name, window_hours, limit}, got " + describe(w);
      SecondaryWindow s;
      if (!w.contains("window_hours") || !w["window_hours"].is_number() || !(w["window_hours"].get<double>() > 0))
        return where + ".window_hours: expected a positive number of hours";
      if (!w.contains("limit") || !w["limit"].is_number() || !(w["limit"].get<double>() > 0))
        return where + ".limit: expected a positive number";
      s.window_hours = w["window_hours"].get<double>();
      if (auto err = check_window_hours(where + ".window_hours", s.window_hours)) return err;
      s.limit = w["limit"].get<double>();
      s.name = w.contains("name") && w["name"].is_string() ? w["name"].get<std::string>() : std::to_string(static_cast<long long>(s.window_hours)) + "h";
      if (w.contains("window_mode")) {
        if (!w["window_mode"].is_string() || (w["window_mode"] != "sliding" && w["window_mode"] != "fixed"))
          return where + ".window_mode: expected one of sliding | fixed";
        s.mode = parse_mode(w["window_mode"].get<std::string>());
      }
      p.secondary_windows.push_back(s);
    }
  }
  if (e.contains("model_windows") && !e["model_windows"].is_null()) {
    const Json& mw = e["model_windows"];
    if (!mw.is_array()) return path_of(id, "model_windows") + ": expected an array of {family, window_hours, limit?, models?}, got " + describe(mw);
    for (size_t i = 0; i < mw.size(); ++i) {
      const std::string where = path_of(id, "model_windows") + "[" + std::to_string(i) + "]";
      const Json& w = mw[i];
      if (!w.is_object()) return where + ": expected an object {family, window_hours, limit?, models?}, got " + describe(w);
      ModelWindow m;
      if (!w.contains("family") || !w["family"].is_string() || w["family"].get<std::string>().empty() ||
          w["family"].get<std::string>().size() > 64)
        return where + ".family: expected a model family name such as \"opus\" (1..64 characters)";
      m.family = to_lower(w["family"].get<std::string>());
      if (!w.contains("window_hours") || !w["window_hours"].is_number() || !(w["window_hours"].get<double>() > 0))
        return where + ".window_hours: expected a positive number of hours";
      m.window_hours = w["window_hours"].get<double>();
      if (auto err = check_window_hours(where + ".window_hours", m.window_hours)) return err;
      if (w.contains("limit") && !w["limit"].is_null()) {
        if (!w["limit"].is_number() || !(w["limit"].get<double>() > 0) || !(w["limit"].get<double>() <= 1e12))
          return where + ".limit: expected a positive number (weighted requests per window)";
        m.limit = w["limit"].get<double>();
      }
      if (w.contains("models") && !w["models"].is_null()) {
        if (!w["models"].is_array()) return where + ".models: expected an array of model names or patterns";
        for (const auto& x : w["models"]) {
          if (!x.is_string() || x.get<std::string>().empty()) return where + ".models: expected non-empty strings";
          m.models.push_back(x.get<std::string>());
        }
      }
      for (const auto& other : p.model_windows)
        if (other.family == m.family) return where + ".family: \"" + m.family + "\" is declared twice";
      p.model_windows.push_back(m);
    }
  }
  return std::nullopt;
}

bool model_in_family(std::string_view family, std::string_view model, const std::vector<std::string>& patterns) {
  for (const auto& pat : patterns)
    if (model_pattern_matches(pat, model)) return true;
  if (family.empty()) return false;
  size_t start = 0;
  for (size_t i = 0; i <= model.size(); ++i) {
    const bool sep = i == model.size() || model[i] == '-' || model[i] == '_' || model[i] == '.' || model[i] == '/' || model[i] == ':';
    if (!sep) continue;
    if (i - start == family.size()) {
      bool eq = true;
      for (size_t k = 0; k < family.size() && eq; ++k) {
        char c = model[start + k];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        eq = c == family[k];
      }
      if (eq) return true;
    }
    start = i + 1;
  }
  return false;
}

namespace {

// Turns nlohmann's byte offset into "LINE:COL" (1-based).
std::string line_col(std::string_view text, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < text.size() && i + 1 < byte; ++i) {
    if (text[i] == '\n') ++line, col = 1;
    else ++col;
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

}  // namespace

CatalogParseResult parse_catalog(std::string_view text, std::string_view source_name) {
  CatalogParseResult r;
  const std::string src(source_name.empty() ? "catalog" : source_name);
  if (json_too_deep(text)) {
    r.error = src + ": invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return r;
  }
  try {
    r.catalog.document = Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann: "[json.exception.parse_error.101] parse error at line 4, column 50: syntax error
    // while parsing object key - unexpected '}'; expected string literal" -> the last part.
    std::string what = e.what();
    const size_t dash = what.rfind(" - ");
    const size_t ctx = what.find("while parsing ");
    std::string context;
    if (ctx != std::string::npos && dash != std::string::npos && dash > ctx) context = what.substr(ctx + 14, dash - ctx - 14);
    if (dash != std::string::npos) what = what.substr(dash + 3);
    if (!context.empty()) what += " (in " + context + ")";
    r.error = src + ":" + line_col(text, e.byte) + ": invalid JSON: " + what;
    return r;
  } catch (const std::exception& e) {
    r.error = src + ": invalid JSON: " + e.what();
    return r;
  }
  const Json& doc = r.catalog.document;
  if (!doc.is_object()) {
    r.error = src + ": $: expected a JSON object with \"schema_version\" and \"packages\", got " + describe(doc);
    return r;
  }
  // Every envelope the faigate format has produced is a 1.x version: 1, "1", "v1", "1.1", 1.1 ...
  // Only another major version is refused, named (the file is written back with the version read).
  if (doc.contains("schema_version") && !doc["schema_version"].is_null()) {
    const Json& v = doc["schema_version"];
    std::string text = v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
    if (!text.empty() && (text[0] == 'v' || text[0] == 'V')) text = text.substr(1);
    const size_t dot = text.find('.');
    std::string major = text.substr(0, dot);
    const std::string minor = dot == std::string::npos ? "" : text.substr(dot + 1);  // "1", "12", "1.0"
    const bool digits = !major.empty() && major.size() <= 9 && major.find_first_not_of("0123456789") == std::string::npos &&
                        minor.find_first_not_of("0123456789.") == std::string::npos && (dot == std::string::npos || !minor.empty());
    while (major.size() > 1 && major[0] == '0') major.erase(0, 1);  // "01" is 1
    if (!digits) {
      r.error = src + ": $.schema_version: expected a version such as 1 or \"1.1\", got " + describe(v);
      return r;
    }
    if (major != "1") {
      r.error = src + ": $.schema_version: major version " + major + " is not one this quotagate reads (it reads 1.x), got " + describe(v);
      return r;
    }
  }
  if (!doc.contains("packages") || !doc["packages"].is_object()) {
    r.error = src + ": $.packages: expected an object mapping package id to entry" +
              (doc.contains("packages") ? ", got " + describe(doc["packages"]) : ", but the field is missing");
    return r;
  }
  for (auto it = doc["packages"].begin(); it != doc["packages"].end(); ++it) {
    Package p;
    if (auto err = parse_package(it.key(), it.value(), p)) {
      r.catalog.skipped.push_back({it.key(), *err});
      continue;
    }
    r.catalog.packages.push_back(std::move(p));
  }
  r.ok = true;
  return r;
}

}  // namespace qg
