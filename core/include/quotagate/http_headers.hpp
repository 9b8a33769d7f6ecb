// Response headers as the parser sees them: case-insensitive names, repeated fields joined
// with ", " (RFC 9110 5.3), and a reader for a raw "HTTP/1.1 429 ..." response text.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qg {

class HeaderMap {
 public:
  void add(std::string_view name, std::string_view value);
  // Value of the named field (case-insensitive), joined if repeated; nullopt when absent. The view
  // stays valid until the map is modified.
  std::optional<std::string_view> get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }  // lower-case names

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// "Name: value" lines separated by \n or \r\n. Lines without a colon are ignored.
HeaderMap parse_header_lines(std::string_view text);

struct RawResponse {
  int status = 200;  // 200 when the text has no status line
  HeaderMap headers;
  std::string body;
};

// An optional status line, header lines, then an optional blank line and the body.
RawResponse parse_raw_response(std::string_view text);

}  // namespace qg
