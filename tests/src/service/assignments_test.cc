// Stateful routing through the real server and a real gRPC channel, over a
// real SQLite store in a temporary folder: reps picked from teams, retries
// replayed, the Assignments service, restarts; and a `leadroute serve`
// child process killed with SIGKILL in the middle of a load.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "leadroute/v1/replica.grpc.pb.h"
#include "runtime/sqlite_store.h"
#include "src/server/server.h"
#include "tests/child_process.h"
#include "tests/runtime/forwarding_store.h"
#include "tests/src/server/grpc_test_util.h"
#include "tests/src/server/state_server_fixture.h"
#include "tests/test_dir.h"

namespace leadroute {
namespace {

constexpr const char* kRules = R"(
ruleset "state-test" version "1"
schema {
  email: string
  region: string required
}
rep ana { timezone = "Europe/Paris" hours = mon-fri 09:00-18:00 }
rep ben { timezone = "Europe/Paris" hours = mon-fri 09:00-18:00 }
rep cy { timezone = "America/New_York" hours = mon-fri 09:00-17:00 capacity = 2 }
rep r1 { }
rep r2 { }
rep r3 { }
team emea { members = [ana, ben] strategy = round_robin }
team us { members = [cy] }
team pool { members = [r1, r2, r3] strategy = round_robin }
queue later
assign {
  rule emea when region == "emea" then team emea else team us else queue later
  rule pool when region == "pool" then team pool
  otherwise queue later
}
)";

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

v1::Lead Lead(const std::string& id, const std::string& region,
              const std::string& email = "") {
  v1::Lead lead;
  lead.set_id(id);
  (*lead.mutable_attributes())["region"].set_string_value(region);
  if (!email.empty()) {
    (*lead.mutable_attributes())["email"].set_string_value(email);
  }
  return lead;
}

class AssignmentsTest : public testing_util::StateServerFixture {
 protected:
  void SetUp() override { SetUpServer("assignments", kRules); }
  void Configure(ServerOptions* options) override {
    if (lead_cache_ > 0) {
      options->assigner.lead_cache = lead_cache_;
      options->admin_listen = "127.0.0.1:0";
    }
    if (max_response_bytes_ > 0) {
      options->limits.max_response_bytes = max_response_bytes_;
    }
    if (held_ != nullptr) {
      options->wrap_store = [held = held_](auto real) {
        return std::make_unique<runtime::HeldStore>(std::move(real), held);
      };
    }
  }

