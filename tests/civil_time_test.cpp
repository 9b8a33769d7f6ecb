// Civil dates, ISO-8601 / RFC 3339 and HTTP-date parsing.
#include "quotagate/civil_time.hpp"
#include "test_util.hpp"

using namespace qg;

TEST(CivilTime, RoundTripsDaysAcrossEras) {
  for (int64_t d : {-719468LL, -1LL, 0LL, 1LL, 10957LL, 20420LL, 2932896LL}) {
    const CivilDate c = civil_from_days(d);
    EXPECT_EQ(days_from_civil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28), 2);  // leap year
  EXPECT_EQ(days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28), 1);  // not leap
  EXPECT_EQ(weekday_from_days(0), 4);                                       // 1970-01-01 was a Thursday
  EXPECT_EQ(weekday_from_days(days_from_civil(2026, 11, 28)), 6);            // a Saturday
}

TEST(CivilTime, FormatsIsoUtcWithMilliseconds) {
  EXPECT_EQ(format_iso_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso_utc(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso_utc(1795890900123), "2026-11-28T18:35:00.123Z");
  EXPECT_EQ(format_date(days_from_civil(2026, 2, 3)), "2026-02-03");
}

TEST(CivilTime, ParsesRfc3339Variants) {
  EXPECT_EQ(parse_iso8601("2026-11-28T18:35:00Z"), 1795890900000);
  EXPECT_EQ(parse_iso8601("2026-11-28T18:35:00.5Z"), 1795890900500);
  EXPECT_EQ(parse_iso8601("2026-11-28T18:35:00.123456789Z"), 1795890900123);
  EXPECT_EQ(parse_iso8601("2026-11-28t18:35:00z"), 1795890900000);
  EXPECT_EQ(parse_iso8601("2026-11-28 18:35:00"), 1795890900000);
  EXPECT_EQ(parse_iso8601("2026-11-28T10:35:00-08:00"), 1795890900000);
  EXPECT_EQ(parse_iso8601("2026-11-29T00:05:00+0530"), 1795890900000);
  EXPECT_EQ(parse_iso8601("2026-11-28T18:35Z"), 1795890900000);
  EXPECT_EQ(parse_iso8601("2026-11-28"), 1795824000000);
}

TEST(CivilTime, RejectsMalformedTimestamps) {
  for (const char* bad : {"", "2026-13-01", "2026-02-30", "2026-11-28T25:00:00Z", "2026-11-28T10:00:00+25:00",
                          "2026-11-28Tfoo", "28/11/2026", "2026-11-28T10:00:00Zjunk", "2026-11-28T10:00:00."})
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
  EXPECT_FALSE(parse_date_only("2026-11-28T00:00:00Z").has_value());
  EXPECT_TRUE(parse_date_only("2024-02-29").has_value());
  EXPECT_FALSE(parse_date_only("2025-02-29").has_value());
}

TEST(CivilTime, ParsesAllThreeHttpDateForms) {
  const int64_t expected = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110 example)
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), expected);
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST").has_value());
  EXPECT_FALSE(parse_http_date("120").has_value());
  EXPECT_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT").has_value());
}

// Found by the time-parser fuzzer: a long run of digits in an HTTP-date overflowed int64.
TEST(CivilTime, LongDigitRunsAreRejectedNotOverflowed) {
  EXPECT_FALSE(parse_http_date("Sun Nov 2222222222222222222 08:49:37 1994").has_value());
  EXPECT_FALSE(parse_iso8601("99999999999999999999-01-01").has_value());
}
