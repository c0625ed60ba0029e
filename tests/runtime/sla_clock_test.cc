// How an SLA reads in the reasons events give (ShortDuration), down to the
// second: an SLA under a minute is not "0m".
#include "runtime/sla_clock.h"

#include "gtest/gtest.h"

namespace leadroute::runtime {
namespace {

TEST(ShortDurationTest, WritesEachUnitThatIsNotZero) {
  EXPECT_EQ(ShortDuration(absl::Minutes(15)), "15m");
  EXPECT_EQ(ShortDuration(absl::Minutes(90)), "1h30m");
  EXPECT_EQ(ShortDuration(absl::Hours(48)), "2d");
  EXPECT_EQ(ShortDuration(absl::Hours(25) + absl::Seconds(5)), "1d1h5s");
  EXPECT_EQ(ShortDuration(absl::Seconds(45)), "45s");
  EXPECT_EQ(ShortDuration(absl::Seconds(90)), "1m30s");
  EXPECT_EQ(ShortDuration(absl::ZeroDuration()), "0s");
}

}  // namespace
}  // namespace leadroute::runtime
