// Activation through the real server and a real gRPC channel, over a real
// SQLite store in a temporary folder, with the server's clock a FakeClock:
// RecordContact and RecordOutcome with their errors, the sweeper escalating
// on the server's clock, and WatchAssignments resuming after a disconnect
// and after a restart with no event lost or repeated.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "src/server.h"
#include "tests/test_dir.h"

namespace leadroute {
namespace {

constexpr const char* kRules = R"(
ruleset "activation-test" version "1"
schema {
  region: string required
}
rep r1 { }
rep r2 { }
rep boss { }
team pool { members = [r1, r2] strategy = round_robin manager = boss }
queue triage
escalation standard {
  at 80% notify
  at 100% reassign to next_rep else queue triage
}
assign {
  otherwise team pool
}
sla {
  rule slow when region == "slow" then 1d
  otherwise 1h
}
escalate {
  rule fast when region != "slow" then standard
}
)";

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

google::protobuf::Timestamp Proto(absl::Time t) {
  google::protobuf::Timestamp out;
  out.set_seconds(absl::ToUnixSeconds(t));
  return out;
}

// The field a google.rpc.BadRequest in the status names.
std::string BadField(const grpc::Status& s) {
  google::rpc::Status details;
  if (!details.ParseFromString(s.error_details()) ||
      details.details_size() == 0) {
    return "";
  }
  google::rpc::BadRequest bad;
  if (!details.details(0).UnpackTo(&bad) || bad.field_violations_size() == 0) {
    return "";
  }
  return bad.field_violations(0).field();
}

class ActivationServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("activation-svc");
    std::filesystem::create_directories(dir_ / "data");
    std::ofstream(dir_ / "rules.route") << kRules;
    Start();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start(bool with_state = true) {
    auto registry = std::make_shared<RulesetRegistry>();
    CompileOutcome loaded = registry->LoadPath((dir_ / "rules.route").string());
    ASSERT_TRUE(loaded.status.ok()) << loaded.status;
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    if (with_state) options.data_dir = (dir_ / "data").string();
    options.clock = &clock_;
    options.sweep_interval = absl::Milliseconds(20);
    absl::StatusOr<std::unique_ptr<RouterServer>> server =
        RouterServer::Start(options, registry);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->address(),
                                   grpc::InsecureChannelCredentials());
    router_ = v1::LeadRouter::NewStub(channel_);
    assignments_ = v1::Assignments::NewStub(channel_);
  }
  void Restart() {
    server_.reset();
    Start();
  }

  v1::Decision Route(const std::string& id, const std::string& region = "x") {
    grpc::ClientContext context;
    v1::RouteRequest request;
    request.mutable_lead()->set_id(id);
    (*request.mutable_lead()->mutable_attributes())["region"].set_string_value(
        region);
    v1::RouteResponse response;
    grpc::Status s = router_->Route(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.decision();
  }
  v1::Assignment Get(const std::string& id) {
    grpc::ClientContext context;
    v1::GetAssignmentRequest request;
    request.set_lead_id(id);
    v1::GetAssignmentResponse response;
    grpc::Status s = assignments_->GetAssignment(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.assignment();
  }
  grpc::Status Contact(const std::string& id, const std::string& channel,
                       std::optional<absl::Time> at,
                       v1::RecordContactResponse* response) {
    grpc::ClientContext context;
    v1::RecordContactRequest request;
    request.set_lead_id(id);
    request.set_channel(channel);
    if (at) *request.mutable_at() = Proto(*at);
    return assignments_->RecordContact(&context, request, response);
  }
  grpc::Status Outcome(const std::string& id, v1::Outcome outcome,
                       v1::RecordOutcomeResponse* response) {
    grpc::ClientContext context;
    v1::RecordOutcomeRequest request;
    request.set_lead_id(id);
    request.set_outcome(outcome);
    return assignments_->RecordOutcome(&context, request, response);
  }

  // Reads `n` events from a stream opened after `after`, then cancels it.
  std::vector<v1::AssignmentEvent> Watch(uint64_t after, size_t n) {
    grpc::ClientContext context;
    // Only so a broken stream fails the test instead of hanging it.
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    v1::WatchAssignmentsRequest request;
    request.set_after_event_id(after);
    auto reader = assignments_->WatchAssignments(&context, request);
    std::vector<v1::AssignmentEvent> out;
    v1::AssignmentEvent e;
    while (out.size() < n && reader->Read(&e)) out.push_back(e);
    context.TryCancel();
    reader->Finish().IgnoreError();
    EXPECT_EQ(out.size(), n);
    return out;
  }

  std::filesystem::path dir_;
  runtime::FakeClock clock_{At("2026-11-23T10:00:00Z")};
  std::unique_ptr<RouterServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::LeadRouter::Stub> router_;
  std::unique_ptr<v1::Assignments::Stub> assignments_;
};

TEST_F(ActivationServiceTest, ContactAndOutcomesAreRecordedWithTheirSla) {
  v1::Decision d = Route("L1");
  EXPECT_EQ(d.escalation(), "standard");
  EXPECT_EQ(d.owner(), "r1");
  clock_.Advance(absl::Minutes(20));
  v1::RecordContactResponse contact;
  grpc::Status s = Contact("L1", "phone", std::nullopt, &contact);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(contact.assignment().sla_status(), v1::SLA_STATUS_MET);
  EXPECT_EQ(contact.assignment().contact_channel(), "phone");
  EXPECT_EQ(contact.assignment().contacted_by(), "r1");
  EXPECT_EQ(contact.assignment().contacted_at().seconds(),
            absl::ToUnixSeconds(clock_.Now()));
  EXPECT_FALSE(contact.assignment().has_next_escalation_at());

  v1::RecordOutcomeResponse outcome;
  ASSERT_TRUE(Outcome("L1", v1::OUTCOME_OPPORTUNITY, &outcome).ok());
  EXPECT_EQ(outcome.assignment().outcome(), v1::OUTCOME_OPPORTUNITY);
  EXPECT_TRUE(outcome.assignment().has_opportunity_at());
  EXPECT_FALSE(outcome.assignment().has_qualified_at());
  ASSERT_TRUE(Outcome("L1", v1::OUTCOME_LOST, &outcome).ok());
  EXPECT_EQ(outcome.assignment().status(), v1::LEAD_STATUS_CLOSED);

  // Kept across a restart.
  Restart();
  v1::Assignment a = Get("L1");
  EXPECT_EQ(a.outcome(), v1::OUTCOME_LOST);
  EXPECT_EQ(a.sla_status(), v1::SLA_STATUS_MET);
  EXPECT_EQ(a.contact_channel(), "phone");
}

TEST_F(ActivationServiceTest, BadReportsNameTheirField) {
  Route("L1");
  v1::RecordContactResponse contact;
  grpc::Status s =
      Contact("L1", "phone", clock_.Now() + absl::Hours(2), &contact);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(s), "at");
  s = Contact("", "phone", std::nullopt, &contact);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(s), "lead_id");
  s = Contact("nobody", "phone", std::nullopt, &contact);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  v1::RecordOutcomeResponse outcome;
  s = Outcome("L1", v1::OUTCOME_UNSPECIFIED, &outcome);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(s), "outcome");
  s = Outcome("L1", static_cast<v1::Outcome>(42), &outcome);
  EXPECT_EQ(BadField(s), "outcome");
  ASSERT_TRUE(Outcome("L1", v1::OUTCOME_WON, &outcome).ok());
  s = Outcome("L1", v1::OUTCOME_LOST, &outcome);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // A server without state refuses, with the reason; the stream too.
  server_.reset();
  Start(/*with_state=*/false);
  s = Contact("L1", "phone", std::nullopt, &contact);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  grpc::ClientContext context;
  auto reader =
      assignments_->WatchAssignments(&context, v1::WatchAssignmentsRequest());
  v1::AssignmentEvent e;
  EXPECT_FALSE(reader->Read(&e));
  EXPECT_EQ(reader->Finish().error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ActivationServiceTest, TheSweeperEscalatesOnTheServersClock) {
  const absl::Time t0 = clock_.Now();
  Route("L1");          // r1, 1h
  Route("L2", "slow");  // r2, 1d, no escalation
  clock_.Set(t0 + absl::Hours(1) + absl::Seconds(1));
  // The sweeper runs on its own; wait for it (no timing is asserted).
  v1::Assignment a;
  for (int i = 0; i < 1000; ++i) {
    a = Get("L1");
    if (a.owner() != "r1") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(a.owner(), "r2");
  EXPECT_EQ(a.sla_status(), v1::SLA_STATUS_MISSED);
  EXPECT_EQ(a.escalation_hops(), 1);
  ASSERT_EQ(a.had_by_size(), 1);
  EXPECT_EQ(a.had_by(0), "r1");
  EXPECT_EQ(Get("L2").sla_status(), v1::SLA_STATUS_PENDING);

  std::vector<v1::AssignmentEvent> events = Watch(0, 5);
  ASSERT_EQ(events.size(), 5u);
  std::vector<std::string> kinds;
  for (const v1::AssignmentEvent& e : events) {
    kinds.push_back(absl::StrCat(e.lead_id(), " ", e.kind()));
  }
  EXPECT_EQ(kinds[0], "L1 assigned");
  EXPECT_EQ(kinds[1], "L2 assigned");
  EXPECT_EQ(kinds[2], "L1 sla_warning");
  EXPECT_EQ(kinds[3], "L1 sla_missed");
  EXPECT_EQ(kinds[4], "L1 escalated");
  const v1::AssignmentEvent& moved = events[4];
  EXPECT_EQ(moved.from(), "r1");
  EXPECT_EQ(moved.to(), "r2");
  EXPECT_EQ(moved.owner_kind(), v1::OWNER_KIND_REP);
  EXPECT_EQ(moved.team(), "pool");
  EXPECT_EQ(moved.sla().seconds(), 3600);
  EXPECT_EQ(moved.respond_by().seconds(),
            absl::ToUnixSeconds(t0 + absl::Hours(2) + absl::Seconds(1)));
}

TEST_F(ActivationServiceTest, WatchResumesAfterADisconnectAndARestart) {
  // "slow" leads have no escalation: only assignments are streamed.
  for (int i = 0; i < 5; ++i) Route(absl::StrCat("A", i), "slow");
  std::vector<v1::AssignmentEvent> first = Watch(0, 3);
  // Disconnected: more happens meanwhile, across a restart.
  for (int i = 0; i < 5; ++i) Route(absl::StrCat("B", i), "slow");
  Restart();
  for (int i = 0; i < 5; ++i) Route(absl::StrCat("C", i), "slow");

  // Resume after the last event seen, and stay for live ones.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  v1::WatchAssignmentsRequest request;
  request.set_after_event_id(first.back().id());
  auto reader = assignments_->WatchAssignments(&context, request);
  std::vector<std::string> leads;
  for (const v1::AssignmentEvent& e : first) leads.push_back(e.lead_id());
  uint64_t last = first.back().id();
  v1::AssignmentEvent e;
  while (leads.size() < 15 && reader->Read(&e)) {
    EXPECT_GT(e.id(), last);
    last = e.id();
    leads.push_back(e.lead_id());
  }
  // Live: routed while the stream is open.
  std::thread live([&] {
    for (int i = 0; i < 5; ++i) Route(absl::StrCat("D", i), "slow");
  });
  while (leads.size() < 20 && reader->Read(&e)) {
    EXPECT_GT(e.id(), last);
    last = e.id();
    leads.push_back(e.lead_id());
  }
  live.join();
  std::vector<std::string> want;
  for (const char* batch : {"A", "B", "C", "D"}) {
    for (int i = 0; i < 5; ++i) want.push_back(absl::StrCat(batch, i));
  }
  EXPECT_EQ(leads, want);

  // Stopping the server ends the stream at once with UNAVAILABLE, rather
  // than waiting out the grace period and cancelling it.
  server_->Shutdown(absl::Seconds(60));
  EXPECT_FALSE(reader->Read(&e));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace leadroute
