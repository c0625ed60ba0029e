// A rolling upgrade, followers first: a follower that gathers Route calls
// into RouteMany, with a writer of a version before RouteMany (played by a
// writer that does not serve leadroute.v1.Writer, so it answers
// UNIMPLEMENTED). Two real replicas in this process on a real PostgreSQL.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "src/server/server.h"
#include "tests/pg/pg_server.h"
#include "tests/pg/replica_test_util.h"
#include "tests/src/server/grpc_test_util.h"
#include "tests/test_dir.h"

namespace leadroute {
namespace {

using testing_util::MetricValue;

class WriterUpgradeTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("writer_upgrade");
    std::ofstream(dir_ / "rules.route") << testing_util::kPoolRules;
    auto pg = testing_util::PgServer::Start(dir_ / "cluster");
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = *std::move(pg);
  }
  void TearDown() override {
    follower_.reset();
    writer_.reset();
    pg_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<RouterServer> Replica(bool writer_service) {
    auto registry = std::make_shared<RulesetRegistry>();
    CompileOutcome loaded = registry->LoadPath((dir_ / "rules.route").string());
    EXPECT_TRUE(loaded.status.ok()) << loaded.status;
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.admin_listen = "127.0.0.1:0";
    options.state = pg_->conninfo();
    options.writer_poll = absl::Milliseconds(100);
    options.writer_service = writer_service;
    absl::StatusOr<std::unique_ptr<RouterServer>> server =
        RouterServer::Start(options, registry);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  std::filesystem::path dir_;
  std::unique_ptr<testing_util::PgServer> pg_;
  std::unique_ptr<RouterServer> writer_;
  std::unique_ptr<RouterServer> follower_;
};

// The follower's first RouteMany is answered UNIMPLEMENTED: its routes, and
// every one after, go on to the writer one by one, so nothing fails, and
// the rotation stays exact.
TEST_F(WriterUpgradeTest, AFollowerFallsBackToSingleRoutesWithAnOlderWriter) {
  writer_ = Replica(/*writer_service=*/false);
  ASSERT_NE(writer_, nullptr);
  for (int i = 0; i < 200 && writer_->assigner() == nullptr; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(writer_->assigner(), nullptr) << "the first replica never wrote";
  follower_ = Replica(/*writer_service=*/true);
  ASSERT_NE(follower_, nullptr);
  ASSERT_EQ(follower_->assigner(), nullptr) << "two writers";

  auto channel = grpc::CreateChannel(follower_->address(),
                                     grpc::InsecureChannelCredentials());
  auto router = v1::LeadRouter::NewStub(channel);
  auto route = [&](const std::string& id, const std::string& region,
                   v1::RouteResponse* response) {
    v1::RouteRequest request;
    request.mutable_lead()->set_id(id);
    (*request.mutable_lead()->mutable_attributes())["region"].set_string_value(
        region);
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
    return router->Route(&context, request, response);
  };
  // The follower knows the writer once a call goes through (to the queue,
  // outside the rotation counted below).
  {
    grpc::Status s;
    v1::RouteResponse response;
    for (int i = 0; i < 100; ++i) {
      s = route(absl::StrCat("warm-", i), "elsewhere", &response);
      if (s.ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // `n` leads "PREFIX-i" to the pool from 32 clients at once (enough
  // waiting at once to gather): each answered, with its own lead.
  auto wave = [&](const std::string& prefix, int n) {
    std::vector<grpc::Status> statuses(n);
    std::vector<v1::RouteResponse> responses(n);
    std::atomic<int> next{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 32; ++c) {
      clients.emplace_back([&] {
        for (int i; (i = next++) < n;) {
          statuses[i] =
              route(absl::StrCat(prefix, "-", i), "pool", &responses[i]);
        }
      });
    }
    for (std::thread& t : clients) t.join();
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
      EXPECT_EQ(responses[i].decision().lead_id(),
                absl::StrCat(prefix, "-", i));
    }
  };
  auto follower_metric = [&](const std::string& name) {
    auto [code, page] = tests::HttpGet(follower_->admin_address(), "/metrics");
    EXPECT_EQ(code, 200) << page;
    return MetricValue(page, name);
  };

  ASSERT_NO_FATAL_FAILURE(wave("U", 300));
  // RouteMany was tried (the fallback was taken, not skipped).
  const double tried = follower_metric("leadroute_route_many_calls_total");
  EXPECT_GE(tried, 1);
  // Once it was refused, Routes go alone until the writer changes: a second
  // wave gathers none.
  ASSERT_NO_FATAL_FAILURE(wave("V", 90));
  EXPECT_EQ(follower_metric("leadroute_route_many_calls_total"), tried);

  // The rotation exact over both waves.
  const std::map<std::string, int> exact = {
      {"r1", 130}, {"r2", 130}, {"r3", 130}};
  EXPECT_EQ(testing_util::OwnerCounts(*pg_, "team = 'pool'"), exact);
  // The writer routed each as a Route call of its own: 390 and the
  // warm-up.
  auto [writer_code, writer_page] =
      tests::HttpGet(writer_->admin_address(), "/metrics");
  ASSERT_EQ(writer_code, 200) << writer_page;
  EXPECT_EQ(MetricValue(writer_page,
                        "leadroute_calls_total{method=\"Route\","
                        "code=\"OK\"}"),
            391)
      << writer_page;
}

}  // namespace
}  // namespace leadroute
