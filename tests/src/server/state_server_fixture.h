// The set-up the stateful server tests share: rules written into a fresh
// temporary folder, the real server started in-process on an ephemeral
// loopback port with a data dir there and a FakeClock (Monday 2026-11-23
// 10:00 UTC), and stubs over a real gRPC channel (made again by each
// start). A suite adds its own server options in Configure.
#ifndef LEADROUTE_TESTS_SRC_SERVER_STATE_SERVER_FIXTURE_H_
#define LEADROUTE_TESTS_SRC_SERVER_STATE_SERVER_FIXTURE_H_

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "runtime/clock.h"
#include "src/server/server.h"
#include "tests/test_dir.h"

namespace leadroute::testing_util {

class StateServerFixture : public testing::Test {
 protected:
  // Call from SetUp: `prefix` names the folder, `rules` its rule file.
  void SetUpServer(const char* prefix, const char* rules) {
    dir_ = FreshTestDir(prefix);
    std::filesystem::create_directories(dir_ / "data");
    std::ofstream(dir_ / "rules.route") << rules;
    Start();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts the server on the folder's rules, keeping state in its data dir
  // unless `with_state` is false.
  void Start(bool with_state = true) {
    auto registry = std::make_shared<RulesetRegistry>();
    CompileOutcome loaded = registry->LoadPath((dir_ / "rules.route").string());
    ASSERT_TRUE(loaded.status.ok()) << loaded.status;
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    if (with_state) options.data_dir = (dir_ / "data").string();
    options.clock = &clock_;
    Configure(&options);
    absl::StatusOr<std::unique_ptr<RouterServer>> server =
        RouterServer::Start(options, registry);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->address(),
                                   grpc::InsecureChannelCredentials());
    router_ = v1::LeadRouter::NewStub(channel_);
    assignments_ = v1::Assignments::NewStub(channel_);
    rules_admin_ = v1::RulesAdmin::NewStub(channel_);
  }
  // A restart on the same folder.
  void Restart() {
    server_.reset();
    Start();
  }

  // The suite's own options, set on each Start.
  virtual void Configure(ServerOptions* options) { (void)options; }

  std::filesystem::path dir_;
  runtime::FakeClock clock_{absl::FromUnixSeconds(1795428000)};
  std::unique_ptr<RouterServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::LeadRouter::Stub> router_;
  std::unique_ptr<v1::Assignments::Stub> assignments_;
  std::unique_ptr<v1::RulesAdmin::Stub> rules_admin_;
};

}  // namespace leadroute::testing_util

#endif  // LEADROUTE_TESTS_SRC_SERVER_STATE_SERVER_FIXTURE_H_
