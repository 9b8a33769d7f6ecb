// libFuzzer target: catalog text into the engine, then statuses and a route on whatever loaded.
#include <cstdint>
#include <string>

#include "quotagate/engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  qg::Engine e;
  const qg::CatalogLoadResult r = e.load_catalog(text, "fuzz.json");
  if (r.ok) {
    qg::UsageEvent ev;
    ev.ts_ms = 1795867200000;
    for (const auto& p : e.catalog().packages) {
      ev.provider_id = p.provider_id;
      ev.model = p.models.empty() ? "m" : p.models[0];
      e.record_usage(ev);
    }
    (void)qg::dump_json(e.quotas_document(1795867200000));
    (void)e.route("auto", 1795867200000);
  }
  return 0;
}
