// A reload that drops a rep who holds open leads, through the real server,
// a real gRPC channel and a real SQLite store: it says so (per rep, with the
// count) and applies the policy the publish, the ruleset or the server
// chooses; SetRepStatus for a removed rep explains.
#include <grpcpp/create_channel.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "tests/src/server/state_server_fixture.h"

namespace leadroute {
namespace {

using testing::HasSubstr;

// `%s` is the header's settings, `%m` the team's members.
std::string Rules(const std::string& version, const std::string& reps,
                  const std::string& members,
                  const std::string& settings = "") {
  return absl::StrCat("ruleset \"removal\" version \"", version, "\"", settings,
                      "\nschema { country: string required }\n", reps,
                      "team direct { members = [", members, "] }\n",
                      "assign { otherwise team direct }\n");
}

class RemovedRepsTest : public testing_util::StateServerFixture {
 protected:
  void SetUp() override {
    const std::string rules =
        Rules("1", "rep ana { }\nrep bo { }\n", "ana, bo");
    SetUpServer("removed_reps", rules.c_str());
  }

  void RouteLeads(int n) {
    for (int i = 0; i < n; ++i) {
      grpc::ClientContext context;
      v1::RouteRequest request;
      request.mutable_lead()->set_id(absl::StrCat("L", i));
      (*request.mutable_lead()->mutable_attributes())["country"]
          .set_string_value("US");
      v1::RouteResponse response;
      ASSERT_TRUE(router_->Route(&context, request, &response).ok());
    }
  }

  v1::PublishRulesResponse Publish(const std::string& rules,
                                   v1::RemovedReps choice) {
    grpc::ClientContext context;
    v1::PublishRulesRequest request;
    v1::RuleFile* f = request.add_files();
    f->set_path("rules.route");
    f->set_content(rules);
    request.set_removed_reps(choice);
    v1::PublishRulesResponse response;
    grpc::Status s = rules_admin_->PublishRules(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  v1::Assignment Get(const std::string& id) {
    grpc::ClientContext context;
    v1::GetAssignmentRequest request;
    request.set_lead_id(id);
    v1::GetAssignmentResponse response;
    EXPECT_TRUE(assignments_->GetAssignment(&context, request, &response).ok());
    return response.assignment();
  }

  // Owners of L0..L3, e.g. "ana bo ana bo".
  std::string Owners() {
    std::string out;
    for (int i = 0; i < 4; ++i) {
      const v1::Assignment a = Get(absl::StrCat("L", i));
      absl::StrAppend(
          &out, i ? " " : "",
          a.status() == v1::LEAD_STATUS_RELEASED ? "released" : a.owner());
    }
    return out;
  }
};

TEST_F(RemovedRepsTest, KeepWarnsWithTheCountThenReassignMovesThemInTheTeam) {
  RouteLeads(4);
  ASSERT_EQ(Owners(), "ana bo ana bo");

  // Unspecified, and the ruleset says nothing: the server's default, keep.
  const std::string without_bo = Rules("2", "rep ana { }\n", "ana");
  v1::PublishRulesResponse kept =
      Publish(without_bo, v1::REMOVED_REPS_UNSPECIFIED);
  ASSERT_EQ(kept.diagnostics_size(), 1);
  EXPECT_EQ(kept.diagnostics(0).severity(), v1::Diagnostic::SEVERITY_WARNING);
  EXPECT_EQ(kept.diagnostics(0).code(), "removed_rep");
  EXPECT_EQ(kept.diagnostics(0).message(),
            "rep `bo` is not in the rules of revision 2 and held 2 open "
            "leads: they stay with the rep (removed_reps = keep)");
  EXPECT_EQ(Owners(), "ana bo ana bo");

  // SetRepStatus for bo says what happened and what to do.
  {
    grpc::ClientContext context;
    v1::SetRepStatusRequest request;
    request.set_rep("bo");
    request.set_availability(v1::REP_AVAILABILITY_AWAY);
    v1::SetRepStatusResponse response;
    grpc::Status s = assignments_->SetRepStatus(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(),
                HasSubstr("\"bo\" is not a rep of the live ruleset "
                          "(\"removal\" 2, revision 2): revision 1 had them; "
                          "they were removed from the rules"));
    EXPECT_THAT(s.error_message(),
                HasSubstr("they still hold 2 open leads (leads list --owner "
                          "bo; move them with leads reassign"));
  }

  // The publish chooses reassign: within their team, by its strategy.
  v1::PublishRulesResponse moved =
      Publish(Rules("3", "rep ana { }\n", "ana"), v1::REMOVED_REPS_REASSIGN);
  ASSERT_EQ(moved.diagnostics_size(), 1);
  EXPECT_EQ(moved.diagnostics(0).message(),
            "rep `bo` is not in the rules of revision 3 and held 2 open "
            "leads: 2 reassigned within their teams, 0 released (nobody "
            "could take them) (removed_reps = reassign)");
  EXPECT_EQ(Owners(), "ana ana ana ana");
  const v1::Assignment l1 = Get("L1");
  EXPECT_EQ(l1.team(), "direct");

  // Nothing left to hand over: no warning.
  EXPECT_EQ(
      Publish(Rules("4", "rep ana { }\n", "ana"), v1::REMOVED_REPS_REASSIGN)
          .diagnostics_size(),
      0);
}

TEST_F(RemovedRepsTest, TheRulesetChoosesReleaseAndARestartKeepsIt) {
  RouteLeads(4);
  // The ruleset says release; the publish does not choose.
  v1::PublishRulesResponse released =
      Publish(Rules("2", "rep cy { }\n", "cy", " { removed_reps = release }"),
              v1::REMOVED_REPS_UNSPECIFIED);
  ASSERT_EQ(released.diagnostics_size(), 2);
  EXPECT_EQ(released.diagnostics(0).message(),
            "rep `ana` is not in the rules of revision 2 and held 2 open "
            "leads: 2 released (removed_reps = release)");
  EXPECT_EQ(Owners(), "released released released released");
  // What was released is on disk: a restart keeps it.
  std::ofstream(dir_ / "rules.route")
      << Rules("2", "rep cy { }\n", "cy", " { removed_reps = release }");
  Restart();
  EXPECT_EQ(Owners(), "released released released released");
}

TEST_F(RemovedRepsTest, ReassignReleasesWhatNobodyInTheTeamCanTake) {
  RouteLeads(2);
  // The lead's team is gone from the new rules: nobody to take it.
  v1::PublishRulesResponse r = Publish(
      "ruleset \"removal\" version \"2\"\nschema { country: string required }"
      "\nrep cy { }\nassign { otherwise rep cy }\n",
      v1::REMOVED_REPS_REASSIGN);
  ASSERT_EQ(r.diagnostics_size(), 2);
  EXPECT_THAT(r.diagnostics(0).message(),
              HasSubstr("held 1 open lead: 0 reassigned within their teams, "
                        "1 released (nobody could take them)"));
}

}  // namespace
}  // namespace leadroute
