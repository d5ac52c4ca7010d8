#include <gtest/gtest.h>

#include "db/schema.hpp"

using pgmcp::db::parse_qualified_name;
using Name = std::pair<std::string, std::string>;

TEST(QualifiedNameTest, FoldsUnquotedAndKeepsQuoted) {
  EXPECT_EQ(parse_qualified_name("Orders"), Name("", "orders"));
  EXPECT_EQ(parse_qualified_name("Shop.Orders"), Name("shop", "orders"));
  EXPECT_EQ(parse_qualified_name("\"Mixed Schema\".\"Odd Table\""),
            Name("Mixed Schema", "Odd Table"));
  EXPECT_EQ(parse_qualified_name("\"Quote\"\"d\""), Name("", "Quote\"d"));
  EXPECT_EQ(parse_qualified_name("\"a.b\".c"), Name("a.b", "c"));
}

TEST(QualifiedNameTest, BlanksAroundPartsAreDroppedButNotInside) {
  EXPECT_EQ(parse_qualified_name("  shop . orders  "), Name("shop", "orders"));
  EXPECT_EQ(parse_qualified_name("Mixed Schema.Odd Table"), Name("mixed schema", "odd table"));
  EXPECT_EQ(parse_qualified_name("\" padded \""), Name("", " padded "));
}

TEST(QualifiedNameTest, RefusesWhatIsNotAName) {
  for (const char *bad : {"", "a.b.c", ".t", "s.", "\"open", "   "}) {
    EXPECT_THROW(parse_qualified_name(bad), std::invalid_argument) << bad;
  }
}
