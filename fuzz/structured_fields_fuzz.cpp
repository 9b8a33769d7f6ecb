// libFuzzer target: RFC 8941 lists and dictionaries (IETF RateLimit headers).
#include <cstdint>
#include <string_view>

#include "quotagate/structured_fields.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)qg::sf::parse_list(text);
  (void)qg::sf::parse_dictionary(text);
  return 0;
}
