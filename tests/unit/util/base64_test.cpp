#include "util/base64.hpp"

#include <gtest/gtest.h>

using pgmcp::util::base64_decode;
using pgmcp::util::base64url_encode;

TEST(Base64Test, RoundTripsEveryLengthAndByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 7) {
    std::string s = all.substr(0, n);
    EXPECT_EQ(base64_decode(base64url_encode(s)), s) << n;
  }
}

TEST(Base64Test, DecodesBothAlphabetsWithOrWithoutPadding) {
  EXPECT_EQ(base64_decode("bGlzdF9kYXRhYmFzZXM="), "list_databases");
  EXPECT_EQ(base64_decode("bGlzdF9kYXRhYmFzZXM"), "list_databases");
  EXPECT_EQ(base64_decode("SGVsbG8sIOS4lueVjA=="), "Hello, \xe4\xb8\x96\xe7\x95\x8c");
  EXPECT_EQ(base64_decode("-_8"), base64_decode("+/8"));
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64Test, RefusesForeignCharactersAndDataAfterPadding) {
  EXPECT_FALSE(base64_decode("ab c").has_value());
  EXPECT_FALSE(base64_decode("YQ==YQ").has_value());
  EXPECT_FALSE(base64_decode("a!").has_value());
}
