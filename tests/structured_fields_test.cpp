// RFC 8941 structured fields as used by the IETF RateLimit headers.
#include "quotagate/structured_fields.hpp"

#include <gtest/gtest.h>

using namespace qg::sf;

TEST(StructuredFields, ParsesListOfItemsWithParameters) {
  auto l = parse_list(R"("burst";q=100;w=60, "daily";q=1000;w=86400;qu="tokens")");
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].item.text, "burst");
  EXPECT_EQ((*l)[0].param("q")->number, 100);
  EXPECT_EQ((*l)[1].param("w")->number, 86400);
  EXPECT_EQ((*l)[1].param("qu")->text, "tokens");
}

TEST(StructuredFields, ParsesDictionaryAndAllBareItemKinds) {
  auto d = parse_dictionary("limit=100, remaining=50, reset=30, ratio=0.25, name=\"a\\\"b\", tok=abc/d, flag, no=?0, b=:aGk=:");
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 9u);
  EXPECT_EQ((*d)[0].second.item.number, 100);
  EXPECT_EQ((*d)[3].second.item.kind, BareItem::Kind::kDecimal);
  EXPECT_DOUBLE_EQ((*d)[3].second.item.number, 0.25);
  EXPECT_EQ((*d)[4].second.item.text, "a\"b");
  EXPECT_EQ((*d)[5].second.item.text, "abc/d");
  EXPECT_TRUE((*d)[6].second.item.boolean);
  EXPECT_FALSE((*d)[7].second.item.boolean);
  EXPECT_EQ((*d)[8].second.item.text, "aGk=");
}

TEST(StructuredFields, InnerListsAreKept) {
  auto l = parse_list("(1 2 3);w=5, 4");
  ASSERT_TRUE(l);
  EXPECT_TRUE((*l)[0].is_inner_list);
  EXPECT_EQ((*l)[0].inner.size(), 3u);
  EXPECT_EQ((*l)[0].param("w")->number, 5);
}

TEST(StructuredFields, MalformedInputFailsTheWholeField) {
  for (const char* bad : {"\"unterminated", "a=1,", "1.2345", "1234567890123456", ",", "\"x\";Q=1", "(1 2", "?2",
                          "a=1 b=2", ":not base64!:"})
    EXPECT_FALSE(parse_list(bad).has_value() && parse_dictionary(bad).has_value()) << bad;
  EXPECT_FALSE(parse_list("\"a\",").has_value());
  EXPECT_FALSE(parse_dictionary("A=1").has_value());
  EXPECT_TRUE(parse_list("").has_value());
}
