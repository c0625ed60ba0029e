// The real server routing by the compiled example rules, through a real
// gRPC channel on an ephemeral loopback port.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "compiler/compiler.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "runtime/tree_policy.h"
#include "src/server/server.h"
#include "tests/src/server/grpc_test_util.h"

namespace leadroute {
namespace {

class ServerRulesTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<compiler::CheckResult> checked =
        compiler::Check(std::string(LEADROUTE_EXAMPLES_DIR) + "/acme.route");
    ASSERT_TRUE(checked.ok() && checked->ok());
    // What `serve --rules` runs: the compiled decision trees.
    auto policy = std::make_shared<runtime::TreePolicy>(checked->program);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<RouterServer>> server =
        RouterServer::Start(options, policy);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::LeadRouter::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  static v1::Lead Lead(const std::string& id, const std::string& email,
                       const std::string& country, int64_t employees,
                       const std::string& source) {
    v1::Lead lead;
    lead.set_id(id);
    auto& a = *lead.mutable_attributes();
    if (!email.empty()) a["email"].set_string_value(email);
    a["country"].set_string_value(country);
    a["employees"].set_int_value(employees);
    a["source"].set_string_value(source);
    return lead;
  }

  std::unique_ptr<RouterServer> server_;
  std::unique_ptr<v1::LeadRouter::Stub> stub_;
};

TEST_F(ServerRulesTest, RouteDecidesByTheRules) {
  v1::RouteRequest request;
  *request.mutable_lead() =
      Lead("L-1", "cto@bigco.example", "US", 5000, "demo_request");
  (*request.mutable_lead()->mutable_attributes())["pricing_visits_48h"]
      .set_int_value(3);
  request.mutable_options()->mutable_received_at()->set_seconds(1800000000);
  v1::RouteResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->Route(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::Decision& d = response.decision();
  EXPECT_EQ(d.owner(), "na_enterprise");
  EXPECT_EQ(d.owner_kind(), v1::OWNER_KIND_TEAM);
  EXPECT_EQ(d.team(), "na_enterprise");
  EXPECT_EQ(d.priority().label(), "urgent");
  EXPECT_EQ(d.sla().seconds(), 15 * 60);
  EXPECT_EQ(d.respond_by().seconds(), 1800000000 + 15 * 60);
  EXPECT_EQ(d.channel(), "linkedin");
  EXPECT_EQ(d.score(), 75);
  EXPECT_EQ(d.ruleset().name(), "acme-inbound");
  EXPECT_EQ(d.ruleset().version(), "2026.11.1");
  std::vector<std::string> assign;
  for (const v1::RuleRef& r : d.decided_by()) {
    if (r.stage() == "assign") assign.push_back(r.rule() + "@" + r.location());
  }
  EXPECT_THAT(assign, testing::ElementsAre("na_enterprise@acme.route:61"));
}

TEST_F(ServerRulesTest, BatchRejectsOnlyTheLeadThatBreaksTheSchema) {
  v1::RouteBatchRequest request;
  *request.add_leads() =
      Lead("ok", "buyer@fabrikam.example", "DE", 300, "contact_sales");
  *request.add_leads() = Lead("no-email", "", "DE", 300, "contact_sales");
  *request.add_leads() =
      Lead("bad-enum", "a@b.example", "DE", 300, "cold_call");
  v1::RouteBatchResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->RouteBatch(&context, request, &response).ok());
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_EQ(response.results(0).decision().owner(), "ana");
  EXPECT_EQ(response.results(0).decision().owner_kind(), v1::OWNER_KIND_REP);
  EXPECT_EQ(response.results(1).error().field(), "attributes.email");
  EXPECT_EQ(response.results(1).error().lead_id(), "no-email");
  EXPECT_EQ(response.results(2).error().field(), "attributes.source");
  EXPECT_THAT(
      response.results(2).error().message(),
      testing::HasSubstr("\"cold_call\" is not one of the enum's values"));
}

// A picklist value in another case is the enum's value; one the enum lacks
// fails with the values it has, and the closest.
TEST_F(ServerRulesTest, EnumValuesMatchIgnoringCaseAndErrorsListTheValues) {
  v1::RouteRequest request;
  *request.mutable_lead() =
      Lead("L-3", "cto@bigco.example", "US", 5000, "Demo_Request");
  v1::RouteResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->Route(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.decision().owner(), "na_enterprise");
  EXPECT_EQ(response.decision().priority().label(), "high");

  *request.mutable_lead() =
      Lead("L-4", "cto@bigco.example", "US", 5000, "demo-request");
  grpc::ClientContext again;
  status = stub_->Route(&again, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              testing::HasSubstr(
                  "attributes.source: \"demo-request\" is not one of the "
                  "enum's values: demo_request, contact_sales, free_trial, "
                  "webinar, ebook, event, partner (did you mean "
                  "demo_request?)"));
}

TEST_F(ServerRulesTest, ExplanationOnRequest) {
  v1::RouteRequest request;
  *request.mutable_lead() = Lead("L-2", "x@small.example", "FR", 20, "ebook");
  request.mutable_options()->set_explain(true);
  request.mutable_options()->add_why_not("emea_commercial");
  v1::RouteResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->Route(&context, request, &response).ok());
  const v1::Decision& d = response.decision();
  EXPECT_EQ(d.owner(), "nurture");
  ASSERT_TRUE(d.has_explanation());
  bool saw_assign = false;
  for (const v1::StageExplanation& s : d.explanation().stages()) {
    if (s.stage() != "assign") continue;
    saw_assign = true;
    EXPECT_EQ(s.rule().rule(), "low_intent_content");
    EXPECT_THAT(
        s.conditions(),
        testing::ElementsAre("source in [ebook, webinar]", "score < 30"));
  }
  EXPECT_TRUE(saw_assign);
  ASSERT_EQ(d.explanation().alternatives_size(), 1);
  EXPECT_EQ(d.explanation().alternatives(0).failed_condition(),
            "not (source == ebook and score < 30)");

