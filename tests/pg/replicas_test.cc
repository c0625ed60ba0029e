// Three real `leadroute serve --state` replicas on one real PostgreSQL 15,
// each on an ephemeral loopback port, called through real gRPC channels:
// any call to any replica, with the guarantees of one server. Round robin
// stays exact across replicas; the same lead id sent to two replicas at
// once is assigned once; a change made on a follower holds for all; and
// when the writer is killed with SIGKILL another replica takes over and
// every acknowledged assignment is still there.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "tests/child_process.h"
#include "tests/pg/pg_server.h"
#include "tests/src/server/grpc_test_util.h"  // FreePort
#include "tests/test_dir.h"

namespace leadroute {
namespace {

using testing_util::ChildProcess;
using testing_util::PgServer;

constexpr const char* kRules = R"(
ruleset "replicas" version "1"
schema {
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

struct Replica {
  std::string address;
  ChildProcess process;
  std::unique_ptr<v1::LeadRouter::Stub> router;
  std::unique_ptr<v1::Assignments::Stub> assignments;
};

class ReplicasTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("replicas");
    std::ofstream(dir_ / "rules.route") << kRules;
    auto pg = PgServer::Start(dir_ / "cluster");
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = *std::move(pg);
    for (int i = 0; i < 3; ++i) {
      replicas_.push_back(std::make_unique<Replica>());
      replicas_.back()->address = absl::StrCat("127.0.0.1:", tests::FreePort());
      Start(i);
    }
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(WaitReady(i)) << replicas_[i]->address;
    }
  }
  void TearDown() override {
    replicas_.clear();
    pg_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts replica `i` on its address (again, after a kill).
  void Start(int i) {
    Replica& r = *replicas_[i];
    r.process = ChildProcess(
        {LEADROUTE_BINARY, "serve", "--rules", (dir_ / "rules.route").string(),
         "--listen", r.address, "--state", pg_->conninfo(), "--writer-poll",
         "200ms", "--watch", "0", "--grace", "2"});
    ASSERT_TRUE(r.process.running());
    // A channel of its own (not sharing a subchannel, nor its reconnect
    // backoff, with the one to the process that was killed).
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(
        r.address, grpc::InsecureChannelCredentials(), args);
    r.router = v1::LeadRouter::NewStub(channel);
    r.assignments = v1::Assignments::NewStub(channel);
  }

  // Whether replica `i` answers (ListReps, forwarded to the writer by a
  // follower) within 10 s.
  bool WaitReady(int i) {
    for (int tries = 0; tries < 100; ++tries) {
      grpc::ClientContext context;
      context.set_wait_for_ready(true);
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::milliseconds(100));
      v1::ListRepsResponse response;
      if (replicas_[i]
              ->assignments
              ->ListReps(&context, v1::ListRepsRequest(), &response)
              .ok()) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // Routes lead `id` to the pool through replica `i`: the owner, or the
  // error. Waits for the channel to be ready rather than fail fast, as a
  // client with a retry policy would across a replica's restart.
  absl::StatusOr<std::string> Route(int i, const std::string& id) {
    v1::RouteRequest request;
    v1::Lead* lead = request.mutable_lead();
    lead->set_id(id);
    (*lead->mutable_attributes())["region"].set_string_value("pool");
    v1::RouteResponse response;
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::Status s = replicas_[i]->router->Route(&context, request, &response);
    if (!s.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          s.error_message());
    }
    return response.decision().owner();
  }

  // Route, retried while UNAVAILABLE for up to 5 s, as a client retries
  // across a takeover (a follower may still point at the writer that
  // died, until it reads where the new one is).
  absl::StatusOr<std::string> RouteRetrying(int i, const std::string& id) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::string> owner = Route(i, id);
    while (owner.status().code() == absl::StatusCode::kUnavailable &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      owner = Route(i, id);
    }
    return owner;
  }

