// The built-in policy: its decisions and its schema errors.
#include "runtime/fixed_policy.h"

#include "base/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadroute::runtime {
namespace {

const absl::Time kReceived = absl::FromUnixSeconds(1700000000);

absl::StatusOr<Decision> DecideFor(Lead lead) {
  return FixedPolicy().Decide(
      lead,
      DecideOptions{.received_at = kReceived, .explain = false, .why_not = {}});
}

TEST(FixedPolicyTest, DemoRequestIsHighPriorityByPhoneWithinAnHour) {
  absl::StatusOr<Decision> d = DecideFor(
      {"L-1",
       {{"source", std::string("demo_request")}, {"score", int64_t{70}}}});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->lead_id, "L-1");
  EXPECT_EQ(d->owner, "inbound");
  EXPECT_EQ(d->owner_kind, OwnerKind::kQueue);
  EXPECT_EQ(d->priority->label, "high");
  EXPECT_EQ(d->priority->rank, 1);
  EXPECT_EQ(d->sla, absl::Hours(1));
  EXPECT_EQ(d->respond_by, kReceived + absl::Hours(1));
  EXPECT_EQ(d->channel, "phone");
  EXPECT_EQ(d->score, 70);
  ASSERT_EQ(d->decided_by.size(), 4u);
  EXPECT_EQ(d->decided_by[1].stage, "priority");
  EXPECT_EQ(d->decided_by[1].rule, "demo_request");
}

TEST(FixedPolicyTest, OtherLeadsAreNormalByEmailWithinADay) {
  absl::StatusOr<Decision> d =
      DecideFor({"L-2", {{"source", std::string("ebook")}}});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->priority->label, "normal");
  EXPECT_EQ(d->sla, absl::Hours(24));
  EXPECT_EQ(d->respond_by, kReceived + absl::Hours(24));
  EXPECT_EQ(d->channel, "email");
  EXPECT_EQ(d->decided_by[1].rule, "otherwise");
}

TEST(FixedPolicyTest, EmptyIdIsRejectedNamingTheField) {
  absl::StatusOr<Decision> d = DecideFor({"", {}});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(d.status()), "id");
}

TEST(FixedPolicyTest, WrongTypeIsRejectedNamingTheAttribute) {
  absl::StatusOr<Decision> d =
      DecideFor({"L-3", {{"score", std::string("high")}}});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(d.status()), "attributes.score");
  EXPECT_THAT(std::string(d.status().message()),
              testing::HasSubstr("expected int, got string"));
}

}  // namespace
}  // namespace leadroute::runtime
