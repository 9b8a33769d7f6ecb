// HeaderMap and raw response text reading.
#include "quotagate/http_headers.hpp"

#include "quotagate/text.hpp"

namespace qg {

void HeaderMap::add(std::string_view name, std::string_view value) {
  const std::string key = to_lower(trim(name));
  if (key.empty()) return;
  const std::string_view v = trim(value);
  for (auto& [k, existing] : entries_) {
    if (k == key) {
      existing += ", ";
      existing += v;
      return;
    }
  }
  entries_.emplace_back(key, std::string(v));
}

std::optional<std::string_view> HeaderMap::get(std::string_view name) const {
  // Stored names are lower-case and the parsers ask in lower case: an exact match is the fast path.
  for (const auto& [k, v] : entries_)
    if (k == name) return std::string_view(v);
  bool has_upper = false;
  for (char c : name) has_upper = has_upper || (c >= 'A' && c <= 'Z');
  if (has_upper)
    for (const auto& [k, v] : entries_)
      if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

HeaderMap parse_header_lines(std::string_view text) {
  HeaderMap map;
  for (std::string_view line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    map.add(line.substr(0, colon), line.substr(colon + 1));
  }
  return map;
}

RawResponse parse_raw_response(std::string_view text) {
  RawResponse r;
  size_t pos = 0;
  auto next_line = [&](std::string_view& line) {
    if (pos >= text.size()) return false;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    return true;
  };
  std::string_view line;
  // Skip leading blank lines.
  while (next_line(line)) {
    if (!trim(line).empty()) break;
  }
  if (trim(line).empty()) return r;
  if (istarts_with(line, "HTTP/")) {
    const auto parts = split_ws(line);
    if (parts.size() >= 2)
      if (auto code = parse_integer(parts[1]); code && *code >= 100 && *code <= 999) r.status = static_cast<int>(*code);
    if (!next_line(line)) return r;
  }
  while (true) {
    if (line.empty()) break;  // blank line: the body follows
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && colon > 0) r.headers.add(line.substr(0, colon), line.substr(colon + 1));
    if (!next_line(line)) return r;
  }
  if (pos < text.size()) r.body = std::string(text.substr(pos));
  return r;
}

}  // namespace qg
