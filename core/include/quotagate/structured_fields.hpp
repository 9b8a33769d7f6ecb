// RFC 8941 Structured Field Values, the subset rate-limit headers use: Lists and Dictionaries of
// Items (Integer, Decimal, String, Token, Boolean, Byte Sequence) with Parameters. Inner lists
// are parsed and kept. Parsing never throws; malformed input yields nullopt (RFC: fail the field).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qg::sf {

struct BareItem {
  enum class Kind { kInteger, kDecimal, kString, kToken, kBoolean, kBytes } kind = Kind::kInteger;
  double number = 0;   // Integer and Decimal
  std::string text;    // String, Token, Bytes (base64 text as written)
  bool boolean = false;
  bool is_number() const { return kind == Kind::kInteger || kind == Kind::kDecimal; }
};

using Parameters = std::vector<std::pair<std::string, BareItem>>;

struct Member {
  BareItem item;                     // unused when is_inner_list
  bool is_inner_list = false;
  std::vector<BareItem> inner;
  Parameters params;
  const BareItem* param(std::string_view key) const;
};

using List = std::vector<Member>;
using Dictionary = std::vector<std::pair<std::string, Member>>;

std::optional<List> parse_list(std::string_view text);
std::optional<Dictionary> parse_dictionary(std::string_view text);

}  // namespace qg::sf
