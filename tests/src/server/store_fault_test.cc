// The state store failing under the real server: a full disk (a real tmpfs
// of a few MiB mounted on the data dir, where the test may mount one; and
// always the same store behind a switch that fails its commits) is logged,
// turns gRPC health NOT_SERVING and /healthz 503, shows in /metrics; once
// space is back the server recovers by itself, and every acknowledged
// assignment is there, once, with the owner the client was told, also
// after a restart.
#include <sys/mount.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "runtime/sqlite_store.h"
#include "tests/runtime/state_fixture.h"
#include "tests/src/server/grpc_test_util.h"
#include "tests/src/server/state_server_fixture.h"

namespace leadroute {
namespace {

constexpr const char* kRules = R"(
ruleset "fault" version "1"
schema {
  region: string required
  note: string
}
rep r1 { }
rep r2 { }
rep r3 { }
team pool { members = [r1, r2, r3] strategy = round_robin }
assign {
  otherwise team pool
}
)";

using grpc::health::v1::HealthCheckResponse;

class StoreFaultTest : public testing_util::StateServerFixture {
 protected:
  // Mounts a 16 MiB tmpfs on the data dir when `tmpfs`; else commits fail
  // through a switch on the real store. The size: SQLite checkpoints its
  // WAL at 1,000 pages (4 MiB), and until then every commit adds its pages
  // to it. On a tmpfs, where a sync costs nothing, the writer commits a
  // RouteBatch's leads nearly one by one, some 25 KB of WAL each, so the
  // WAL at Break() is 0.9-1.9 MiB and the client's retries after Mend()
  // add up to 3.5 MiB more. With 4 MiB, what Mend() freed was sometimes
  // less than that, and the disk was full again after recovering.
  static constexpr const char* kTmpfsSize = "size=16m";
  void StartWith(bool tmpfs) {
    tmpfs_ = tmpfs;
    dir_ = testing_util::FreshTestDir(tmpfs ? "store_full" : "store_fail");
    data_ = dir_ / "data";
    std::filesystem::create_directories(data_);
    if (tmpfs) {
      mounted_ = mount("tmpfs", data_.c_str(), "tmpfs", 0, kTmpfsSize) == 0;
      if (!mounted_) return;
    }
    std::ofstream(dir_ / "rules.route") << kRules;
    Start();
  }
  void TearDown() override {
    server_.reset();
    if (mounted_) umount2(data_.c_str(), MNT_DETACH);
    std::filesystem::remove_all(dir_);
  }
  void Configure(ServerOptions* options) override {
    options->admin_listen = "127.0.0.1:0";
    if (tmpfs_) return;
    options->wrap_store = [this](std::unique_ptr<runtime::StateStore> real) {
      auto failing = std::make_unique<runtime::FailingStore>(std::move(real));
      switch_ = failing.get();
      return failing;
    };
  }

  // Fills the disk (or throws the switch).
  void Break() {
    if (!tmpfs_) {
      switch_->fail = true;
      return;
    }
    std::FILE* f = std::fopen((data_ / "filler").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string block(64 << 10, 'x');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
    }
    std::fclose(f);
  }
  void Mend() {
    if (!tmpfs_) {
      switch_->fail = false;
      return;
    }
    std::filesystem::remove(data_ / "filler");
  }

  HealthCheckResponse::ServingStatus Health() {
    auto health = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    if (!health->Check(&context, request, &response).ok()) {
      return HealthCheckResponse::UNKNOWN;
    }
    return response.status();
  }

