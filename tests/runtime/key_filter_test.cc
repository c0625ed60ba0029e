// KeyFilter: never a false "no" for a key added, however far it grew, and
// few false "perhaps" for keys never added.
#include "runtime/key_filter.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace leadroute::runtime {
namespace {

TEST(KeyFilterTest, EveryKeyAddedIsFoundAcrossLayers) {
  // 64 keys a layer to start: 200,000 keys make a dozen layers.
  KeyFilter f(64);
  const size_t empty = f.bytes();
  EXPECT_FALSE(f.MayContain("lead-0"));
  for (int i = 0; i < 200000; ++i) f.Add(absl::StrCat("lead-", i));
  EXPECT_EQ(f.added(), 200000u);
  for (int i = 0; i < 200000; ++i) {
    ASSERT_TRUE(f.MayContain(absl::StrCat("lead-", i))) << i;
  }
  EXPECT_TRUE(f.MayContain("lead-199999"));
  // About two bytes a key, whatever the layers.
  EXPECT_GT(f.bytes(), empty);
  EXPECT_LE(f.bytes(), size_t{200000} * 2 * 3);
}

TEST(KeyFilterTest, KeysNeverAddedAreMostlyToldApart) {
  for (const size_t first : {size_t{1} << 18, size_t{1} << 10}) {
    KeyFilter f(first);
    for (int i = 0; i < 100000; ++i) {
      f.Add(absl::StrCat("person", i, "@company.example"));
    }
    int maybe = 0;
    for (int i = 0; i < 100000; ++i) {
      maybe += f.MayContain(absl::StrCat("other", i, "@company.example"));
    }
    // 16 bits a key in one layer: about 0.1% (one block, one bit a word);
    // grown in layers, a lookup checks each: still well under 2%.
    EXPECT_LT(maybe, 2000) << "first layer " << first;
  }
}

TEST(KeyFilterTest, EmptyAndBinaryKeys) {
  KeyFilter f;
  f.Add("");
  f.Add(std::string("a\0b", 3));
  EXPECT_TRUE(f.MayContain(""));
  EXPECT_TRUE(f.MayContain(std::string("a\0b", 3)));
  EXPECT_EQ(f.added(), 2u);
}

}  // namespace
}  // namespace leadroute::runtime