  // Rows of `sql`, each "a|b|...".
  std::vector<std::string> Rows(const std::string& sql) {
    absl::StatusOr<std::string> out = pg_->Psql(sql);
    EXPECT_TRUE(out.ok()) << out.status();
    return absl::StrSplit(out.value_or(""), '\n', absl::SkipEmpty());
  }
  std::map<std::string, int> OwnerCounts() {
    std::map<std::string, int> counts;
    for (const std::string& row :
         Rows("SELECT owner || '|' || COUNT(*) FROM assignments "
              "GROUP BY owner")) {
      std::vector<std::string> f = absl::StrSplit(row, '|');
      int n = 0;
      EXPECT_TRUE(f.size() == 2 && absl::SimpleAtoi(f[1], &n)) << row;
      counts[f[0]] = n;
    }
    return counts;
  }
  // The replica that is the writer, by its address in the database.
  int Writer() {
    std::vector<std::string> rows =
        Rows("SELECT address FROM leadroute_writer");
    for (size_t i = 0; i < replicas_.size(); ++i) {
      if (!rows.empty() && rows[0] == replicas_[i]->address) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  std::filesystem::path dir_;
  std::unique_ptr<PgServer> pg_;
  std::vector<std::unique_ptr<Replica>> replicas_;
};

TEST_F(ReplicasTest, RoundRobinIsExactAcrossReplicas) {
  // 3,000 leads, from three clients at once, each to its own replica.
  std::atomic<int> failed{0};
  std::vector<std::map<std::string, int>> answered(3);
  {
    std::vector<std::thread> clients;
    for (int c = 0; c < 3; ++c) {
      clients.emplace_back([&, c] {
        for (int i = 0; i < 1000; ++i) {
          absl::StatusOr<std::string> owner =
              Route(c, absl::StrCat("L", c, "-", i));
          if (owner.ok()) {
            ++answered[c][*owner];
          } else {
            ++failed;
          }
        }
      });
    }
    for (std::thread& t : clients) t.join();
  }
  EXPECT_EQ(failed.load(), 0);
  std::map<std::string, int> told;
  for (const auto& per_client : answered) {
    for (const auto& [owner, n] : per_client) told[owner] += n;
  }
  const std::map<std::string, int> exact = {
      {"r1", 1000}, {"r2", 1000}, {"r3", 1000}};
  EXPECT_EQ(told, exact);
  EXPECT_EQ(OwnerCounts(), exact);
  // One of the three is the writer: the other two clients' calls were
  // forwarded by followers, and the counts are exact all the same.
  EXPECT_GE(Writer(), 0);
}

TEST_F(ReplicasTest, TheSameLeadIdOnTwoReplicasAtOnceIsAssignedOnce) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = absl::StrCat("same-", i);
    absl::StatusOr<std::string> a, b;
    std::thread first([&] { a = Route(1, id); });
    std::thread second([&] { b = Route(2, id); });
    first.join();
    second.join();
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(*a, *b) << id;
  }
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM assignments"),
            std::vector<std::string>{"100"});
  // 100 leads, one turn each: 34, 33, 33.
  std::map<std::string, int> counts = OwnerCounts();
  int total = 0;
  for (const auto& [owner, n] : counts) {
    EXPECT_GE(n, 33) << owner;
    EXPECT_LE(n, 34) << owner;
    total += n;
  }
  EXPECT_EQ(total, 100);
}

TEST_F(ReplicasTest, AChangeOnAFollowerHoldsForAllAndAKilledWriterIsReplaced) {
  const int writer = Writer();
  ASSERT_GE(writer, 0);
  const int follower = (writer + 1) % 3;
  const int other = (writer + 2) % 3;
  // r2 away, set through a follower: no replica gives r2 a lead.
  {
    v1::SetRepStatusRequest request;
    request.set_rep("r2");
    request.set_availability(v1::REP_AVAILABILITY_AWAY);
    v1::SetRepStatusResponse response;
    grpc::ClientContext context;
    grpc::Status s = replicas_[follower]->assignments->SetRepStatus(
        &context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::map<std::string, std::string> acknowledged;
  for (int i = 0; i < 30; ++i) {
    const std::string id = absl::StrCat("before-", i);
    absl::StatusOr<std::string> owner = Route(i % 3, id);
    ASSERT_TRUE(owner.ok()) << owner.status();
    EXPECT_NE(*owner, "r2") << id;
    acknowledged[id] = *owner;
  }

  // The writer dies. A follower takes the lock as soon as the writer's
  // session ends, and calls to the others work again.
  ASSERT_TRUE(WIFSIGNALED(replicas_[writer]->process.KillAndWait(SIGKILL)));
  const auto killed = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> after = absl::UnavailableError("not tried");
  while (!after.ok() &&
         std::chrono::steady_clock::now() - killed < std::chrono::seconds(30)) {
    after = Route(other, "after-0");
    if (!after.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(after.ok()) << after.status();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed)
          .count();
  std::printf("stateful calls back %.2f s after the writer was killed\n",
              seconds);
  acknowledged["after-0"] = *after;
  const int new_writer = Writer();
  EXPECT_NE(new_writer, writer);
  EXPECT_GE(new_writer, 0);
  // r2 is still away on the new writer; the first lead goes on in the
  // rotation the old writer left.
  for (int i = 1; i < 30; ++i) {
    const std::string id = absl::StrCat("after-", i);
    absl::StatusOr<std::string> owner =
        RouteRetrying(i % 2 == 0 ? follower : other, id);
    ASSERT_TRUE(owner.ok()) << owner.status();
    EXPECT_NE(*owner, "r2") << id;
    acknowledged[id] = *owner;
  }
  // Every acknowledged assignment is in the database, once, as told.
  std::map<std::string, std::string> stored;
  for (const std::string& row :
       Rows("SELECT lead_id || '|' || owner FROM assignments")) {
    std::vector<std::string> f = absl::StrSplit(row, '|');
    ASSERT_EQ(f.size(), 2u) << row;
    EXPECT_TRUE(stored.emplace(f[0], f[1]).second) << row;
  }
  EXPECT_EQ(stored, acknowledged);
  // Round robin between r1 and r3 stayed exact across the takeover.
  std::map<std::string, int> counts = OwnerCounts();
  EXPECT_EQ(counts["r1"], 30);
  EXPECT_EQ(counts["r3"], 30);

  // The killed replica comes back, as a follower, and its calls work.
  Start(writer);
  ASSERT_TRUE(WaitReady(writer));
  absl::StatusOr<std::string> back = RouteRetrying(writer, "back-0");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Writer(), new_writer);
}

}  // namespace
}  // namespace leadroute