  v1::Decision Route(const v1::Lead& lead, bool reroute = false) {
    grpc::ClientContext context;
    v1::RouteRequest request;
    *request.mutable_lead() = lead;
    request.mutable_options()->set_reroute(reroute);
    v1::RouteResponse response;
    grpc::Status s = router_->Route(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.decision();
  }

  // Set before Start: commits go through a HeldStore it controls.
  std::shared_ptr<runtime::HeldStore::Control> held_;
  // Set before Start: the working set's size (serve --lead-cache), and an
  // admin port for /metrics.
  size_t lead_cache_ = 0;
  // Set before Start: serve --max-response-bytes.
  size_t max_response_bytes_ = 0;
};

// With a working set of 4 leads, every lead routed is still answered
// through the API — retries, lookups, repeats, changes — from the store,
// before and after a restart, and /metrics shows the set stays small.
TEST_F(AssignmentsTest, ASmallWorkingSetStillAnswersEveryLead) {
  lead_cache_ = 4;
  Restart();
  std::map<std::string, std::string> owners;
  for (int i = 0; i < 40; ++i) {
    const std::string id = absl::StrCat("W", i);
    owners[id] =
        Route(Lead(id, "pool", absl::StrCat("p", i, "@example.com"))).owner();
  }
  auto working_set = [&] {
    const std::string metrics =
        tests::HttpGet(server_->admin_address(), "/metrics").second;
    const size_t at = metrics.find("\nleadroute_working_set_leads ");
    EXPECT_NE(at, std::string::npos) << metrics;
    return at == std::string::npos
               ? -1
               : std::atoi(metrics.c_str() + at +
                           std::strlen("\nleadroute_working_set_leads "));
  };
  EXPECT_LE(working_set(), 5);
  auto check = [&] {
    for (const auto& [id, owner] : owners) {
      grpc::ClientContext c;
      v1::GetAssignmentRequest req;
      req.set_lead_id(id);
      v1::GetAssignmentResponse resp;
      ASSERT_TRUE(assignments_->GetAssignment(&c, req, &resp).ok()) << id;
      EXPECT_EQ(resp.assignment().owner(), owner) << id;
      v1::Decision retry = Route(Lead(id, "pool"));
      EXPECT_TRUE(retry.replayed()) << id;
      EXPECT_EQ(retry.owner(), owner) << id;
    }
  };
  check();
  EXPECT_LE(working_set(), 5);
  v1::Decision repeat = Route(Lead("again", "pool", "P0@example.com"));
  EXPECT_EQ(repeat.owner(), owners["W0"]);
  EXPECT_EQ(repeat.repeat_of(), "W0");
  owners["again"] = repeat.owner();
  {
    grpc::ClientContext c;
    v1::CloseLeadRequest req;
    req.set_lead_id("W1");
    v1::CloseLeadResponse resp;
    ASSERT_TRUE(assignments_->CloseLead(&c, req, &resp).ok());
    EXPECT_EQ(resp.assignment().status(), v1::LEAD_STATUS_CLOSED);
  }
  Restart();
  check();
}

TEST_F(AssignmentsTest, RouteNamesARepOfTheTeamAndReplaysRetries) {
  v1::Decision d = Route(Lead("L1", "emea"));
  EXPECT_EQ(d.owner(), "ana");
  EXPECT_EQ(d.owner_kind(), v1::OWNER_KIND_REP);
  EXPECT_EQ(d.team(), "emea");
  EXPECT_FALSE(d.replayed());
  EXPECT_TRUE(d.has_decided_at());
  EXPECT_EQ(Route(Lead("L2", "emea")).owner(), "ben");
  v1::Decision retry = Route(Lead("L1", "emea"));
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.owner(), "ana");
  EXPECT_EQ(retry.decision_id(), d.decision_id());
  EXPECT_EQ(Route(Lead("L3", "emea")).owner(), "ana");  // no turn taken
  // 22:00 in Paris, 16:00 in New York: follow the sun.
  clock_.Set(At("2026-11-23T21:00:00Z"));
  v1::Decision late = Route(Lead("L4", "emea"));
  EXPECT_EQ(late.owner(), "cy");
  EXPECT_EQ(late.team(), "us");
  ASSERT_EQ(late.skipped_size(), 2);
  EXPECT_EQ(late.skipped(0),
            "choice 1 of 3: team emea: ana outside working hours (Mon 22:00 "
            "Europe/Paris)");
  // A restart keeps all of it.
  Restart();
  v1::Decision after = Route(Lead("L2", "emea"));
  EXPECT_TRUE(after.replayed());
  EXPECT_EQ(after.owner(), "ben");
  v1::Decision moved = Route(Lead("L2", "emea"), /*reroute=*/true);
  EXPECT_FALSE(moved.replayed());
  EXPECT_EQ(moved.owner(), "cy");  // Paris is closed now
}

TEST_F(AssignmentsTest, LifecycleCallsChangeLoadAndAreRecorded) {
  ASSERT_EQ(Route(Lead("L1", "pool")).owner(), "r1");
  ASSERT_EQ(Route(Lead("L2", "pool")).owner(), "r2");
  {
    grpc::ClientContext c;
    v1::GetAssignmentRequest req;
    req.set_lead_id("L1");
    v1::GetAssignmentResponse resp;
    ASSERT_TRUE(assignments_->GetAssignment(&c, req, &resp).ok());
    EXPECT_EQ(resp.assignment().owner(), "r1");
    EXPECT_EQ(resp.assignment().status(), v1::LEAD_STATUS_OPEN);
  }
  {
    grpc::ClientContext c;
    v1::CloseLeadRequest req;
    req.set_lead_id("L1");
    req.set_reason("won");
    v1::CloseLeadResponse resp;
    ASSERT_TRUE(assignments_->CloseLead(&c, req, &resp).ok());
    EXPECT_EQ(resp.assignment().status(), v1::LEAD_STATUS_CLOSED);
    EXPECT_TRUE(resp.assignment().has_ended_at());
  }
  {
    grpc::ClientContext c;
    v1::ReleaseLeadRequest req;
    req.set_lead_id("L1");
    v1::ReleaseLeadResponse resp;
    grpc::Status s = assignments_->ReleaseLead(&c, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }
  {
    grpc::ClientContext c;
    v1::ReassignRequest req;
    req.set_lead_id("L2");
    req.set_rep("r3");
    req.set_reason("speaks Portuguese");
    v1::ReassignResponse resp;
    ASSERT_TRUE(assignments_->Reassign(&c, req, &resp).ok());
    EXPECT_EQ(resp.assignment().owner(), "r3");
  }
  {
    grpc::ClientContext c;
    v1::ReassignRequest req;
    req.set_lead_id("L2");
    req.set_team("nope");
    v1::ReassignResponse resp;
    grpc::Status s = assignments_->Reassign(&c, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(tests::Violations(s)[0].first, "team");
  }
  {
    grpc::ClientContext c;
    v1::SetRepStatusRequest req;
    req.set_rep("r1");
    req.set_availability(v1::REP_AVAILABILITY_OUT_OF_OFFICE);
    v1::SetRepStatusResponse resp;
    grpc::Status s = assignments_->SetRepStatus(&c, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(tests::Violations(s)[0].first, "until");
  }
  {
    grpc::ClientContext c;
    v1::SetRepStatusRequest req;
    req.set_rep("zed");
    req.set_availability(v1::REP_AVAILABILITY_AWAY);
    v1::SetRepStatusResponse resp;
    grpc::Status s = assignments_->SetRepStatus(&c, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(tests::Violations(s)[0].first, "rep");
  }
  {
    // Away until a time that has passed would be available at once.
    grpc::ClientContext c;
    v1::SetRepStatusRequest req;
    req.set_rep("r3");
    req.set_availability(v1::REP_AVAILABILITY_AWAY);
    req.mutable_until()->set_seconds(
        absl::ToUnixSeconds(clock_.Now() - absl::Minutes(1)));
    v1::SetRepStatusResponse resp;
    grpc::Status s = assignments_->SetRepStatus(&c, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(tests::Violations(s)[0].first, "until");
    EXPECT_THAT(s.error_message(), testing::HasSubstr("has passed"));
  }
  {
    grpc::ClientContext c;
    v1::SetRepStatusRequest req;
    req.set_rep("r3");
    req.set_availability(v1::REP_AVAILABILITY_OUT_OF_OFFICE);
    req.mutable_until()->set_seconds(
        absl::ToUnixSeconds(clock_.Now() + absl::Hours(24)));
    req.set_note("offsite");
    v1::SetRepStatusResponse resp;
    ASSERT_TRUE(assignments_->SetRepStatus(&c, req, &resp).ok());
    EXPECT_FALSE(resp.rep().can_take_leads());
    EXPECT_EQ(resp.rep().open_leads(), 1);
  }
  EXPECT_EQ(Route(Lead("L3", "pool")).owner(), "r1");  // after r2, r3 away
  {
    grpc::ClientContext c;
    v1::ListRepsResponse resp;
    ASSERT_TRUE(assignments_->ListReps(&c, v1::ListRepsRequest(), &resp).ok());
    std::map<std::string, int64_t> open;
    for (const v1::RepState& r : resp.reps()) open[r.rep()] = r.open_leads();
    EXPECT_EQ(open["r1"], 1);  // L1 closed, L3 open
    EXPECT_EQ(open["r2"], 0);  // L2 moved away
    EXPECT_EQ(open["r3"], 1);
  }
  server_.reset();  // the store, as `leadroute state` reads it
  auto store = runtime::SqliteStore::OpenReadOnly(
      (dir_ / "data" / runtime::SqliteStore::kFileName).string());
  ASSERT_TRUE(store.ok()) << store.status();
  auto history = (*store)->History("L2");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].kind, "reassigned");
  EXPECT_EQ((*history)[1].reason, "speaks Portuguese");
  Start();
}

// A reason, a note or a name goes into the lead's history, the audit trail
// and every event stream: over its bound it is refused, naming the field,
// and nothing is stored.
TEST_F(AssignmentsTest, OversizedStringsAreRefusedNamingTheField) {
  ASSERT_EQ(Route(Lead("L1", "pool")).owner(), "r1");
  {
    grpc::ClientContext c;
    v1::ReleaseLeadRequest req;
    req.set_lead_id("L1");
    req.set_reason(std::string(15 << 20, 'r'));
    v1::ReleaseLeadResponse resp;
    grpc::Status s = assignments_->ReleaseLead(&c, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(tests::Violations(s),
                testing::ElementsAre(std::make_pair(
                    std::string("reason"),
                    std::string("15728640 bytes; at most 1024"))));
  }
  {
    grpc::ClientContext c;
    v1::SetRepStatusRequest req;
    req.set_rep("r2");
    req.set_availability(v1::REP_AVAILABILITY_AWAY);
    req.set_note(std::string(1025, 'n'));
    v1::SetRepStatusResponse resp;
    grpc::Status s = assignments_->SetRepStatus(&c, req, &resp);
    EXPECT_EQ(tests::Violations(s).at(0).first, "note");
  }
  {
    grpc::ClientContext c;
    v1::ReassignRequest req;
    req.set_lead_id("L1");
    req.set_rep(std::string(300, 'x'));
    v1::ReassignResponse resp;
    grpc::Status s = assignments_->Reassign(&c, req, &resp);
    EXPECT_THAT(
        tests::Violations(s),
        testing::ElementsAre(std::make_pair(
            std::string("rep"), std::string("300 bytes; at most 256"))));
  }
  {
    grpc::ClientContext c;
    v1::RecordContactRequest req;
    req.set_lead_id("L1");
    req.set_channel(std::string(257, 'c'));
    v1::RecordContactResponse resp;
    grpc::Status s = assignments_->RecordContact(&c, req, &resp);
    EXPECT_EQ(tests::Violations(s).at(0).first, "channel");
  }
  {
    grpc::ClientContext c;
    v1::GetAssignmentRequest req;
    req.set_lead_id(std::string(257, 'L'));
    v1::GetAssignmentResponse resp;
    grpc::Status s = assignments_->GetAssignment(&c, req, &resp);
    EXPECT_EQ(tests::Violations(s).at(0).first, "lead_id");
  }
  // At the bounds, all is taken; the lead is as it was before.
  grpc::ClientContext c;
  v1::GetAssignmentRequest req;
  req.set_lead_id("L1");
  v1::GetAssignmentResponse resp;
  ASSERT_TRUE(assignments_->GetAssignment(&c, req, &resp).ok());
  EXPECT_EQ(resp.assignment().status(), v1::LEAD_STATUS_OPEN);
  EXPECT_EQ(resp.assignment().owner(), "r1");
  grpc::ClientContext release;
  v1::ReleaseLeadRequest ok;
  ok.set_lead_id("L1");
  ok.set_reason(std::string(1024, 'r'));
  v1::ReleaseLeadResponse released;
  EXPECT_TRUE(assignments_->ReleaseLead(&release, ok, &released).ok());
}

TEST_F(AssignmentsTest, ListLeadsPagesByOwnerAndStatus) {
  for (const char* id : {"P5", "P1", "P4", "P2", "P3"}) {
    Route(Lead(id, "pool"));  // r1 r2 r3 r1 r2 by arrival
  }
  Route(Lead("Q1", "elsewhere"));  // queue later
  auto list = [&](const std::string& owner, v1::LeadStatus status, int size,
                  const std::string& token, v1::ListLeadsResponse* out) {
    grpc::ClientContext context;
    v1::ListLeadsRequest request;
    request.set_owner(owner);
    request.set_status(status);
    request.set_page_size(size);
    request.set_page_token(token);
    return assignments_->ListLeads(&context, request, out);
  };
  // Every lead, two a page, in lead id order, each page going on from the
  // last.
  std::vector<std::string> ids;
  std::string token;
  int pages = 0;
  do {
    v1::ListLeadsResponse page;
    ASSERT_TRUE(list("", v1::LEAD_STATUS_UNSPECIFIED, 2, token, &page).ok());
    for (const v1::Assignment& a : page.leads()) ids.push_back(a.lead_id());
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(ids,
            (std::vector<std::string>{"P1", "P2", "P3", "P4", "P5", "Q1"}));
  EXPECT_EQ(pages, 3);
  // One rep's, then their open ones after a release.
  v1::ListLeadsResponse r1;
  ASSERT_TRUE(list("r1", v1::LEAD_STATUS_UNSPECIFIED, 0, "", &r1).ok());
  ASSERT_EQ(r1.leads_size(), 2);
  EXPECT_EQ(r1.leads(0).lead_id(), "P2");
  EXPECT_EQ(r1.leads(1).lead_id(), "P5");
  EXPECT_TRUE(r1.next_page_token().empty());
  {
    grpc::ClientContext context;
    v1::ReleaseLeadRequest request;
    request.set_lead_id("P2");
    v1::ReleaseLeadResponse response;
    ASSERT_TRUE(assignments_->ReleaseLead(&context, request, &response).ok());
  }
  v1::ListLeadsResponse open;
  ASSERT_TRUE(list("r1", v1::LEAD_STATUS_OPEN, 0, "", &open).ok());
  ASSERT_EQ(open.leads_size(), 1);
  EXPECT_EQ(open.leads(0).lead_id(), "P5");
  v1::ListLeadsResponse queue;
  ASSERT_TRUE(list("later", v1::LEAD_STATUS_OPEN, 0, "", &queue).ok());
  ASSERT_EQ(queue.leads_size(), 1);
  EXPECT_EQ(queue.leads(0).owner_kind(), v1::OWNER_KIND_QUEUE);

  v1::ListLeadsResponse bad;
  grpc::Status s = list("", v1::LEAD_STATUS_UNSPECIFIED, 1001, "", &bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(tests::Violations(s).at(0).first, "page_size");
  s = list("", v1::LEAD_STATUS_UNSPECIFIED, 0, "P3", &bad);
  EXPECT_EQ(tests::Violations(s).at(0).first, "page_token");
  s = list("", static_cast<v1::LeadStatus>(9), 0, "", &bad);
  EXPECT_EQ(tests::Violations(s).at(0).first, "status");
  s = list(std::string(257, 'x'), v1::LEAD_STATUS_UNSPECIFIED, 0, "", &bad);
  EXPECT_EQ(tests::Violations(s).at(0).first, "owner");
}

// --max-response-bytes: a RouteBatch whose answer outgrows it fails naming
// the flag, and the leads it routed keep their owners (smaller batches
// replay them); a ListLeads page ends early and the next goes on from there.
TEST_F(AssignmentsTest, AnswersStayUnderMaxResponseBytes) {
  max_response_bytes_ = 64 << 10;
  Restart();
  v1::RouteBatchRequest batch;
  batch.mutable_options()->set_explain(true);
  for (int i = 0; i < 300; ++i) {
    *batch.add_leads() =
        Lead(absl::StrCat("big-", std::string(200, 'x'), "-", 1000 + i), "pool",
             absl::StrCat(std::string(200, 'e'), i, "@example.com"));
  }
  {
    grpc::ClientContext context;
    v1::RouteBatchResponse response;
    const grpc::Status s = router_->RouteBatch(&context, batch, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(
        s.error_message(),
        testing::HasSubstr("passed 65536 bytes (--max-response-bytes)"));
  }
  std::set<std::string> replayed;
  for (int from = 0; from < 300; from += 20) {
    v1::RouteBatchRequest part;
    for (int i = from; i < from + 20; ++i) *part.add_leads() = batch.leads(i);
    grpc::ClientContext context;
    v1::RouteBatchResponse response;
    ASSERT_TRUE(router_->RouteBatch(&context, part, &response).ok());
    for (const v1::RouteResult& r : response.results()) {
      if (r.decision().replayed()) replayed.insert(r.decision().lead_id());
    }
  }
  EXPECT_GE(replayed.size(), 1u);  // routed before the first batch stopped

  std::vector<std::string> ids;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext context;
    v1::ListLeadsRequest request;
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::ListLeadsResponse page;
    ASSERT_TRUE(assignments_->ListLeads(&context, request, &page).ok());
    EXPECT_LE(page.ByteSizeLong(), 64u << 10);
    for (const v1::Assignment& a : page.leads()) ids.push_back(a.lead_id());
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 100);
  EXPECT_GE(pages, 2);
  ASSERT_EQ(ids.size(), 300u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 300u);
}

// RouteMany (the Route calls a follower sends the writer together) stops
// the same way once its answer passes --max-response-bytes: the call fails
// naming the flag and the route it stopped at, the routes before it keep
// their owners (a retry replays exactly those), and none after it was
// routed.
TEST_F(AssignmentsTest, RouteManyStopsPastMaxResponseBytesKeepingWhatItRouted) {
  max_response_bytes_ = 16 << 10;
  Restart();
  auto writer = v1::Writer::NewStub(channel_);
  v1::RouteManyRequest many;
  std::vector<v1::Lead> leads;
  for (int i = 0; i < 100; ++i) {
    leads.push_back(Lead(absl::StrCat("many-", 1000 + i), "pool",
                         absl::StrCat(std::string(200, 'e'), i, "@x.com")));
    v1::RouteRequest route;
    *route.mutable_lead() = leads.back();
    route.mutable_options()->set_explain(true);
    many.add_routes(route.SerializeAsString());
  }
  v1::RouteManyResponse response;
  grpc::ClientContext context;
  const grpc::Status s = writer->RouteMany(&context, many, &response);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(response.results_size(), 0);
  int stopped_at = -1;
  ASSERT_EQ(std::sscanf(s.error_message().c_str(),
                        "the answer passed 16384 bytes (--max-response-bytes) "
                        "at route %d of 100",
                        &stopped_at),
            1)
      << s.error_message();
  ASSERT_GT(stopped_at, 0);
  ASSERT_LT(stopped_at, 100);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(Route(leads[i]).replayed(), i < stopped_at) << i;
  }
}

TEST_F(AssignmentsTest, WithoutStateTheAssignmentsServiceSaysSo) {
  server_.reset();
  Start(/*with_state=*/false);
  EXPECT_EQ(Route(Lead("L1", "pool")).owner(), "pool");  // the team, as before
  grpc::ClientContext c;
  v1::ListRepsResponse resp;
  grpc::Status s = assignments_->ListReps(&c, v1::ListRepsRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("--data-dir"), std::string::npos);
}

TEST_F(AssignmentsTest, ConcurrentBatchesGiveEachRepExactlyK) {
  constexpr int kClients = 4, kBatches = 15, kPerBatch = 30;  // 1800 = 600x3
  std::vector<std::thread> clients;
  std::mutex mu;
  std::map<std::string, int> count;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        v1::RouteBatchRequest request;
        for (int i = 0; i < kPerBatch; ++i) {
          *request.add_leads() = Lead(absl::StrCat(t, "-", b, "-", i), "pool");
        }
        grpc::ClientContext context;
        v1::RouteBatchResponse response;
        ASSERT_TRUE(router_->RouteBatch(&context, request, &response).ok());
        std::lock_guard<std::mutex> lock(mu);
        for (const v1::RouteResult& r : response.results()) {
          ++count[r.decision().owner()];
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(count, (std::map<std::string, int>{
                       {"r1", 600}, {"r2", 600}, {"r3", 600}}));
}

TEST_F(AssignmentsTest, CallsAreAnsweredOnlyOnceTheirChangeIsDurable) {
  held_ = std::make_shared<runtime::HeldStore::Control>();
  Restart();
  std::future<grpc::Status> call;
  // Whatever fails below, let held commits go before `call` waits for its
  // answer.
  absl::Cleanup let_go = [&] { held_->Release(); };
  // Holds commits and starts `rpc` on another thread; true when its commit
  // is under way and it has still not been answered. Without the wait for
  // the commit, the answer would come within microseconds of the change;
  // 300 ms is ample to see it.
  auto started_and_waiting = [&](std::function<grpc::Status()> rpc) {
    held_->Hold();
    call = std::async(std::launch::async, std::move(rpc));
    return held_->WaitHeld() && call.wait_for(std::chrono::milliseconds(300)) ==
                                    std::future_status::timeout;
  };

  v1::RouteResponse route;
  auto route_lead = [&](const std::string& id) {
    return [&, id] {
      grpc::ClientContext context;
      v1::RouteRequest request;
      *request.mutable_lead() = Lead(id, "pool");
      return router_->Route(&context, request, &route);
    };
  };
  EXPECT_TRUE(started_and_waiting(route_lead("L1")))
      << "Route answered before its commit";
  held_->Release();
  ASSERT_TRUE(call.get().ok());
  EXPECT_EQ(route.decision().owner(), "r1");

  v1::RouteBatchResponse batch;
  EXPECT_TRUE(started_and_waiting([&] {
    grpc::ClientContext context;
    v1::RouteBatchRequest request;
    *request.add_leads() = Lead("L2", "pool");
    *request.add_leads() = Lead("L3", "pool");
    return router_->RouteBatch(&context, request, &batch);
  })) << "RouteBatch answered before its commit";
  held_->Release();
  ASSERT_TRUE(call.get().ok());
  ASSERT_EQ(batch.results_size(), 2);
  EXPECT_EQ(batch.results(1).decision().owner(), "r3");

  EXPECT_TRUE(started_and_waiting([&] {
    grpc::ClientContext context;
    v1::ReleaseLeadRequest request;
    request.set_lead_id("L1");
    v1::ReleaseLeadResponse response;
    return assignments_->ReleaseLead(&context, request, &response);
  })) << "ReleaseLead answered before its commit";
  held_->Release();
  ASSERT_TRUE(call.get().ok());

  // A commit that fails turns the answer into UNAVAILABLE, with no
  // decision in it.
  route.Clear();
  EXPECT_TRUE(started_and_waiting(route_lead("L4")));
  held_->Release(absl::InternalError("disk I/O error"));
  grpc::Status failed = call.get();
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(failed.error_message().find("disk I/O error"), std::string::npos)
      << failed.error_message();
  EXPECT_FALSE(route.has_decision());
}

// A server that stops while Routes wait for their commit (Route is served
// on gRPC's async API where there is state: async_routes.h) answers each of
// them, one whose client gave up too, stops only once the commit log has
// answered them all, and keeps every lead that commit made.
TEST_F(AssignmentsTest,
       RoutesWaitingForTheirCommitAreAnsweredWhenTheServerStops) {
  held_ = std::make_shared<runtime::HeldStore::Control>();
  Restart();
  absl::Cleanup let_go = [&] { held_->Release(); };
  held_->Hold();
  constexpr int kCalls = 16;
  std::vector<std::future<grpc::Status>> calls;
  std::vector<v1::RouteResponse> answers(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(30));
      v1::RouteRequest request;
      *request.mutable_lead() = Lead(absl::StrCat("S", i), "pool");
      return router_->Route(&context, request, &answers[i]);
    }));
  }
  // One more whose client gives up while it waits.
  grpc::ClientContext gives_up;
  std::future<grpc::Status> given_up = std::async(std::launch::async, [&] {
    v1::RouteRequest request;
    *request.mutable_lead() = Lead("S-gave-up", "pool");
    v1::RouteResponse response;
    return router_->Route(&gives_up, request, &response);
  });
  ASSERT_TRUE(held_->WaitHeld());
  // Every call taken in and its lead assigned (not yet durable).
  auto open_leads = [&] {
    grpc::ClientContext context;
    v1::ListRepsResponse response;
    int n = 0;
    if (assignments_->ListReps(&context, v1::ListRepsRequest(), &response)
            .ok()) {
      for (const v1::RepState& r : response.reps()) n += r.open_leads();
    }
    return n;
  };
  for (int i = 0; i < 200 && open_leads() < kCalls + 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(open_leads(), kCalls + 1);
  gives_up.TryCancel();
  EXPECT_EQ(given_up.get().error_code(), grpc::StatusCode::CANCELLED);

  std::future<void> stopped = std::async(
      std::launch::async, [&] { server_->Shutdown(absl::ZeroDuration()); });
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(300)),
            std::future_status::timeout)
      << "stopped before its commit log answered the waiting calls";
  held_->Release();
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(20)),
            std::future_status::ready);
  std::map<std::string, std::string> told;  // lead: owner, for calls told
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_EQ(calls[i].wait_for(std::chrono::seconds(20)),
              std::future_status::ready);
    const grpc::Status s = calls[i].get();
    if (s.ok()) {
      told[absl::StrCat("S", i)] = answers[i].decision().owner();
    } else {
      EXPECT_THAT(s.error_code(), testing::AnyOf(grpc::StatusCode::CANCELLED,
                                                 grpc::StatusCode::UNAVAILABLE))
          << s.error_message();
    }
  }
  // The held commit went on: every lead is kept, once, and a call that was
  // answered has the owner it was told (the next server's commits are not
  // held: released above).
  Restart();
  std::map<std::string, int> per_rep;
  for (int i = 0; i <= kCalls; ++i) {
    const std::string id = i < kCalls ? absl::StrCat("S", i) : "S-gave-up";
    grpc::ClientContext context;
    v1::GetAssignmentRequest request;
    request.set_lead_id(id);
    v1::GetAssignmentResponse response;
    ASSERT_TRUE(assignments_->GetAssignment(&context, request, &response).ok())
        << id;
    ++per_rep[response.assignment().owner()];
    if (auto it = told.find(id); it != told.end()) {
      EXPECT_EQ(response.assignment().owner(), it->second) << id;
    }
  }
  EXPECT_EQ(per_rep,
            (std::map<std::string, int>{{"r1", 6}, {"r2", 6}, {"r3", 5}}));
}

