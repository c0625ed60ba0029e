// The service's guard rails through a real channel: batch, message and lead
// size limits, deadlines, decision ids, the admin HTTP port and the decision
// log.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "leadroute/v1/replica.grpc.pb.h"
#include "runtime/fixed_policy.h"
#include "src/server/server.h"
#include "tests/src/server/grpc_test_util.h"

namespace leadroute {
namespace {

using testing::HasSubstr;
using Violation = std::pair<std::string, std::string>;

v1::Lead MakeLead(const std::string& id, const std::string& source) {
  v1::Lead lead;
  lead.set_id(id);
  (*lead.mutable_attributes())["source"].set_string_value(source);
  return lead;
}

class LimitsTest : public testing::Test {
 protected:
  void Start(ServerOptions options) {
    options.listen = "127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<RouterServer>> server =
        RouterServer::Start(options, std::make_shared<runtime::FixedPolicy>());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::LeadRouter::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  grpc::Status Batch(const v1::RouteBatchRequest& request,
                     v1::RouteBatchResponse* response) {
    grpc::ClientContext context;
    return stub_->RouteBatch(&context, request, response);
  }

  std::unique_ptr<RouterServer> server_;
  std::unique_ptr<v1::LeadRouter::Stub> stub_;
};

TEST_F(LimitsTest, ABatchOverTheLimitIsRejectedNamingLeads) {
  ServerOptions options;
  options.limits.max_batch_leads = 3;
  Start(options);
  v1::RouteBatchRequest request;
  for (int i = 0; i < 3; ++i) *request.add_leads() = MakeLead("L", "ebook");
  v1::RouteBatchResponse response;
  ASSERT_TRUE(Batch(request, &response).ok());
  EXPECT_EQ(response.results_size(), 3);

  *request.add_leads() = MakeLead("L", "ebook");
  response.Clear();
  grpc::Status s = Batch(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(
      tests::Violations(s),
      testing::ElementsAre(Violation(
          "leads", "4 leads; a batch may have at most 3 (--max-batch)")));
  EXPECT_EQ(response.results_size(), 0);
}

// RouteMany (the Route calls a follower sends the writer at once) is held
// to --max-batch like a batch, and each route is answered as a Route call
// of its own: a bad one fails alone, with Route's status and field.
TEST_F(LimitsTest, RouteManyIsBoundedByMaxBatchAndEachRouteFailsAlone) {
  ServerOptions options;
  options.limits.max_batch_leads = 3;
  Start(options);
  auto writer = v1::Writer::NewStub(grpc::CreateChannel(
      server_->address(), grpc::InsecureChannelCredentials()));
  v1::RouteRequest good;
  *good.mutable_lead() = MakeLead("M1", "ebook");
  v1::RouteManyRequest request;
  request.add_routes(good.SerializeAsString());
  request.add_routes("");  // a RouteRequest without its lead
  good.mutable_lead()->set_id("M2");
  request.add_routes(good.SerializeAsString());
  v1::RouteManyResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(writer->RouteMany(&context, request, &response).ok());
  }
  ASSERT_EQ(response.results_size(), 3);
  for (int i : {0, 2}) {
    EXPECT_EQ(response.results(i).code(), 0);
    v1::RouteResponse answer;
    ASSERT_TRUE(answer.ParseFromString(response.results(i).response()));
    EXPECT_EQ(answer.decision().lead_id(), i == 0 ? "M1" : "M2");
  }
  const v1::RouteManyResult& bad = response.results(1);
  EXPECT_EQ(bad.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_TRUE(bad.response().empty());
  EXPECT_THAT(tests::Violations(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                             bad.message(), bad.details())),
              testing::ElementsAre(Violation("lead", "required")));

  request.add_routes(good.SerializeAsString());
  response.Clear();
  grpc::ClientContext context;
  grpc::Status s = writer->RouteMany(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(tests::Violations(s),
              testing::ElementsAre(Violation(
                  "routes", "4 routes; at most 3 a call (--max-batch)")));
  EXPECT_EQ(response.results_size(), 0);
}

// An explanation is many times its lead's size: a batch that asks for them
// is bounded apart, and so are the why_not names each lead is explained
// against (checked once a call, before any lead is routed).
TEST_F(LimitsTest, ExplanationsAreBoundedPerBatchAndWhyNotNamesPerCall) {
  ServerOptions options;
  options.limits.max_explained_leads = 2;
  Start(options);
  v1::RouteBatchRequest request;
  for (int i = 0; i < 3; ++i) {
    *request.add_leads() = MakeLead(absl::StrCat("E", i), "ebook");
  }
  v1::RouteBatchResponse response;
  ASSERT_TRUE(Batch(request, &response).ok());
  request.mutable_options()->set_explain(true);
  grpc::Status s = Batch(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(tests::Violations(s),
              testing::ElementsAre(Violation(
                  "options.explain",
                  "3 leads to explain; a batch that asks for explanations may "
                  "have at most 2 (--max-explained-leads)")));
  request.mutable_leads()->RemoveLast();
  EXPECT_TRUE(Batch(request, &response).ok());

  v1::RouteRequest one;
  *one.mutable_lead() = MakeLead("W", "ebook");
  for (int i = 0; i < 17; ++i) one.mutable_options()->add_why_not("r");
  v1::RouteResponse answer;
  grpc::ClientContext context;
  s = stub_->Route(&context, one, &answer);
  EXPECT_THAT(tests::Violations(s),
              testing::ElementsAre(
                  Violation("options.why_not", "17 names; at most 16 a call")));
  one.mutable_options()->clear_why_not();
  one.mutable_options()->add_why_not(std::string(300, 'r'));
  grpc::ClientContext again;
  s = stub_->Route(&again, one, &answer);
  EXPECT_THAT(
      tests::Violations(s),
      testing::ElementsAre(Violation(
          "options.why_not[0]", "300 bytes; a rule name has at most 256")));
}

TEST_F(LimitsTest, AMessageOverTheLimitIsResourceExhausted) {
  ServerOptions options;
  options.max_message_bytes = 4096;
  options.limits.max_lead_bytes = 1 << 20;
  Start(options);
  v1::RouteRequest request;
  *request.mutable_lead() = MakeLead("L-1", "ebook");
  (*request.mutable_lead()->mutable_attributes())["notes"].set_string_value(
      std::string(5000, 'x'));
  v1::RouteResponse response;
  grpc::ClientContext context;
  grpc::Status s = stub_->Route(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The server is unharmed.
  request.mutable_lead()->mutable_attributes()->erase("notes");
  grpc::ClientContext again;
  EXPECT_TRUE(stub_->Route(&again, request, &response).ok());
}

TEST_F(LimitsTest, AnOversizedLeadNamesItsLargestAttribute) {
  ServerOptions options;
  options.limits.max_lead_bytes = 1000;
  Start(options);
  v1::Lead big = MakeLead("L-big", "ebook");
  (*big.mutable_attributes())["notes"].set_string_value(std::string(2000, 'x'));

  v1::RouteRequest request;
  *request.mutable_lead() = big;
  v1::RouteResponse response;
  grpc::ClientContext context;
  grpc::Status s = stub_->Route(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(tests::Violations(s).size(), 1u);
  EXPECT_EQ(tests::Violations(s)[0].first, "lead.attributes.notes");
  EXPECT_THAT(s.error_message(),
              HasSubstr("over the limit of 1000; its largest field is this "
                        "one, 2005 bytes"));

  // In a batch it fails alone.
  v1::RouteBatchRequest batch;
  *batch.add_leads() = MakeLead("L-1", "ebook");
  *batch.add_leads() = big;
  v1::RouteBatchResponse results;
  ASSERT_TRUE(Batch(batch, &results).ok());
  ASSERT_EQ(results.results_size(), 2);
  EXPECT_TRUE(results.results(0).has_decision());
  ASSERT_TRUE(results.results(1).has_error());
  EXPECT_EQ(results.results(1).error().field(), "attributes.notes");
  EXPECT_EQ(results.results(1).error().lead_id(), "L-big");
}

TEST_F(LimitsTest, DecisionsCarryUniqueIdsAndTheRevision) {
  Start(ServerOptions());
  v1::RouteBatchRequest request;
  for (int i = 0; i < 50; ++i) {
    *request.add_leads() = MakeLead(absl::StrCat("L-", i), "ebook");
  }
  v1::RouteBatchResponse response;
  ASSERT_TRUE(Batch(request, &response).ok());
  std::set<std::string> ids;
  for (const v1::RouteResult& r : response.results()) {
    const std::string& id = r.decision().decision_id();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(id);
    EXPECT_EQ(r.decision().ruleset().revision(), 1);
  }
  EXPECT_EQ(ids.size(), 50u);
}

TEST_F(LimitsTest, AdminHttpServesMetricsHealthAndStatus) {
  ServerOptions options;
  options.admin_listen = "127.0.0.1:0";
  Start(options);
  const std::string http = server_->admin_address();
  ASSERT_FALSE(http.empty());

  v1::RouteBatchRequest request;
  *request.add_leads() = MakeLead("L-1", "demo_request");
  *request.add_leads() = MakeLead("L-2", "ebook");
  v1::Lead bad = MakeLead("L-3", "ebook");
  (*bad.mutable_attributes())["score"].set_string_value("hot");
  *request.add_leads() = bad;
  v1::RouteBatchResponse response;
  ASSERT_TRUE(Batch(request, &response).ok());
  v1::RouteResponse one;
  grpc::ClientContext context;
  EXPECT_FALSE(stub_->Route(&context, v1::RouteRequest(), &one).ok());

  auto [code, metrics] = tests::HttpGet(http, "/metrics");
  EXPECT_EQ(code, 200);
  EXPECT_THAT(metrics, HasSubstr("leadroute_leads_total{revision=\"1\","
                                 "outcome=\"queued\"} 2\n"));
  EXPECT_THAT(metrics, HasSubstr("leadroute_leads_total{revision=\"1\","
                                 "outcome=\"rejected\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("leadroute_calls_total{method=\"RouteBatch\","
                                 "code=\"OK\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("leadroute_calls_total{method=\"Route\","
                                 "code=\"INVALID_ARGUMENT\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("leadroute_call_duration_seconds_count{"
                                 "method=\"RouteBatch\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("leadroute_call_duration_seconds_bucket{"
                                 "method=\"RouteBatch\",le=\"+Inf\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("leadroute_ruleset_live_revision 1\n"));
  EXPECT_THAT(metrics, HasSubstr("leadroute_batch_leads_total 3\n"));

  EXPECT_EQ(tests::HttpGet(http, "/healthz"),
            std::make_pair(200, std::string("serving revision 1\n")));
  auto [status_code, status] = tests::HttpGet(http, "/status");
  EXPECT_EQ(status_code, 200);
  const nlohmann::json j = nlohmann::json::parse(status);
  EXPECT_EQ(j["live"]["revision"], 1);
  EXPECT_EQ(j["live"]["origin"], "builtin");
  EXPECT_TRUE(j["last_reload_error"].is_null());
  EXPECT_EQ(tests::HttpGet(http, "/nope").first, 404);
}

// Requests that never finish arriving hold a worker each until civetweb's
// request timeout; /healthz is answered meanwhile (with two workers, as
// before, it waited for them).
TEST_F(LimitsTest, AdminHttpAnswersHealthWhileRequestsHang) {
  ServerOptions options;
  options.admin_listen = "127.0.0.1:0";
  Start(options);
  const std::string http = server_->admin_address();
  const int port = std::stoi(http.substr(http.rfind(':') + 1));
  std::vector<int> hanging;
  absl::Cleanup close_all = [&] {
    for (int fd : hanging) close(fd);
  };
  for (int i = 0; i < 8; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    hanging.push_back(fd);
    const std::string half = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    ASSERT_EQ(write(fd, half.data(), half.size()),
              static_cast<ssize_t>(half.size()));
  }
  EXPECT_EQ(tests::HttpGet(http, "/healthz", "", /*timeout_seconds=*/3).first,
            200);
}

TEST_F(LimitsTest, TheDecisionLogRecordsEachRoutedLead) {
  const std::string path =
      testing::TempDir() + "/decisions-" + std::to_string(getpid()) + ".jsonl";
  std::filesystem::remove(path);
  ServerOptions options;
  options.decision_log.path = path;
  options.attributes.mask = {"email"};
  Start(options);

  v1::RouteBatchRequest request;
  v1::Lead lead = MakeLead("L-1", "demo_request");
  (*lead.mutable_attributes())["email"].set_string_value("ana@example.com");
  (*lead.mutable_attributes())["score"].set_int_value(80);
  *request.add_leads() = lead;
  *request.add_leads() = MakeLead("", "ebook");  // rejected: not logged
  *request.add_leads() = MakeLead("L-3", "ebook");
  v1::RouteBatchResponse response;
  ASSERT_TRUE(Batch(request, &response).ok());
  server_->Shutdown(absl::Seconds(5));  // writes the log out

  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(lines.size(), 2u);
  const nlohmann::json& first = lines[0];
  EXPECT_EQ(first["lead_id"], "L-1");
  EXPECT_EQ(first["decision_id"], response.results(0).decision().decision_id());
  EXPECT_EQ(first["ruleset"]["revision"], 1);
  EXPECT_EQ(first["owner"], "inbound");
  EXPECT_EQ(first["owner_kind"], "queue");
  EXPECT_EQ(first["priority"], "high");
  EXPECT_EQ(first["sla_seconds"], 3600);
  // The built-in policy declares no schema, so no attribute is written
  // (AuthServerTest.RepeatLinksAndLoggedLeadsStayPrivate logs declared
  // ones, masked).
  EXPECT_EQ(first["attributes"], nlohmann::json::object());
  EXPECT_EQ(std::filesystem::status(path).permissions() &
                std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  EXPECT_EQ(first["decided_by"].size(), 4u);
  EXPECT_EQ(lines[1]["lead_id"], "L-3");
  std::filesystem::remove(path);
}

TEST(DecisionLogTest, AnUnwritablePathIsAClearError) {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.decision_log.path = "/nonexistent-dir/decisions.jsonl";
  absl::StatusOr<std::unique_ptr<RouterServer>> server =
      RouterServer::Start(options, std::make_shared<runtime::FixedPolicy>());
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()),
              HasSubstr("/nonexistent-dir/decisions.jsonl"));
}

}  // namespace
}  // namespace leadroute
