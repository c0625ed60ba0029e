// Value type names and renderings.
#include "runtime/value.h"

#include "gtest/gtest.h"

namespace leadroute::runtime {
namespace {

TEST(ValueTest, TypeOfFollowsAlternative) {
  EXPECT_EQ(TypeOf(Value(std::string("US"))), ValueType::kString);
  EXPECT_EQ(TypeOf(Value(int64_t{5})), ValueType::kInt);
  EXPECT_EQ(TypeOf(Value(2.5)), ValueType::kNumber);
  EXPECT_EQ(TypeOf(Value(true)), ValueType::kBool);
  EXPECT_EQ(TypeOf(Value(absl::UnixEpoch())), ValueType::kTime);
  EXPECT_EQ(TypeOf(Value(std::vector<std::string>{"a"})),
            ValueType::kStringList);
}

TEST(ValueTest, DebugStringIsReadable) {
  EXPECT_EQ(DebugString(Value(std::string("US"))), "\"US\"");
  EXPECT_EQ(DebugString(Value(int64_t{-3})), "-3");
  EXPECT_EQ(DebugString(Value(false)), "false");
  EXPECT_EQ(DebugString(Value(absl::FromUnixSeconds(86400))),
            "1970-01-02T00:00:00+00:00");
  EXPECT_EQ(DebugString(Value(std::vector<std::string>{"crm", "cpq"})),
            "[crm, cpq]");
  EXPECT_EQ(TypeName(ValueType::kStringList), "list");
}

}  // namespace
}  // namespace leadroute::runtime
