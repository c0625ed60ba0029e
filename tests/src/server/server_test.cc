// The real server on an ephemeral loopback port, called through a real gRPC
// channel: Route and RouteBatch (with malformed leads and requests), health.
// Reflection is checked from Python in tests/contract, as a generic tool sees
// it.
#include "src/server/server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <future>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "runtime/fixed_policy.h"
#include "tests/src/server/grpc_test_util.h"

namespace leadroute {
namespace {

using testing::HasSubstr;

ServerOptions Listen(const std::string& address) {
  ServerOptions options;
  options.listen = address;
  return options;
}

class ServerTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RouterServer>> server = RouterServer::Start(
        Listen("127.0.0.1:0"), std::make_shared<runtime::FixedPolicy>());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->address(),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::LeadRouter::NewStub(channel_);
  }

  static v1::Lead MakeLead(const std::string& id, const std::string& source) {
    v1::Lead lead;
    lead.set_id(id);
    (*lead.mutable_attributes())["source"].set_string_value(source);
    return lead;
  }

  // Calls LeadRouter's `method` with `bytes` as the request, as no client
  // library would; parses a successful answer into `out`.
  grpc::Status CallRaw(const std::string& method, const std::string& bytes,
                       google::protobuf::Message* out) {
    grpc::GenericStub generic(channel_);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::ClientContext context;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, "/leadroute.v1.LeadRouter/" + method,
                      grpc::StubOptions(), &request, &response,
                      [&done](grpc::Status s) { done.set_value(s); });
    grpc::Status status = done.get_future().get();
    std::vector<grpc::Slice> slices;
    std::string answer;
    if (status.ok() && response.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        answer.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    EXPECT_TRUE(out->ParseFromString(answer));
    return status;
  }

  std::unique_ptr<RouterServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::LeadRouter::Stub> stub_;
};

