// Repeat leads (the same email) through the real server and a real gRPC
// channel, over a real SQLite store: the rules say whether and where they
// stick, and a decision that stuck says so. The scenario is the one a
// LATAM + APAC RevOps team reported: a partner referral and a Japanese
// enterprise demo from people a direct rep had talked to before.
#include <grpcpp/create_channel.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "tests/src/server/state_server_fixture.h"

namespace leadroute {
namespace {

// Line numbers matter: the tests name where stickiness is said.
constexpr const char* kRules = R"(ruleset "latam-apac" version "1"
schema {
  email: string required
  country: string required
  employees: int default 0
  source: enum { demo_request, partner, webinar } required
}
rep lucia { languages = [es] seniority = junior }
rep mateo { languages = [es, en] seniority = mid }
rep kenji { languages = [ja, en] seniority = senior }
rep hana { languages = [ja, en] seniority = lead }
rep paula { languages = [es, pt, en] }
rep pedro { languages = [pt, es] }
team latam_direct { members = [lucia, mateo] }
team apac_enterprise { members = [kenji, hana] }
team partners { members = [paula, pedro] sticky = 30d }
queue triage
assign {
  rule partner when source == partner then team partners
  rule apac_enterprise when country == "JP" and employees >= 1000
    then team apac_enterprise where languages contains "ja"
  rule latam when country in ["MX", "AR", "CL"] then team latam_direct
  rule nurture when source == webinar then queue triage sticky 14d anywhere
  otherwise queue triage
}
)";

v1::Lead Lead(const std::string& id, const std::string& email,
              const std::string& country, const std::string& source,
              int64_t employees = 50) {
  v1::Lead lead;
  lead.set_id(id);
  auto& a = *lead.mutable_attributes();
  a["email"].set_string_value(email);
  a["country"].set_string_value(country);
  a["source"].set_string_value(source);
  a["employees"].set_int_value(employees);
  return lead;
}

std::vector<std::string> DecidedBy(const v1::Decision& d) {
  std::vector<std::string> out;
  for (const v1::RuleRef& r : d.decided_by()) {
    out.push_back(absl::StrCat(r.stage(), "/", r.rule(), "@", r.location()));
  }
  return out;
}

class StickyRoutingTest : public testing_util::StateServerFixture {
 protected:
  void SetUp() override { SetUpServer("sticky", kRules); }

  v1::Decision Route(const v1::Lead& lead, bool explain = false,
                     bool reroute = false) {
    grpc::ClientContext context;
    v1::RouteRequest request;
    *request.mutable_lead() = lead;
    request.mutable_options()->set_explain(explain);
    request.mutable_options()->set_reroute(reroute);
    v1::RouteResponse response;
    grpc::Status s = router_->Route(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.decision();
  }
};

TEST_F(StickyRoutingTest,
       APartnerLeadFromAStickyEmailGoesWhereThePartnerRuleSays) {
  // Last week's demo request from this person went to lucia.
  EXPECT_EQ(Route(Lead("L1", "ana@cliente.mx", "MX", "demo_request")).owner(),
            "lucia");
  // Today a partner refers them: the partner rule decides, not the history.
  v1::Decision partner = Route(Lead("L2", "ana@cliente.mx", "MX", "partner"));
  EXPECT_EQ(partner.owner(), "paula");
  EXPECT_EQ(partner.team(), "partners");
  EXPECT_EQ(partner.repeat_of(), "");
  EXPECT_EQ(DecidedBy(partner),
            (std::vector<std::string>{"assign/partner@rules.route:19"}));
  // A second partner lead sticks to paula, by the partners team's window.
  Route(Lead("L3", "other@cliente.mx", "MX", "partner"));  // pedro's turn
  v1::Decision again =
      Route(Lead("L4", "Ana@Cliente.MX", "MX", "partner"), /*explain=*/true);
  EXPECT_EQ(again.owner(), "paula");
  EXPECT_EQ(again.repeat_of(), "L2");
  EXPECT_EQ(DecidedBy(again),
            (std::vector<std::string>{"assign/partner@rules.route:19",
                                      "sticky/team partners@rules.route:16"}));
  std::vector<std::string> stages;
  for (const v1::StageExplanation& e : again.explanation().stages()) {
    stages.push_back(e.stage());
    if (e.stage() == "sticky") {
      EXPECT_THAT(e.conditions(),
                  testing::ElementsAre(
                      "the same email as lead \"L2\", which paula got 0s ago: "
                      "repeat leads stick for 30d (rules.route:16)"));
    }
  }
  EXPECT_THAT(stages, testing::Contains("sticky"));
}

TEST_F(StickyRoutingTest, AJapaneseEnterpriseDemoIsNotSentToTheLastSpanishRep) {
  EXPECT_EQ(Route(Lead("L1", "sato@example.jp", "MX", "demo_request")).owner(),
            "lucia");
  v1::Decision demo =
      Route(Lead("L2", "sato@example.jp", "JP", "demo_request", 5000));
  EXPECT_EQ(demo.owner(), "kenji");
  EXPECT_EQ(demo.team(), "apac_enterprise");
  EXPECT_EQ(demo.repeat_of(), "");
  // Rerouting the first lead follows the rules too: it is the same LATAM
  // rule, and kenji (who has the person's last lead) is not in its team.
  v1::Decision again =
      Route(Lead("L1", "sato@example.jp", "MX", "demo_request"),
            /*explain=*/false, /*reroute=*/true);
  EXPECT_EQ(again.owner(), "mateo");
  EXPECT_EQ(again.repeat_of(), "");
}

TEST_F(StickyRoutingTest, ARuleThatSaysAnywhereFollowsTheLastRep) {
  EXPECT_EQ(
      Route(Lead("L1", "yuki@example.jp", "JP", "demo_request", 2000)).owner(),
      "kenji");
  v1::Decision webinar = Route(Lead("L2", "yuki@example.jp", "JP", "webinar"));
  EXPECT_EQ(webinar.owner(), "kenji");
  EXPECT_EQ(webinar.owner_kind(), v1::OWNER_KIND_REP);
  EXPECT_EQ(webinar.repeat_of(), "L1");
  EXPECT_EQ(DecidedBy(webinar),
            (std::vector<std::string>{"assign/nurture@rules.route:23",
                                      "sticky/nurture@rules.route:23"}));
  // Fifteen days on, past its 14d window, the queue takes it.
  clock_.Advance(absl::Hours(24 * 15));
  EXPECT_EQ(Route(Lead("L3", "yuki@example.jp", "JP", "webinar")).owner(),
            "triage");
}

}  // namespace
}  // namespace leadroute
