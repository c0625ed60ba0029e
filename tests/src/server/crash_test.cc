// kill -9 in the middle of what the server does on its own: retention
// deleting a long history of leads and events, and webhook delivery to a
// slow receiver. The real `leadroute serve` is killed again and again and
// started on the same data dir; afterwards nothing acknowledged is lost,
// nothing deleted comes back, the count of deleted leads is exact, and every
// event reaches the receiver (at least once, in order, with no gap).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "compiler/compiler.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "runtime/assigner.h"
#include "runtime/clock.h"
#include "runtime/decide.h"
#include "runtime/sqlite_store.h"
#include "runtime/tree_policy.h"
#include "tests/child_process.h"
#include "tests/src/server/grpc_test_util.h"
#include "tests/src/server/webhook_receiver.h"
#include "tests/test_dir.h"

namespace leadroute {
namespace {

constexpr const char* kRules = R"(
ruleset "crash-test" version "1"
schema {
  email: string
  region: string required
}
rep r1 { }
rep r2 { }
rep r3 { }
team pool { members = [r1, r2, r3] strategy = round_robin }
queue later
assign {
  rule pool when region == "pool" then team pool
  otherwise queue later
}
)";

class CrashTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("crash");
    std::ofstream(dir_ / "rules.route") << kRules;
    std::filesystem::create_directories(dir_ / "data");
    address_ = absl::StrCat("127.0.0.1:", tests::FreePort());
    auto channel =
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    router_ = v1::LeadRouter::NewStub(channel);
    assignments_ = v1::Assignments::NewStub(channel);
  }
  void TearDown() override {
    server_ = testing_util::ChildProcess();
    std::filesystem::remove_all(dir_);
  }

  // Starts `serve` on the data dir with `flags` added; waits until it
  // answers unless told not to.
  void Serve(const std::vector<std::string>& flags, bool wait = true) {
    std::vector<std::string> argv = {
        LEADROUTE_BINARY, "serve",
        "--rules",        (dir_ / "rules.route").string(),
        "--listen",       address_,
        "--data-dir",     (dir_ / "data").string(),
        "--watch",        "0",
        "--grace",        "2"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    server_ = testing_util::ChildProcess(argv);
    ASSERT_TRUE(server_.running());
    if (wait) {
      ASSERT_TRUE(tests::WaitReady(assignments_.get()));
    }
  }
  void Kill() { ASSERT_TRUE(WIFSIGNALED(server_.KillAndWait(SIGKILL))); }

  // The store, opened in this process while no server runs.
  std::unique_ptr<runtime::SqliteStore> Store() {
    auto store = runtime::SqliteStore::Open(
        (dir_ / "data" / runtime::SqliteStore::kFileName).string());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  std::filesystem::path dir_;
  std::string address_;
  testing_util::ChildProcess server_;
  std::unique_ptr<v1::LeadRouter::Stub> router_;
  std::unique_ptr<v1::Assignments::Stub> assignments_;
};

// 25,000 leads closed 30 days ago and 60 open ones and 10 closed today;
// `serve --lead-retention 7d --event-retention 7d` deletes the old ones
// 10,000 to a transaction, and is killed five times while it does.
TEST_F(CrashTest, KillNineDuringRetentionLosesAndRevivesNothing) {
  constexpr int kOld = 25000;
  std::map<std::string, std::string> kept;  // lead id -> owner
  {
    compiler::CheckResult r = compiler::CheckText("t.route", kRules);
    ASSERT_TRUE(r.ok());
    runtime::TreePolicy policy(r.program);
    auto store = Store();
    ASSERT_NE(store, nullptr);
    runtime::FakeClock clock(absl::Now() - absl::Hours(24 * 30));
    auto assigner = runtime::Assigner::Start(std::move(store), &clock);
    ASSERT_TRUE(assigner.ok()) << assigner.status();
    runtime::AssignInput input;
    input.ruleset = "crash-test";
    uint64_t last = 0;
    auto route = [&](const std::string& id) {
      runtime::Lead lead;
      lead.id = id;
      lead.attributes["region"] = runtime::Value(std::string("pool"));
      lead.attributes["email"] = runtime::Value(absl::StrCat(id, "@x.test"));
      absl::StatusOr<runtime::BoundLead> bound =
          runtime::BindLead(*r.program, lead);
      EXPECT_TRUE(bound.ok());
      runtime::Decision d =
          policy.DecideBound(id, *bound, {clock.Now(), false, {}});
      input.decision_id = absl::StrCat("d-", id);
      absl::StatusOr<uint64_t> seq =
          (*assigner)->Assign(*r.program, *bound, input, &d);
      EXPECT_TRUE(seq.ok()) << seq.status();
      last = std::max(last, seq.value_or(0));
      return d.owner;
    };
    for (int i = 0; i < kOld; ++i) {
      const std::string id = absl::StrCat("old-", i);
      route(id);
      auto closed = (*assigner)->Close(id, "worked");
      ASSERT_TRUE(closed.ok()) << closed.status();
      last = std::max(last, closed->seq);
      clock.Advance(absl::Seconds(10));
    }
    clock.Set(absl::Now());
    for (int i = 0; i < 60; ++i) {
      const std::string id = absl::StrCat("new-", i);
      kept[id] = route(id);
    }
    for (int i = 0; i < 10; ++i) {
      const std::string id = absl::StrCat("today-", i);
      kept[id] = route(id);
      auto closed = (*assigner)->Close(id, "worked");
      ASSERT_TRUE(closed.ok());
      last = std::max(last, closed->seq);
    }
    ASSERT_TRUE((*assigner)->log().WaitDurable(last).ok());
  }

  const std::vector<std::string> retention = {"--lead-retention", "7d",
                                              "--event-retention", "7d"};
  // Killed at different moments of its first second and a half, while the
  // sweeper deletes a batch a tick (250 ms) from its start; the counts seen
  // between kills are only reported (where a kill lands depends on the
  // machine): what matters is where they end.
  std::vector<uint64_t> pruned_between;
  for (int delay_ms : {300, 550, 800, 1050, 1300}) {
    Serve(retention, /*wait=*/false);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    Kill();
    auto store = Store();
    ASSERT_NE(store, nullptr);
    pruned_between.push_back(store->PrunedAssignments().value_or(0));
  }
  std::string seen;
  for (uint64_t n : pruned_between) absl::StrAppend(&seen, " ", n);
  std::printf("leads deleted when each kill landed:%s\n", seen.c_str());

  // Once more, to the end.
  Serve(retention);
  bool done = false;
  for (int i = 0; i < 600 && !done; ++i) {
    grpc::ClientContext c;
    v1::ListLeadsRequest request;
    request.set_page_size(1000);
    v1::ListLeadsResponse page;
    ASSERT_TRUE(assignments_->ListLeads(&c, request, &page).ok());
    done = page.leads_size() == static_cast<int>(kept.size());
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(done) << "retention did not finish";
  // Every kept lead answers with its owner, over the API.
  for (const auto& [id, owner] : kept) {
    grpc::ClientContext c;
    v1::GetAssignmentRequest req;
    req.set_lead_id(id);
    v1::GetAssignmentResponse resp;
    ASSERT_TRUE(assignments_->GetAssignment(&c, req, &resp).ok()) << id;
    EXPECT_EQ(resp.assignment().owner(), owner) << id;
  }
  Kill();

  auto store = Store();
  ASSERT_NE(store, nullptr);
  // The count is exact: each batch's deletes and its count commit
  // together, or neither.
  EXPECT_EQ(store->PrunedAssignments().value_or(0),
            static_cast<uint64_t>(kOld));
  auto all = store->ListAssignments("", std::nullopt, "", 100000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), kept.size());
  for (const runtime::Assignment& a : *all) {
    EXPECT_TRUE(kept.count(a.lead_id)) << a.lead_id << " came back";
  }
  // The reps' open leads are the 60 open ones, as the index reads them.
  size_t open = 0;
  for (const char* rep : {"r1", "r2", "r3"}) {
    auto leads = store->OpenLeadsOfRep(rep, "", 1000);
    ASSERT_TRUE(leads.ok());
    EXPECT_EQ(leads->size(), 20u) << rep;
    open += leads->size();
  }
  EXPECT_EQ(open, 60u);
  // Events: all of the old leads' gone, none of the kept ones'.
  const uint64_t through = store->PrunedThrough().value_or(0);
  EXPECT_GT(through, 0u);
  auto events = store->EventsAfter(0, 100000);
  ASSERT_TRUE(events.ok());
  std::map<std::string, int> per_lead;
  for (const runtime::LeadEvent& e : *events) {
    EXPECT_GT(e.id, through);
    EXPECT_FALSE(absl::StartsWith(e.lead_id, "old-")) << e.lead_id;
    ++per_lead[e.lead_id];
  }
  EXPECT_EQ(per_lead.size(), kept.size());
  for (const auto& [id, n] : per_lead) {
    EXPECT_EQ(n, absl::StartsWith(id, "today-") ? 2 : 1) << id;
  }
}

// A receiver that takes 300 ms to answer; the server is killed three times
// while a delivery is in flight, leads routed between. Every event reaches
// the receiver: the batch in flight again after the restart (at least
// once), nothing skipped.
TEST_F(CrashTest, KillNineDuringWebhookDeliveryLosesNoEvent) {
  tests::Receiver receiver;
  receiver.set_delay(std::chrono::milliseconds(300));
  std::ofstream(dir_ / "secret") << "s3cret\n";
  const std::vector<std::string> webhook = {"--webhook-url", receiver.url(),
                                            "--webhook-secret-file",
                                            (dir_ / "secret").string()};
  int routed = 0;
  auto route = [&](int n) {
    v1::RouteBatchRequest request;
    for (int i = 0; i < n; ++i) {
      v1::Lead* lead = request.add_leads();
      lead->set_id(absl::StrCat("W", routed + i));
      (*lead->mutable_attributes())["region"].set_string_value("pool");
    }
    grpc::ClientContext c;
    v1::RouteBatchResponse response;
    ASSERT_TRUE(router_->RouteBatch(&c, request, &response).ok());
    routed += n;
  };
  for (int round = 0; round < 3; ++round) {
    Serve(webhook);
    const size_t before = receiver.requests().size();
    route(150);
    // A request has arrived and is not answered yet: kill the sender.
    for (int i = 0; i < 500 && receiver.requests().size() == before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_GT(receiver.requests().size(), before) << "round " << round;
    Kill();
  }
  Serve(webhook);
  route(10);

  // Wait until every event id has arrived in an answered request.
  std::set<uint64_t> delivered;
  size_t requests = 0, copies = 0;
  for (int i = 0; i < 600; ++i) {
    delivered.clear();
    requests = copies = 0;
    for (const tests::Receiver::Request& r : receiver.requests()) {
      ++requests;
      const nlohmann::json body = nlohmann::json::parse(r.body);
      uint64_t last = 0;
      for (const auto& e : body["events"]) {
        const uint64_t id = std::stoull(e["id"].get<std::string>());
        EXPECT_GT(id, last) << "a batch out of order";
        last = id;
        ++copies;
        delivered.insert(id);
      }
    }
    if (delivered.size() >= static_cast<size_t>(routed)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(delivered.size(), static_cast<size_t>(routed));
  // No gap: what arrived is every event the store has (one "assigned" a
  // lead).
  Kill();
  auto store = Store();
  ASSERT_NE(store, nullptr);
  auto events = store->EventsAfter(0, 100000);
  ASSERT_TRUE(events.ok());
  std::set<uint64_t> stored;
  for (const runtime::LeadEvent& e : *events) stored.insert(e.id);
  EXPECT_EQ(delivered, stored);
  // At least once: a batch in flight at a kill came again, and nothing
  // else did (at most three batches of 100 over).
  EXPECT_GT(copies, delivered.size());
  EXPECT_LE(copies, delivered.size() + 3 * 100);
  std::printf("%zu events in %zu requests, %zu sent twice\n", delivered.size(),
              requests, copies - delivered.size());
}

}  // namespace
}  // namespace leadroute