// ---- SIGKILL in the middle of a load --------------------------------------

TEST(DurabilityTest, KillNineLosesNoAcknowledgedAssignment) {
  const std::filesystem::path dir = testing_util::FreshTestDir("kill9");
  std::ofstream(dir / "rules.route") << kRules;
  const std::string address = absl::StrCat("127.0.0.1:", tests::FreePort());
  const std::vector<std::string> serve = {
      LEADROUTE_BINARY, "serve", "--rules",    (dir / "rules.route").string(),
      "--listen",       address, "--data-dir", (dir / "data").string(),
      "--watch",        "0",     "--grace",    "2"};
  testing_util::ChildProcess child(serve);
  ASSERT_TRUE(child.running());
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto router = v1::LeadRouter::NewStub(channel);
  auto assignments = v1::Assignments::NewStub(channel);
  ASSERT_TRUE(tests::WaitReady(assignments.get()));

  // Four clients route new leads as fast as they can; the child is killed
  // once 400 have been acknowledged.
  std::mutex mu;
  std::map<std::string, std::string> acked;  // lead id -> owner
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};  // clients whose call failed, and so ended
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(5));
        v1::RouteRequest request;
        *request.mutable_lead() = Lead(absl::StrCat("K", t, "-", i), "pool");
        v1::RouteResponse response;
        if (!router->Route(&context, request, &response).ok()) {
          ++failed;
          return;
        }
        std::lock_guard<std::mutex> lock(mu);
        acked[response.decision().lead_id()] = response.decision().owner();
        if (acked.size() >= 400) stop = true;
      }
    });
  }
  // If anything below fails, the clients stop before the test returns.
  absl::Cleanup join = [&] {
    stop = true;
    for (std::thread& t : clients) {
      if (t.joinable()) t.join();
    }
  };
  // Until 400 are acknowledged, or every client has given up.
  while (!stop && failed < 4) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  int status = child.KillAndWait(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status));
  for (std::thread& t : clients) t.join();
  ASSERT_GE(acked.size(), 400u);

  child = testing_util::ChildProcess(serve);
  ASSERT_TRUE(child.running());
  ASSERT_TRUE(tests::WaitReady(assignments.get()));
  // Every acknowledged lead kept its owner; a retry replays it.
  int replayed = 0;
  for (const auto& [id, owner] : acked) {
    grpc::ClientContext c;
    v1::GetAssignmentRequest req;
    req.set_lead_id(id);
    v1::GetAssignmentResponse resp;
    grpc::Status s = assignments->GetAssignment(&c, req, &resp);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    EXPECT_EQ(resp.assignment().owner(), owner) << id;
    replayed += resp.assignment().owner() == owner;
  }
  EXPECT_EQ(replayed, static_cast<int>(acked.size()));
  // Rotation resumes after the last committed lead: the pool's open counts
  // (acknowledged or not) differ by at most one, and stay so.
  auto open_counts = [&] {
    grpc::ClientContext c;
    v1::ListRepsResponse resp;
    EXPECT_TRUE(assignments->ListReps(&c, v1::ListRepsRequest(), &resp).ok());
    std::vector<int64_t> open;
    for (const v1::RepState& r : resp.reps()) {
      if (r.rep().size() == 2 && r.rep()[0] == 'r')
        open.push_back(r.open_leads());
    }
    return open;
  };
  std::vector<int64_t> before = open_counts();
  ASSERT_EQ(before.size(), 3u);
  const int64_t total = before[0] + before[1] + before[2];
  EXPECT_GE(total, static_cast<int64_t>(acked.size()));
  EXPECT_LE(*std::max_element(before.begin(), before.end()) -
                *std::min_element(before.begin(), before.end()),
            1);
  for (int i = 0; i < 6; ++i) {
    grpc::ClientContext context;
    v1::RouteRequest request;
    *request.mutable_lead() = Lead(absl::StrCat("after-", i), "pool");
    v1::RouteResponse response;
    ASSERT_TRUE(router->Route(&context, request, &response).ok());
  }
  std::vector<int64_t> after = open_counts();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(after[i], before[i] + 2) << i;
  status = child.KillAndWait(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::filesystem::remove_all(dir);
}

