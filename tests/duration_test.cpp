// Go-style durations: every form providers send, which faigate failed to parse.
#include "quotagate/duration.hpp"

#include <gtest/gtest.h>

using qg::parse_go_duration_ms;

TEST(GoDuration, ParsesEveryDocumentedForm) {
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("1s"), 1000);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("6m0s"), 360000);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("12ms"), 12);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("59.345ms"), 59.345);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("1h2m3.5s"), 3723500);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("2m59.56s"), 179560);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("0"), 0);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("300us"), 0.3);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("300\xC2\xB5s"), 0.3);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("1500ns"), 0.0015);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms(".5s"), 500);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms(" 43s "), 43000);
  EXPECT_DOUBLE_EQ(*parse_go_duration_ms("+7.66s"), 7660);
}

TEST(GoDuration, RejectsGarbage) {
  for (const char* bad : {"", "s", "1", "10x", "1h-2m", "-1s", "1.2.3s", "abc", "1 s", ".s", "1e3s", "5d"})
    EXPECT_FALSE(parse_go_duration_ms(bad).has_value()) << bad;
}
