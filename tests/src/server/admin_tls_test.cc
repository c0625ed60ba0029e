// The admin port over HTTPS: with --tls-cert the real server's /healthz,
// /metrics and /status are served over TLS with the gRPC port's files,
// rotated with them, behind a TlsFront whose connections and handshakes are
// bounded. Certificates are made now by the openssl command line.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/fixed_policy.h"
#include "src/auth/token.h"
#include "src/server/admin_http.h"
#include "src/server/server.h"
#include "src/server/tls_front.h"
#include "tests/src/server/grpc_test_util.h"
#include "tests/src/server/https_get.h"
#include "tests/src/server/test_certs.h"
#include "tests/test_dir.h"

namespace leadroute {
namespace {

std::string AuthLine(const std::string& name, const std::string& roles) {
  return absl::StrCat(name, " ", roles, " ",
                      auth::HashText(auth::HashToken("token-" + name)), "\n");
}

std::string Bearer(const std::string& name) {
  return "Authorization: Bearer token-" + name + "\r\n";
}

class AdminTlsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("admin_tls");
    ASSERT_TRUE(tests::MakeCa(dir_, "ca") && tests::MakeCa(dir_, "ca2"))
        << "the openssl command line is needed";
    ASSERT_TRUE(tests::MakeServerCert(dir_, "ca", "server"));
    ASSERT_TRUE(tests::MakeServerCert(dir_, "ca2", "server2"));
    std::filesystem::copy_file(dir_ / "server.crt", dir_ / "live.crt");
    std::filesystem::copy_file(dir_ / "server.key", dir_ / "live.key");
    std::ofstream(dir_ / "auth.txt")
        << AuthLine("prometheus", "read") << AuthLine("backend", "route");
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  TlsFiles Files() const {
    TlsFiles files;
    files.cert = (dir_ / "live.crt").string();
    files.key = (dir_ / "live.key").string();
    return files;
  }

