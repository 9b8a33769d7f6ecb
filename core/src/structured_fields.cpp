// RFC 8941 parser (sections 4.2.1 - 4.2.7), written as a small recursive-descent reader.
#include "quotagate/structured_fields.hpp"

namespace qg::sf {

const BareItem* Member::param(std::string_view key) const {
  for (const auto& [k, v] : params)
    if (k == key) return &v;
  return nullptr;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lcalpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_tchar(char c) {
  return is_alpha(c) || is_digit(c) || c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' ||
         c == '*' || c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~';
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  void skip_sp() {
    while (peek() == ' ') ++i_;
  }
  void skip_ows() {
    while (peek() == ' ' || peek() == '\t') ++i_;
  }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }

  bool key(std::string& out) {
    if (!(is_lcalpha(peek()) || peek() == '*')) return false;
    out.clear();
    while (!done() && (is_lcalpha(peek()) || is_digit(peek()) || peek() == '_' || peek() == '-' || peek() == '.' ||
                       peek() == '*'))
      out += s_[i_++];
    return true;
  }

  bool bare_item(BareItem& out) {
    const char c = peek();
    if (c == '-' || is_digit(c)) return number(out);
    if (c == '"') return string(out);
    if (c == '*' || is_alpha(c)) return token(out);
    if (c == ':') return bytes(out);
    if (c == '?') return boolean(out);
    return false;
  }

  bool parameters(Parameters& out) {
    while (eat(';')) {
      skip_sp();
      std::string k;
      if (!key(k)) return false;
      BareItem v;
      v.kind = BareItem::Kind::kBoolean;
      v.boolean = true;
      if (eat('=') && !bare_item(v)) return false;
      bool replaced = false;
      for (auto& p : out)
        if (p.first == k) p.second = v, replaced = true;
      if (!replaced) out.emplace_back(k, v);
    }
    return true;
  }

  bool item_or_inner_list(Member& m) {
    if (eat('(')) {
      m.is_inner_list = true;
      while (true) {
        skip_sp();
        if (eat(')')) break;
        BareItem it;
        Parameters ignored;
        if (!bare_item(it) || !parameters(ignored)) return false;
        m.inner.push_back(it);
        if (peek() != ' ' && peek() != ')') return false;
      }
    } else if (!bare_item(m.item)) {
      return false;
    }
    return parameters(m.params);
  }

 private:
  bool number(BareItem& out) {
    const size_t start = i_;
    bool neg = eat('-');
    size_t int_digits = 0, frac_digits = 0;
    bool decimal = false;
    std::string digits;
    while (is_digit(peek())) digits += s_[i_++], ++int_digits;
    if (int_digits == 0) return false;
    if (eat('.')) {
      decimal = true;
      if (int_digits > 12) return false;
      while (is_digit(peek())) digits += s_[i_++], ++frac_digits;
      if (frac_digits == 0 || frac_digits > 3) return false;
    } else if (int_digits > 15) {
      return false;
    }
    double v = 0;
    for (size_t k = 0; k < int_digits; ++k) v = v * 10 + (digits[k] - '0');
    double scale = 1;
    for (size_t k = 0; k < frac_digits; ++k) scale *= 10, v = v * 10 + (digits[int_digits + k] - '0');
    v /= scale;
    out.kind = decimal ? BareItem::Kind::kDecimal : BareItem::Kind::kInteger;
    out.number = neg ? -v : v;
    (void)start;
    return true;
  }
  bool string(BareItem& out) {
    if (!eat('"')) return false;
    out.kind = BareItem::Kind::kString;
    out.text.clear();
    while (!done()) {
      const char c = s_[i_++];
      if (c == '\\') {
        if (done()) return false;
        const char n = s_[i_++];
        if (n != '"' && n != '\\') return false;
        out.text += n;
      } else if (c == '"') {
        return true;
      } else if (c < 0x20 || c == 0x7f) {
        return false;
      } else {
        out.text += c;
      }
    }
    return false;
  }
  bool token(BareItem& out) {
    out.kind = BareItem::Kind::kToken;
    out.text.clear();
    out.text += s_[i_++];
    while (!done() && (is_tchar(peek()) || peek() == ':' || peek() == '/')) out.text += s_[i_++];
    return true;
  }
  bool bytes(BareItem& out) {
    eat(':');
    out.kind = BareItem::Kind::kBytes;
    out.text.clear();
    while (!done() && peek() != ':') {
      const char c = s_[i_++];
      if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '/' || c == '=')) return false;
      out.text += c;
    }
    return eat(':');
  }
  bool boolean(BareItem& out) {
    eat('?');
    out.kind = BareItem::Kind::kBoolean;
    if (eat('1')) out.boolean = true;
    else if (eat('0')) out.boolean = false;
    else return false;
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

template <typename F>
bool members(Reader& r, F&& each) {
  r.skip_sp();
  if (r.done()) return true;
  while (true) {
    if (!each()) return false;
    r.skip_ows();
    if (r.done()) return true;
    if (!r.eat(',')) return false;
    r.skip_ows();
    if (r.done()) return false;  // trailing comma
  }
}

std::string_view strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<List> parse_list(std::string_view text) {
  Reader r(strip(text));
  List out;
  const bool ok = members(r, [&] {
    Member m;
    if (!r.item_or_inner_list(m)) return false;
    out.push_back(std::move(m));
    return true;
  });
  if (!ok) return std::nullopt;
  return out;
}

std::optional<Dictionary> parse_dictionary(std::string_view text) {
  Reader r(strip(text));
  Dictionary out;
  const bool ok = members(r, [&] {
    std::string k;
    if (!r.key(k)) return false;
    Member m;
    if (r.eat('=')) {
      if (!r.item_or_inner_list(m)) return false;
    } else {
      m.item.kind = BareItem::Kind::kBoolean;
      m.item.boolean = true;
      if (!r.parameters(m.params)) return false;
    }
    for (auto& e : out)
      if (e.first == k) {
        e.second = m;
        return true;
      }
    out.emplace_back(k, std::move(m));
    return true;
  });
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace qg::sf
