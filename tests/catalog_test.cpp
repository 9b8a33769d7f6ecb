// Catalog parsing: the faigate format as-is, our extensions, and clear errors for bad input.
#include "quotagate/catalog.hpp"

#include <fstream>
#include <sstream>

#include "test_util.hpp"

using namespace qg;

namespace {
std::string template_text() {
  std::ifstream in(std::string(QG_VECTORS_DIR) + "/../../docs/examples/metadata/packages/catalog.v1.json");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST(Catalog, LoadsTheShippedTemplateWithElevenPackages) {
  const auto r = parse_catalog(template_text(), "catalog.v1.json");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.catalog.packages.size(), 11u);
  EXPECT_TRUE(r.catalog.skipped.empty());
  const Package& claude = r.catalog.packages[3];
  EXPECT_EQ(claude.id, "claude-pro-5h");
  EXPECT_EQ(claude.type, PackageType::kRollingWindow);
  EXPECT_EQ(claude.window_mode, WindowMode::kFixed);
  ASSERT_EQ(claude.secondary_windows.size(), 1u);
  EXPECT_EQ(claude.secondary_windows[0].window_hours, 168);
  const Package& flash = r.catalog.packages[7];
  EXPECT_EQ(flash.reset_timezone, "America/Los_Angeles");
}

TEST(Catalog, ReadsFaigateEntryWithDefaults) {
  const auto r = parse_catalog(R"({"schema_version":1,"generated_at":"2026-01-01T00:00:00Z","_notes":"x",
    "packages":{"k":{"provider_id":"kilo","total_credits":25,"used_credits":12.4,"expiry_date":"2026-12-08"}}})", "c.json");
  ASSERT_TRUE(r.ok) << r.error;
  const Package& p = r.catalog.packages[0];
  EXPECT_EQ(p.type, PackageType::kCredits);  // default package_type
  EXPECT_EQ(p.currency, "USD");
  EXPECT_DOUBLE_EQ(p.used_credits, 12.4);
  // Usable through the whole expiry date (UTC by default): expires at the next midnight.
  EXPECT_EQ(iso(*p.expires_at), "2026-12-09T00:00:00.000Z");
  EXPECT_FALSE(p.count_failed);
}

TEST(Catalog, ExpiryDateFollowsThePackageTimeZone) {
  const auto r = parse_catalog(R"({"packages":{"g":{"provider_id":"g","total_credits":5,"expiry_date":"2026-12-08",
    "reset_timezone":"America/Los_Angeles"}}})", "c.json");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(iso(*r.catalog.packages[0].expires_at), "2026-12-09T08:00:00.000Z");
}

TEST(Catalog, ModelWeightsUseExactThenLongestPrefix) {
  const auto r = parse_catalog(R"({"packages":{"c":{"provider_id":"claude","package_type":"rolling_window",
    "window_hours":5,"limit_per_window":45,"model_weights":{"claude-opus":3,"claude-opus-4-5":5,"claude-sonnet-4-5":1}}}})", "c.json");
  ASSERT_TRUE(r.ok) << r.error;
  const Package& p = r.catalog.packages[0];
  EXPECT_EQ(p.weight_for("claude-opus-4-5"), 5);
  EXPECT_EQ(p.weight_for("claude-opus-4-5-20251101"), 5);  // longest prefix, not "claude-opus"
  EXPECT_EQ(p.weight_for("claude-opus-4-1"), 3);
  EXPECT_EQ(p.weight_for("gpt-5"), 1);
}

TEST(Catalog, ModelPatternsAreExactUnlessStarred) {
  EXPECT_TRUE(model_pattern_matches("gemini-2.5-flash", "gemini-2.5-flash"));
  EXPECT_FALSE(model_pattern_matches("gemini-2.5-flash", "gemini-2.5-flash-lite"));
  EXPECT_TRUE(model_pattern_matches("claude-*", "claude-opus-4-5"));
  EXPECT_TRUE(model_pattern_matches("*", "anything"));
}

TEST(Catalog, MalformedJsonNamesFileLineAndColumn) {
  const auto r = parse_catalog("{\n  \"packages\": {\n    \"a\": {,}\n  }\n}", "/etc/qg/catalog.v1.json");
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.error.find("/etc/qg/catalog.v1.json:3:"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("invalid JSON"), std::string::npos);
}

TEST(Catalog, WrongShapesAreErrorsWithPaths) {
  EXPECT_NE(parse_catalog("[]", "c.json").error.find("c.json: $: expected a JSON object"), std::string::npos);
  EXPECT_NE(parse_catalog("{}", "c.json").error.find("$.packages: expected an object"), std::string::npos);
  EXPECT_NE(parse_catalog(R"({"schema_version":2,"packages":{}})", "c.json").error.find("$.schema_version: major version 2"),
            std::string::npos);
}