TEST_F(ServerTest, BindsAnEphemeralLoopbackPort) {
  EXPECT_GT(server_->port(), 0);
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(ServerTest, RouteReturnsTheDecision) {
  v1::RouteRequest request;
  *request.mutable_lead() = MakeLead("L-1", "demo_request");
  request.mutable_options()->mutable_received_at()->set_seconds(1700000000);
  v1::RouteResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->Route(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::Decision& d = response.decision();
  EXPECT_EQ(d.lead_id(), "L-1");
  EXPECT_EQ(d.owner(), "inbound");
  EXPECT_EQ(d.owner_kind(), v1::OWNER_KIND_QUEUE);
  EXPECT_EQ(d.priority().label(), "high");
  EXPECT_EQ(d.sla().seconds(), 3600);
  EXPECT_EQ(d.respond_by().seconds(), 1700000000 + 3600);
  EXPECT_EQ(d.channel(), "phone");
  EXPECT_EQ(d.ruleset().name(), "builtin");
  EXPECT_EQ(d.decided_by_size(), 4);
}

TEST_F(ServerTest, RouteRejectsAMalformedLeadNamingTheField) {
  v1::RouteRequest request;
  *request.mutable_lead() = MakeLead("", "demo_request");
  v1::RouteResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->Route(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("id: must not be empty"));
}

TEST_F(ServerTest, RouteRejectsARequestWithoutALead) {
  v1::RouteResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->Route(&context, v1::RouteRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("lead: required"));
}

TEST_F(ServerTest, BatchAnswersInOrderAndFailsOnlyTheBadLead) {
  v1::RouteBatchRequest request;
  *request.add_leads() = MakeLead("L-1", "demo_request");
  v1::Lead bad = MakeLead("L-2", "ebook");
  (*bad.mutable_attributes())["score"].set_string_value("hot");
  *request.add_leads() = bad;
  *request.add_leads() = MakeLead("L-3", "ebook");
  v1::RouteBatchResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->RouteBatch(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 3);

  ASSERT_TRUE(response.results(0).has_decision());
  EXPECT_EQ(response.results(0).decision().lead_id(), "L-1");
  EXPECT_EQ(response.results(0).decision().priority().label(), "high");

  ASSERT_TRUE(response.results(1).has_error());
  const v1::Error& error = response.results(1).error();
  EXPECT_EQ(error.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(error.lead_id(), "L-2");
  EXPECT_EQ(error.field(), "attributes.score");
  EXPECT_THAT(error.message(), HasSubstr("expected int, got string"));

  ASSERT_TRUE(response.results(2).has_decision());
  EXPECT_EQ(response.results(2).decision().lead_id(), "L-3");
  EXPECT_EQ(response.results(2).decision().priority().label(), "normal");
}

// RouteBatch reads its request's bytes itself: bytes a client library
// would never send fail the one lead they belong to, or, when they are not
// a request at all, the call, as INVALID_ARGUMENT.
TEST_F(ServerTest, BatchBytesThatAreNotALeadFailOnlyThatLead) {
  auto call = [this](const std::string& bytes, v1::RouteBatchResponse* out) {
    return CallRaw("RouteBatch", bytes, out);
  };
  auto lead_field = [](const std::string& bytes) {
    EXPECT_LT(bytes.size(), 128u) << "a one-byte length is written";
    std::string out = "\x0a";  // RouteBatchRequest.leads
    out.push_back(static_cast<char>(bytes.size()));
    return out + bytes;
  };
  const std::string good = MakeLead("L-1", "demo_request").SerializeAsString();
  const std::string cut = good.substr(0, good.size() - 3);
  const std::string not_utf8 = "\x0a\x03L-\xff";  // Lead.id
  v1::RouteBatchResponse response;
  ASSERT_TRUE(
      call(lead_field(good) + lead_field(cut) + lead_field(not_utf8), &response)
          .ok());
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_EQ(response.results(0).decision().priority().label(), "high");
  EXPECT_EQ(response.results(1).error().code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(response.results(1).error().message(),
              HasSubstr("not a valid leadroute.v1.Lead message"));
  EXPECT_EQ(response.results(2).error().field(), "id");
  EXPECT_THAT(response.results(2).error().message(),
              HasSubstr("not valid UTF-8"));

  // A request whose first field runs past its end is not a request.
  grpc::Status status = call("\x0a\x50L-1", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("not a valid leadroute.v1.RouteBatchRequest"));
}

// Route reads its request's bytes itself too: a lead that is not one fails
// naming its field inside the lead, bytes that are not a request fail the
// call, and a lead given twice (which protobuf would merge) is refused.
TEST_F(ServerTest, RouteBytesThatAreNotARequestFailTheCall) {
  const std::string good = MakeLead("L-1", "demo_request").SerializeAsString();
  auto lead_field = [](const std::string& bytes) {
    EXPECT_LT(bytes.size(), 128u) << "a one-byte length is written";
    std::string out = "\x0a";  // RouteRequest.lead
    out.push_back(static_cast<char>(bytes.size()));
    return out + bytes;
  };
  v1::RouteResponse response;
  ASSERT_TRUE(CallRaw("Route", lead_field(good), &response).ok());
  EXPECT_EQ(response.decision().lead_id(), "L-1");
  EXPECT_EQ(response.decision().priority().label(), "high");

  grpc::Status status =
      CallRaw("Route", lead_field("\x0a\x03L-\xff"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(tests::Violations(status).size(), 1u);
  EXPECT_EQ(tests::Violations(status)[0].first, "lead.id");
  EXPECT_THAT(status.error_message(), HasSubstr("not valid UTF-8"));

  status = CallRaw("Route", "\x0a\x50L-1", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("not a valid leadroute.v1.RouteRequest"));

  status = CallRaw("Route", lead_field(good) + lead_field(good), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("lead: given 2 times"));
  ASSERT_EQ(tests::Violations(status).size(), 1u);
  EXPECT_EQ(tests::Violations(status)[0].first, "lead");
}

TEST_F(ServerTest, EmptyBatchIsAnEmptyAnswer) {
  v1::RouteBatchResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(
      stub_->RouteBatch(&context, v1::RouteBatchRequest(), &response).ok());
  EXPECT_EQ(response.results_size(), 0);
}

TEST_F(ServerTest, HealthReportsServingForServerAndService) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const char* service : {"", "leadroute.v1.LeadRouter"}) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(health->Check(&context, request, &response).ok()) << service;
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING)
        << service;
  }
}

TEST_F(ServerTest, ShutdownStopsAnsweringAndIsIdempotent) {
  server_->Shutdown(absl::Seconds(1));
  server_->Shutdown(absl::Seconds(1));
  v1::RouteRequest request;
  *request.mutable_lead() = MakeLead("L-1", "ebook");
  v1::RouteResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(2));
  EXPECT_FALSE(stub_->Route(&context, request, &response).ok());
}

TEST(ServerStartTest, APortInUseIsAClearError) {
  absl::StatusOr<std::unique_ptr<RouterServer>> first = RouterServer::Start(
      Listen("127.0.0.1:0"), std::make_shared<runtime::FixedPolicy>());
  ASSERT_TRUE(first.ok());
  absl::StatusOr<std::unique_ptr<RouterServer>> second = RouterServer::Start(
      Listen((*first)->address()), std::make_shared<runtime::FixedPolicy>());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr((*first)->address()));
}

}  // namespace
}  // namespace leadroute
