// Embedded IANA zones: offsets, DST transitions and daily-reset instants.
#include "quotagate/time_zone.hpp"

#include "test_util.hpp"

using namespace qg;

TEST(TimeZone, KnowsCommonZonesAndRejectsUnknown) {
  for (const char* z : {"UTC", "America/Los_Angeles", "Asia/Shanghai", "Europe/London", "Australia/Lord_Howe",
                        "Asia/Kolkata", "America/New_York", "Pacific/Chatham", "Etc/UTC"})
    EXPECT_TRUE(find_time_zone(z).has_value()) << z;
  EXPECT_FALSE(find_time_zone("Mars/Olympus_Mons").has_value());
  EXPECT_FALSE(find_time_zone("america/los_angeles").has_value());
}

TEST(TimeZone, ParsesPosixRulesIncludingExtensions) {
  auto tz = parse_posix_tz("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45");
  ASSERT_TRUE(tz);
  EXPECT_EQ(tz->std_offset_s, 12 * 3600 + 45 * 60);
  EXPECT_EQ(tz->dst_offset_s, 13 * 3600 + 45 * 60);
  EXPECT_TRUE(parse_posix_tz("<-04>4<-03>,M9.1.6/24,M4.1.6/24").has_value());
  EXPECT_TRUE(parse_posix_tz("EET-2EEST,M3.5.0/-1,M10.5.0/0").has_value());
  EXPECT_FALSE(parse_posix_tz("PST").has_value());
  EXPECT_FALSE(parse_posix_tz("PST8PDT,M13.2.0,M11.1.0").has_value());
}

TEST(TimeZone, PacificOffsetsFollowDst) {
  const TimeZone la = *find_time_zone("America/Los_Angeles");
  EXPECT_EQ(utc_offset_ms(la, T("2026-07-01T12:00:00Z")), -7 * kMsPerHour);
  EXPECT_EQ(utc_offset_ms(la, T("2026-11-28T12:00:00Z")), -8 * kMsPerHour);
  // 2026 DST: starts Sun 8 Mar 02:00 PST (10:00Z), ends Sun 1 Nov 02:00 PDT (09:00Z).
  EXPECT_EQ(utc_offset_ms(la, T("2026-03-08T09:59:59Z")), -8 * kMsPerHour);
  EXPECT_EQ(utc_offset_ms(la, T("2026-03-08T10:00:00Z")), -7 * kMsPerHour);
  EXPECT_EQ(utc_offset_ms(la, T("2026-11-01T08:59:59Z")), -7 * kMsPerHour);
  EXPECT_EQ(utc_offset_ms(la, T("2026-11-01T09:00:00Z")), -8 * kMsPerHour);
}

TEST(TimeZone, DailyResetIsLocalMidnightAcrossDst) {
  const TimeZone la = *find_time_zone("America/Los_Angeles");
  EXPECT_EQ(iso(next_local_day_start(la, T("2026-11-28T18:00:00Z"))), "2026-11-29T08:00:00.000Z");
  EXPECT_EQ(iso(next_local_day_start(la, T("2026-07-04T06:59:59Z"))), "2026-07-04T07:00:00.000Z");
  EXPECT_EQ(iso(local_day_start(la, T("2026-07-04T07:00:00Z"))), "2026-07-04T07:00:00.000Z");
  // The day DST starts is 23 hours long; the day it ends is 25 hours long.
  EXPECT_EQ(next_local_day_start(la, T("2026-03-08T12:00:00Z")) - local_day_start(la, T("2026-03-08T12:00:00Z")), 23 * kMsPerHour);
  EXPECT_EQ(next_local_day_start(la, T("2026-11-01T12:00:00Z")) - local_day_start(la, T("2026-11-01T12:00:00Z")), 25 * kMsPerHour);
}

TEST(TimeZone, HalfHourAndSouthernZones) {
  const TimeZone kolkata = *find_time_zone("Asia/Kolkata");
  EXPECT_EQ(iso(next_local_day_start(kolkata, T("2026-11-28T12:00:00Z"))), "2026-11-28T18:30:00.000Z");
  const TimeZone sydney = *find_time_zone("Australia/Sydney");
  EXPECT_EQ(utc_offset_ms(sydney, T("2026-01-15T00:00:00Z")), 11 * kMsPerHour);  // summer DST
  EXPECT_EQ(utc_offset_ms(sydney, T("2026-07-15T00:00:00Z")), 10 * kMsPerHour);
  const TimeZone shanghai = *find_time_zone("Asia/Shanghai");
  EXPECT_EQ(iso(next_local_day_start(shanghai, T("2026-11-28T15:59:59Z"))), "2026-11-28T16:00:00.000Z");
}

TEST(TimeZone, MidnightSkippedByDstStartsAtTheTransition) {
  // Havana springs forward at 00:00 local: that day starts at 01:00 CDT (05:00Z).
  const TimeZone havana = *find_time_zone("America/Havana");
  const int64_t noon = T("2026-03-08T17:00:00Z");
  EXPECT_EQ(iso(local_day_start(havana, noon)), "2026-03-08T05:00:00.000Z");
}