TEST(Catalog, OneBadEntrySkipsOnlyThatEntry) {
  const auto r = parse_catalog(R"({"packages":{
    "good":{"provider_id":"a","total_credits":1},
    "bad_type":{"provider_id":"b","package_type":"weekly"},
    "bad_number":{"provider_id":"c","total_credits":"ten"},
    "bad_zone":{"provider_id":"d","package_type":"daily","limit_per_day":5,"reset_timezone":"Pacific Time"},
    "bad_date":{"provider_id":"e","total_credits":1,"expiry_date":"next week"},
    "no_limit":{"provider_id":"f","package_type":"rolling_window","window_hours":5},
    "no_provider":{"total_credits":1},
    "bad_weight":{"provider_id":"g","total_credits":1,"model_weights":{"m":-1}},
    "also_good":{"provider_id":"h","package_type":"daily","limit_per_day":100}}})", "c.json");
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.catalog.packages.size(), 2u);
  EXPECT_EQ(r.catalog.packages[1].id, "also_good");
  ASSERT_EQ(r.catalog.skipped.size(), 7u);
  const auto reason = [&](const std::string& id) {
    for (const auto& s : r.catalog.skipped)
      if (s.package_id == id) return s.reason;
    return std::string();
  };
  EXPECT_NE(reason("bad_type").find("$.packages.bad_type.package_type: expected one of credits | rolling_window | daily"), std::string::npos);
  EXPECT_NE(reason("bad_number").find("$.packages.bad_number.total_credits: expected a number, got \"ten\""), std::string::npos);
  EXPECT_NE(reason("bad_zone").find("IANA time zone"), std::string::npos);
  EXPECT_NE(reason("bad_date").find("expected a date YYYY-MM-DD"), std::string::npos);
  EXPECT_NE(reason("no_limit").find("limit_per_window: expected a number, but the field is missing"), std::string::npos);
  EXPECT_NE(reason("no_provider").find("provider_id"), std::string::npos);
  EXPECT_NE(reason("bad_weight").find("model_weights[\"m\"]: expected a positive number"), std::string::npos);
}

TEST(Catalog, UnknownFieldsArePreservedInTheDocument) {
  const auto r = parse_catalog(R"({"schema_version":1,"x_custom":{"a":1},"packages":{"k":{"provider_id":"kilo",
    "total_credits":2,"faigate_route":"kilo-main"}}})", "c.json");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.catalog.document["x_custom"]["a"], 1);
  EXPECT_EQ(r.catalog.document["packages"]["k"]["faigate_route"], "kilo-main");
  // Key order is kept as written.
  EXPECT_EQ(r.catalog.document.begin().key(), "schema_version");
}

// Fuzz finding (CI, catalog target): window_hours of 1e300 rounded to INT64_MIN ms and the sliding
// window start (now - window) overflowed. Window lengths are bounded to [1 s, 366 days].
TEST(Catalog, WindowHoursOutsideOneSecondToOneYearAreRejected) {
  const auto r = parse_catalog(R"({"packages":{
    "huge":{"provider_id":"a","package_type":"rolling_window","window_hours":1e300,"limit_per_window":5},
    "tiny":{"provider_id":"b","package_type":"rolling_window","window_hours":1e-9,"limit_per_window":5},
    "huge_secondary":{"provider_id":"c","package_type":"rolling_window","window_hours":5,"limit_per_window":5,
      "secondary_windows":[{"window_hours":9000,"limit":10}]},
    "weekly":{"provider_id":"d","package_type":"rolling_window","window_hours":5,"limit_per_window":5,
      "secondary_windows":[{"window_hours":168,"limit":10}]},
    "yearly":{"provider_id":"e","package_type":"rolling_window","window_hours":8784,"limit_per_window":5}}})", "c.json");
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.catalog.packages.size(), 2u);
  EXPECT_EQ(r.catalog.packages[0].id, "weekly");
  EXPECT_EQ(r.catalog.packages[1].window_ms(), 8784LL * 3600 * 1000);
  ASSERT_EQ(r.catalog.skipped.size(), 3u);
  for (const auto& s : r.catalog.skipped) EXPECT_NE(s.reason.find("expected between 1 second"), std::string::npos) << s.reason;
  EXPECT_NE(r.catalog.skipped[2].reason.find("$.packages.huge_secondary.secondary_windows[0].window_hours"), std::string::npos);
}

// Issue 15 case 0: faigate writes "schema_version": "1.1"; every 1.x envelope is read as-is, only
// another major version is refused, named.
TEST(Catalog, EveryOneDotXEnvelopeIsReadAndAnotherMajorIsNamed) {
  for (const char* v : {"1", "\"1\"", "\"v1\"", "\"1.1\"", "1.1", "\"1.12\"", "\"V1.0\"", "\"1.1.0\"", "\"v1.2.3\"", "\"01\""}) {
    const auto r = parse_catalog(std::string(R"({"schema_version":)") + v + R"(,"packages":{}})", "c.json");
    EXPECT_TRUE(r.error.empty()) << v << ": " << r.error;
  }
  EXPECT_EQ(parse_catalog(R"({"schema_version":"2.0","packages":{}})", "c.json").error,
            "c.json: $.schema_version: major version 2 is not one this quotagate reads (it reads 1.x), got \"2.0\"");
  EXPECT_NE(parse_catalog(R"({"schema_version":"one","packages":{}})", "c.json").error.find("expected a version such as 1 or \"1.1\""), std::string::npos);
}

