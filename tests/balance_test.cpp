// Balance readings to used/total: DeepSeek-style balances across a top-up, stated totals.
#include "quotagate/balance.hpp"

#include <gtest/gtest.h>

using namespace qg;

TEST(Balance, BalanceOnlyReadingsKeepUsedContinuousAcrossATopUp) {
  BalanceMemory m;
  m.catalog_total = 10;
  BalanceUpdate u = apply_balance(m, {7.5, std::nullopt, std::nullopt});
  EXPECT_DOUBLE_EQ(u.total, 10);
  EXPECT_DOUBLE_EQ(u.used, 2.5);
  m = {u.total, u.used, u.last_balance, u.peak_balance};
  u = apply_balance(m, {6.0, std::nullopt, std::nullopt});
  EXPECT_DOUBLE_EQ(u.used, 4);
  m = {u.total, u.used, u.last_balance, u.peak_balance};
  u = apply_balance(m, {26.0, std::nullopt, std::nullopt});  // a $20 top-up
  EXPECT_DOUBLE_EQ(u.total, 30);
  EXPECT_DOUBLE_EQ(u.used, 4);
  ASSERT_TRUE(u.topup.has_value());
  EXPECT_DOUBLE_EQ(*u.topup, 20);
  m = {u.total, u.used, u.last_balance, u.peak_balance};
  u = apply_balance(m, {25.0, std::nullopt, std::nullopt});
  EXPECT_DOUBLE_EQ(u.used, 5);
  EXPECT_FALSE(u.topup.has_value());
}

TEST(Balance, FirstReadingAboveTheCatalogTotalRaisesIt) {
  const BalanceUpdate u = apply_balance({5, 0, std::nullopt, std::nullopt}, {12.0, std::nullopt, std::nullopt});
  EXPECT_DOUBLE_EQ(u.total, 12);  // the peak since the last top-up is at least the balance
  EXPECT_DOUBLE_EQ(u.used, 0);
}

TEST(Balance, StatedTotalsAndUsageAreTakenAsGiven) {
  BalanceUpdate u = apply_balance({0, 0, std::nullopt, std::nullopt}, {12.5, 20.0, 7.5});
  EXPECT_DOUBLE_EQ(u.total, 20);
  EXPECT_DOUBLE_EQ(u.used, 7.5);
  u = apply_balance({40, 3, std::nullopt, std::nullopt}, {std::nullopt, std::nullopt, 9.0});  // usage known, balance not
  EXPECT_DOUBLE_EQ(u.total, 40);
  EXPECT_DOUBLE_EQ(u.used, 9);
  EXPECT_NE(apply_balance_json("[]", "{}").find("error"), std::string::npos);
  EXPECT_EQ(apply_balance_json(R"({"catalog_total":10})", R"({"remaining":7.5})"),
            R"({"total_credits":10.0,"used_credits":2.5,"last_balance":7.5,"peak_balance":7.5,"topup":null})");
}
