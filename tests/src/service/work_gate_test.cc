// WorkGate: a few calls run, twice as many wait, the rest are refused at
// once naming the flag; a call that ends lets the next waiting one run.
#include "src/service/work_gate.h"

#include <atomic>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadroute {
namespace {

using testing::HasSubstr;

TEST(WorkGateTest, RunsSomeQueuesTwiceAsManyAndRefusesTheRest) {
  WorkGate gate(1, "KPI scans (GetStats)", "--max-stats-scans");
  ASSERT_TRUE(gate.Admit().ok());  // runs
  ASSERT_TRUE(gate.Admit().ok());  // waits
  ASSERT_TRUE(gate.Admit().ok());  // waits
  const absl::Status full = gate.Admit();
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(full.message(),
              HasSubstr("1 KPI scans (GetStats) are running and 2 waiting"));
  EXPECT_THAT(full.message(), HasSubstr("(--max-stats-scans 1)"));

  gate.Run();
  // The second waits for the first to end.
  std::atomic<bool> second_ran{false};
  std::thread second([&] {
    gate.Run();
    second_ran = true;
    gate.Done();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(second_ran);
  gate.Done();
  second.join();
  EXPECT_TRUE(second_ran);
  // Two places are free again: the third still holds one.
  EXPECT_TRUE(gate.Admit().ok());
  EXPECT_TRUE(gate.Admit().ok());
  EXPECT_FALSE(gate.Admit().ok());
}

}  // namespace
}  // namespace leadroute