// A second server on a --data-dir in use is refused, naming the first, and
// leaves the store alone; once the first is gone (kill -9 too: the lock
// dies with its process) the dir is free again.
TEST(DurabilityTest, SecondServerOnOneDataDirIsRefusedNamingTheFirst) {
  const std::filesystem::path dir = testing_util::FreshTestDir("dir_lock");
  std::ofstream(dir / "rules.route") << kRules;
  auto serve = [&](const std::string& address) {
    return std::vector<std::string>{
        LEADROUTE_BINARY, "serve", "--rules",    (dir / "rules.route").string(),
        "--listen",       address, "--data-dir", (dir / "data").string(),
        "--watch",        "0"};
  };
  const std::string first_address =
      absl::StrCat("127.0.0.1:", tests::FreePort());
  testing_util::ChildProcess first(serve(first_address));
  ASSERT_TRUE(first.running());
  auto channel =
      grpc::CreateChannel(first_address, grpc::InsecureChannelCredentials());
  auto router = v1::LeadRouter::NewStub(channel);
  ASSERT_TRUE(tests::WaitReady(v1::Assignments::NewStub(channel).get()));
  auto route = [&](const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    v1::RouteRequest request;
    *request.mutable_lead() = Lead(id, "pool");
    v1::RouteResponse response;
    return router->Route(&context, request, &response);
  };
  ASSERT_TRUE(route("before").ok());

  std::string command;
  for (const std::string& arg :
       serve(absl::StrCat("127.0.0.1:", tests::FreePort()))) {
    absl::StrAppend(&command, "'", arg, "' ");
  }
  FILE* second = popen((command + "2>&1").c_str(), "r");
  ASSERT_NE(second, nullptr);
  std::string output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, second)) > 0;) {
    output.append(buffer, n);
  }
  const int status = pclose(second);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
  EXPECT_THAT(output,
              testing::HasSubstr(absl::StrCat("is in use by another leadroute "
                                              "serve (pid ",
                                              first.pid())));
  EXPECT_THAT(output, testing::HasSubstr("--data-dir"));
  // The first goes on committing as before.
  EXPECT_TRUE(route("after").ok());

  ASSERT_TRUE(WIFSIGNALED(first.KillAndWait(SIGKILL)));
  const std::string third_address =
      absl::StrCat("127.0.0.1:", tests::FreePort());
  testing_util::ChildProcess third(serve(third_address));
  auto third_channel =
      grpc::CreateChannel(third_address, grpc::InsecureChannelCredentials());
  EXPECT_TRUE(tests::WaitReady(v1::Assignments::NewStub(third_channel).get()));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace leadroute
