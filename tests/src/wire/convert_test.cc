// proto <-> runtime conversions, including the malformed cases.
#include "src/wire/convert.h"

#include "base/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadroute {
namespace {

TEST(ConvertTest, LeadKeepsEveryTypedAttribute) {
  v1::Lead lead;
  lead.set_id("L-9");
  auto& attrs = *lead.mutable_attributes();
  attrs["country"].set_string_value("DE");
  attrs["employees"].set_int_value(250);
  attrs["revenue"].set_number_value(12.5);
  attrs["customer"].set_bool_value(true);
  attrs["visited"].mutable_time_value()->set_seconds(1700000000);
  attrs["visited"].mutable_time_value()->set_nanos(5);
  attrs["products"].mutable_list_value()->add_values("cpq");

  absl::StatusOr<runtime::Lead> out = LeadFromProto(lead);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->id, "L-9");
  EXPECT_EQ(std::get<std::string>(out->attributes.at("country")), "DE");
  EXPECT_EQ(std::get<int64_t>(out->attributes.at("employees")), 250);
  EXPECT_EQ(std::get<double>(out->attributes.at("revenue")), 12.5);
  EXPECT_EQ(std::get<bool>(out->attributes.at("customer")), true);
  EXPECT_EQ(std::get<absl::Time>(out->attributes.at("visited")),
            absl::FromUnixSeconds(1700000000) + absl::Nanoseconds(5));
  EXPECT_THAT(
      std::get<std::vector<std::string>>(out->attributes.at("products")),
      testing::ElementsAre("cpq"));
}

TEST(ConvertTest, ValueWithNoMemberNamesTheAttribute) {
  v1::Lead lead;
  lead.set_id("L-1");
  (*lead.mutable_attributes())["country"];
  absl::StatusOr<runtime::Lead> out = LeadFromProto(lead);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(out.status()), "attributes.country");
}

TEST(ConvertTest, OutOfRangeTimestampIsRejected) {
  v1::Lead lead;
  lead.set_id("L-1");
  (*lead.mutable_attributes())["visited"].mutable_time_value()->set_nanos(-1);
  absl::StatusOr<runtime::Lead> out = LeadFromProto(lead);
  EXPECT_EQ(ErrorField(out.status()), "attributes.visited");

  v1::RouteOptions options;
  options.mutable_received_at()->set_seconds(int64_t{1} << 60);
  EXPECT_EQ(ErrorField(OptionsFromProto(options, absl::Now()).status()),
            "options.received_at");
}

TEST(ConvertTest, OptionsDefaultReceivedAtToNow) {
  const absl::Time now = absl::FromUnixSeconds(42);
  absl::StatusOr<runtime::DecideOptions> o =
      OptionsFromProto(v1::RouteOptions(), now);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->received_at, now);

  v1::RouteOptions given;
  given.mutable_received_at()->set_seconds(7);
  given.set_explain(true);
  given.add_why_not("enterprise_emea");
  o = OptionsFromProto(given, now);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->received_at, absl::FromUnixSeconds(7));
  EXPECT_TRUE(o->explain);
  EXPECT_THAT(o->why_not, testing::ElementsAre("enterprise_emea"));
}

TEST(ConvertTest, TimesBeforeTheEpochRoundTrip) {
  google::protobuf::Timestamp ts;
  const absl::Time t = absl::FromUnixSeconds(-10) + absl::Milliseconds(250);
  TimeToProto(t, &ts);
  EXPECT_EQ(ts.seconds(), -10);
  EXPECT_EQ(ts.nanos(), 250000000);
  EXPECT_EQ(*TimeFromProto(ts), t);
}

// Timestamp's whole range, not an int64 of nanoseconds (which ends in
// 2262): an out-of-office `until` of 9999-12-31 comes back as sent.
TEST(ConvertTest, TimesAtTheEndsOfTimestampsRangeRoundTrip) {
  for (const auto& [seconds, nanos] :
       std::vector<std::pair<int64_t, int32_t>>{{253402300799, 999999999},
                                                {-62135596800, 0},
                                                {9224000000, 5}}) {
    absl::StatusOr<absl::Time> t = TimeFromParts(seconds, nanos);
    ASSERT_TRUE(t.ok()) << seconds;
    google::protobuf::Timestamp ts;
    TimeToProto(*t, &ts);
    EXPECT_EQ(ts.seconds(), seconds);
    EXPECT_EQ(ts.nanos(), nanos);
  }
}

TEST(ConvertTest, DecisionToProtoFillsEveryField) {
  runtime::Decision d;
  d.lead_id = "L-1";
  d.owner = "ana";
  d.owner_kind = runtime::OwnerKind::kRep;
  d.team = "emea_ae";
  d.priority = runtime::Priority{"urgent", 0};
  d.sla = absl::Minutes(15);
  d.respond_by = absl::FromUnixSeconds(900);
  d.channel = "phone";
  d.ruleset_name = "acme";
  d.ruleset_version = "3";
  d.score = 85;
  d.decided_by.push_back({"assign", "enterprise_emea", "acme.route:40"});

  v1::Decision out;
  DecisionToProto(d, &out);
  EXPECT_EQ(out.lead_id(), "L-1");
  EXPECT_EQ(out.owner(), "ana");
  EXPECT_EQ(out.owner_kind(), v1::OWNER_KIND_REP);
  EXPECT_EQ(out.team(), "emea_ae");
  EXPECT_EQ(out.priority().label(), "urgent");
  EXPECT_EQ(out.priority().rank(), 0);
  EXPECT_EQ(out.sla().seconds(), 900);
  EXPECT_EQ(out.respond_by().seconds(), 900);
  EXPECT_EQ(out.channel(), "phone");
  EXPECT_EQ(out.ruleset().name(), "acme");
  EXPECT_EQ(out.ruleset().version(), "3");
  EXPECT_EQ(out.score(), 85);
  ASSERT_EQ(out.decided_by_size(), 1);
  EXPECT_EQ(out.decided_by(0).rule(), "enterprise_emea");
  EXPECT_EQ(out.decided_by(0).location(), "acme.route:40");
}

TEST(ConvertTest, StatusesMapCodeForCode) {
  grpc::Status s = ToGrpcStatus(absl::InvalidArgumentError("id: empty"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "id: empty");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_EQ(ToGrpcStatus(absl::ResourceExhaustedError("x")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace leadroute