  // Not asked: not sent.
  request.mutable_options()->Clear();
  grpc::ClientContext again;
  ASSERT_TRUE(stub_->Route(&again, request, &response).ok());
  EXPECT_FALSE(response.decision().has_explanation());
}

// What a client reads from a failed call: code, message, and the field in
// a google.rpc.BadRequest in the status details.
TEST_F(ServerRulesTest, InvalidLeadsNameTheFieldInBadRequestDetails) {
  using Violation = std::pair<std::string, std::string>;  // field, why
  auto call = [&](const v1::Lead& lead) {
    v1::RouteRequest request;
    *request.mutable_lead() = lead;
    v1::RouteResponse response;
    grpc::ClientContext context;
    return stub_->Route(&context, request, &response);
  };
  auto violation = [](const grpc::Status& s) {
    std::vector<Violation> all = tests::Violations(s);
    return all.size() == 1 ? all[0] : Violation{"?", "?"};
  };

  v1::Lead wrong_type = Lead("L-1", "a@b.example", "US", 10, "webinar");
  (*wrong_type.mutable_attributes())["employees"].set_string_value("many");
  grpc::Status s = call(wrong_type);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "attributes.employees: expected int, got string");
  EXPECT_EQ(violation(s),
            Violation("lead.attributes.employees", "expected int, got string"));

  v1::Lead no_email = Lead("L-2", "", "US", 10, "webinar");
  s = call(no_email);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(violation(s), Violation("lead.attributes.email", "required"));

  v1::Lead bad_enum = Lead("L-3", "a@b.example", "US", 10, "carrier_pigeon");
  s = call(bad_enum);
  EXPECT_EQ(violation(s).first, "lead.attributes.source");

  v1::Lead no_id = Lead("", "a@b.example", "US", 10, "webinar");
  s = call(no_id);
  EXPECT_EQ(violation(s), Violation("lead.id", "must not be empty"));
}

}  // namespace
}  // namespace leadroute