  // Routes a batch of `n` leads named PREFIX-i; each lead's owner, or the
  // call's status.
  grpc::Status Batch(const std::string& prefix, int n,
                     std::map<std::string, std::string>* owners) {
    v1::RouteBatchRequest request;
    for (int i = 0; i < n; ++i) {
      v1::Lead* lead = request.add_leads();
      lead->set_id(absl::StrCat(prefix, "-", i));
      (*lead->mutable_attributes())["region"].set_string_value("pool");
      // Bulk, so the disk fills within a few batches.
      (*lead->mutable_attributes())["note"].set_string_value(
          std::string(600, 'n'));
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
    v1::RouteBatchResponse response;
    grpc::Status s = router_->RouteBatch(&context, request, &response);
    if (s.ok()) {
      for (const v1::RouteResult& r : response.results()) {
        (*owners)[r.decision().lead_id()] = r.decision().owner();
      }
    }
    return s;
  }

  std::string Owner(const std::string& lead_id) {
    grpc::ClientContext context;
    v1::GetAssignmentRequest request;
    request.set_lead_id(lead_id);
    v1::GetAssignmentResponse response;
    if (!assignments_->GetAssignment(&context, request, &response).ok()) {
      return "?";
    }
    return response.assignment().owner();
  }

  int64_t OpenLeads() {
    grpc::ClientContext context;
    v1::ListRepsResponse response;
    if (!assignments_->ListReps(&context, v1::ListRepsRequest(), &response)
             .ok()) {
      return -1;
    }
    int64_t n = 0;
    for (const v1::RepState& r : response.reps()) n += r.open_leads();
    return n;
  }

  void DiskFullThenFreed() {
    std::map<std::string, std::string> acked;
    ASSERT_TRUE(Batch("before", 50, &acked).ok());
    ASSERT_EQ(Health(), HealthCheckResponse::SERVING);
    Break();
    // Until a commit fails and stays failed: at once with the switch; on a
    // full tmpfs once SQLite's WAL needs a page the disk does not have. A
    // failure can heal by itself at the next retry when a checkpoint lets
    // the WAL reuse its own pages; routing goes on until one does not.
    grpc::Status failed;
    std::string failed_prefix;
    // Refused batches, (prefix, size), retried by the client below.
    std::vector<std::pair<std::string, int>> refused_batches;
    for (int b = 0; b < 400; ++b) {
      failed_prefix = absl::StrCat("during", b);
      failed = Batch(failed_prefix, 50, &acked);
      if (failed.ok()) continue;
      refused_batches.emplace_back(failed_prefix, 50);
      if (Health() == HealthCheckResponse::NOT_SERVING) break;
      // Healed already: wait until changes are taken again.
      for (int i = 0; i < 50; ++i) {
        const std::string probe = absl::StrCat(failed_prefix, "-again", i);
        if (Batch(probe, 1, &acked).ok()) break;
        refused_batches.emplace_back(probe, 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    ASSERT_FALSE(failed.ok()) << "the disk never filled";
    EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_TRUE(
        absl::StrContains(failed.error_message(), "state store is failing"))
        << failed.error_message();
    EXPECT_EQ(Health(), HealthCheckResponse::NOT_SERVING);
    const std::string admin = server_->admin_address();
    auto [code, body] = tests::HttpGet(admin, "/healthz");
    EXPECT_EQ(code, 503);
    EXPECT_TRUE(absl::StrContains(body, "state store is failing")) << body;
    auto [metrics_code, metrics] = tests::HttpGet(admin, "/metrics");
    EXPECT_TRUE(absl::StrContains(metrics, "leadroute_store_up 0\n"));
    // Refused while failing, without taking a new change.
    std::map<std::string, std::string> refused;
    EXPECT_EQ(Batch("refused", 5, &refused).error_code(),
              grpc::StatusCode::UNAVAILABLE);

    Mend();
    HealthCheckResponse::ServingStatus health = Health();
    for (int i = 0; i < 150 && health != HealthCheckResponse::SERVING; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      health = Health();
    }
    ASSERT_EQ(health, HealthCheckResponse::SERVING)
        << "no recovery within 15 s of the space coming back";
    EXPECT_EQ(tests::HttpGet(admin, "/healthz").first, 200);
    EXPECT_TRUE(absl::StrContains(tests::HttpGet(admin, "/metrics").second,
                                  "leadroute_store_up 1\n"));
    // The client retries the batches it was refused: the leads committed on
    // recovery answer with the owner they were given, the rest are routed.
    std::map<std::string, std::string> retried;
    for (const auto& [prefix, n] : refused_batches) {
      ASSERT_TRUE(Batch(prefix, n, &retried).ok()) << prefix;
    }
    ASSERT_TRUE(Batch("after", 50, &acked).ok());

    auto check = [&] {
      for (const auto& [id, owner] : acked) {
        ASSERT_EQ(Owner(id), owner) << id;
      }
      for (const auto& [id, owner] : retried) {
        ASSERT_EQ(Owner(id), owner) << id;
      }
      // Each lead once: the reps' open leads are the leads routed.
      std::set<std::string> leads;
      for (const auto& [id, owner] : acked) leads.insert(id);
      for (const auto& [id, owner] : retried) leads.insert(id);
      EXPECT_EQ(OpenLeads(), static_cast<int64_t>(leads.size()));
    };
    check();
    Restart();
    check();
  }

  bool tmpfs_ = false;
  bool mounted_ = false;
  std::filesystem::path data_;
  runtime::FailingStore* switch_ = nullptr;
};

TEST_F(StoreFaultTest, AFullDiskIsVisibleAndRecoveredFromWhenSpaceIsFreed) {
  StartWith(/*tmpfs=*/true);
  if (!mounted_) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root); "
                    "ACommitFailureIsVisibleAndRecoveredFrom covers the path";
  }
  DiskFullThenFreed();
}

TEST_F(StoreFaultTest, ACommitFailureIsVisibleAndRecoveredFrom) {
  StartWith(/*tmpfs=*/false);
  DiskFullThenFreed();
}

}  // namespace
}  // namespace leadroute