  void StartServer(const std::string& admin_listen = "127.0.0.1:0") {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.admin_listen = admin_listen;
    options.tls = Files();
    options.auth_file = (dir_ / "auth.txt").string();
    absl::StatusOr<std::unique_ptr<RouterServer>> server =
        RouterServer::Start(options, std::make_shared<runtime::FixedPolicy>());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // As an operator rotates: the new pair renamed over the old one.
  void Rotate() {
    std::filesystem::copy_file(dir_ / "server2.key", dir_ / "next.key");
    std::filesystem::copy_file(dir_ / "server2.crt", dir_ / "next.crt");
    std::filesystem::rename(dir_ / "next.key", dir_ / "live.key");
    std::filesystem::rename(dir_ / "next.crt", dir_ / "live.crt");
  }

  std::string Ca(const std::string& name) const {
    return (dir_ / (name + ".crt")).string();
  }

  std::filesystem::path dir_;
  std::unique_ptr<RouterServer> server_;
};

TEST_F(AdminTlsTest, AdminPortServesHttpsWithTheGrpcPortsFiles) {
  StartServer();
  const std::string admin = server_->admin_address();
  tests::HttpsResponse health = tests::HttpsGet(admin, "/healthz", Ca("ca"));
  EXPECT_EQ(health.code, 200) << health.body;
  EXPECT_TRUE(absl::StrContains(health.issuer, "CN=ca")) << health.issuer;
  // A client that does not trust the CA, and one that speaks plain HTTP.
  tests::HttpsResponse untrusted =
      tests::HttpsGet(admin, "/healthz", Ca("ca2"));
  EXPECT_EQ(untrusted.code, -1);
  EXPECT_TRUE(absl::StrContains(untrusted.body, "certificate verify failed"))
      << untrusted.body;
  EXPECT_EQ(tests::HttpGet(admin, "/healthz").first, -1);
  // Tokens as on the plain port.
  EXPECT_EQ(tests::HttpsGet(admin, "/metrics", Ca("ca")).code, 401);
  EXPECT_EQ(
      tests::HttpsGet(admin, "/metrics", Ca("ca"), Bearer("backend")).code,
      403);
  tests::HttpsResponse metrics =
      tests::HttpsGet(admin, "/metrics", Ca("ca"), Bearer("prometheus"));
  EXPECT_EQ(metrics.code, 200);
  EXPECT_TRUE(absl::StrContains(metrics.body, "leadroute_ruleset_info"));
  tests::HttpsResponse status =
      tests::HttpsGet(admin, "/status", Ca("ca"), Bearer("prometheus"));
  EXPECT_EQ(status.code, 200);
  EXPECT_TRUE(absl::StrContains(status.body, "\"serving\": true"))
      << status.body;
}

// With --auth and TLS the admin port counts as exposed safely: a public
// address needs no --insecure (it did while the port was plain HTTP).
TEST_F(AdminTlsTest, APublicAdminAddressNeedsOnlyAuthAndTls) {
  StartServer("0.0.0.0:0");
  const std::string admin = server_->admin_address();
  ASSERT_TRUE(absl::StartsWith(admin, "0.0.0.0:")) << admin;
  const std::string local =
      absl::StrCat("127.0.0.1:", admin.substr(admin.rfind(':') + 1));
  EXPECT_EQ(tests::HttpsGet(local, "/healthz", Ca("ca")).code, 200);
}

// Scrapes go on while the pair is renamed over; new connections get the new
// certificate within a few seconds, and none fails on the way.
TEST_F(AdminTlsTest, RotationUnderScrapesDropsNone) {
  StartServer();
  const std::string admin = server_->admin_address();
  const std::filesystem::path both = dir_ / "both.crt";
  std::ofstream(both) << tests::ReadAll(Ca("ca")) << tests::ReadAll(Ca("ca2"));
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::string failure;
  std::thread load([&] {
    while (!stop) {
      tests::HttpsResponse r = tests::HttpsGet(admin, "/metrics", both.string(),
                                               Bearer("prometheus"));
      if (r.code == 200) {
        ++ok;
      } else if (failed++ == 0) {
        failure = r.body;
      }
    }
  });
  absl::Cleanup join = [&] {
    stop = true;
    if (load.joinable()) load.join();
  };
  auto wait_for = [&](int n) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (ok < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return ok >= n;
  };
  ASSERT_TRUE(wait_for(5)) << "the scrapes make no progress";
  Rotate();
  bool rotated = false;
  for (int i = 0; i < 100 && !rotated; ++i) {
    rotated = tests::HttpsGet(admin, "/healthz", Ca("ca2")).code == 200;
    if (!rotated) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(rotated) << "the new certificate was not served within 10 s";
  EXPECT_EQ(tests::HttpsGet(admin, "/healthz", Ca("ca")).code, -1);
  ASSERT_TRUE(wait_for(ok + 5));
  std::move(join).Invoke();
  EXPECT_EQ(failed, 0) << failure;
}

// A TlsFront alone, in front of a real AdminHttp, with small limits.
TEST_F(AdminTlsTest, FrontBoundsConnectionsAndHandshakes) {
  auto registry = std::make_shared<RulesetRegistry>();
  registry->InstallPolicy(std::make_shared<runtime::FixedPolicy>(), "builtin",
                          "builtin");
  ServerMetrics metrics;
  auth::Authorizer open;
  absl::StatusOr<std::unique_ptr<AdminHttp>> http =
      AdminHttp::Start("127.0.0.1:0", registry.get(), &metrics, &open);
  ASSERT_TRUE(http.ok()) << http.status();
  const std::string inner = (*http)->address();
  TlsFront::Limits limits;
  limits.max_connections = 2;
  limits.handshake_timeout = absl::Seconds(1);
  limits.idle_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<TlsFront>> front =
      TlsFront::Start("127.0.0.1:0", Files(),
                      std::stoi(inner.substr(inner.rfind(':') + 1)), limits);
  ASSERT_TRUE(front.ok()) << front.status();
  const std::string address = (*front)->address();
  ASSERT_EQ(tests::HttpsGet(address, "/healthz", Ca("ca")).code, 200);

  // Two connections that never say a word take both places.
  const int silent[2] = {tests::ConnectLoopback(address),
                         tests::ConnectLoopback(address)};
  ASSERT_GE(silent[0], 0);
  ASSERT_GE(silent[1], 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  tests::HttpsResponse refused = tests::HttpsGet(address, "/healthz", Ca("ca"));
  EXPECT_EQ(refused.code, -1) << refused.body;
  EXPECT_EQ((*front)->refused(), 1u);
  // The handshake timeout closes them (a read sees the end: 0, where its
  // own 10 s timeout would be -1) and the port serves again.
  for (int fd : silent) {
    char byte;
    EXPECT_EQ(read(fd, &byte, 1), 0);
    close(fd);
  }
  EXPECT_EQ(tests::HttpsGet(address, "/healthz", Ca("ca")).code, 200);

  // A broken pair on disk keeps the one loaded.
  std::filesystem::copy_file(dir_ / "server2.key", dir_ / "live.key",
                             std::filesystem::copy_options::overwrite_existing);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(tests::HttpsGet(address, "/healthz", Ca("ca")).code, 200);
  EXPECT_EQ(tests::HttpsGet(address, "/healthz", Ca("ca")).code, 200);

  // Stopping with a connection open (mid-handshake) does not wait for it.
  const int pending = tests::ConnectLoopback(address);
  ASSERT_GE(pending, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  front->reset();
  char byte;
  EXPECT_EQ(read(pending, &byte, 1), 0);
  close(pending);
}

}  // namespace
}  // namespace leadroute
