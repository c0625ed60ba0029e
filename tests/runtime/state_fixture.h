// The state tests' shared set-up: rules checked into a TreePolicy (any
// diagnostic fails the test) and an Assigner over a real store, on a
// FakeClock starting Monday 2026-11-23 15:00 UTC. Built once, run three
// ways (ctest does all three), by LEADROUTE_TEST_STATE:
//   unset        a SQLite file in a fresh temporary folder;
//   small-cache  the same with a working set of one lead, so nearly every
//                lead a test comes back to is read from the store;
//   pg           a fresh database per test on a real PostgreSQL 15 server
//                the whole process shares.
#ifndef LEADROUTE_TESTS_RUNTIME_STATE_FIXTURE_H_
#define LEADROUTE_TESTS_RUNTIME_STATE_FIXTURE_H_

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "compiler/compiler.h"
#include "gtest/gtest.h"
#include "runtime/assigner.h"
#include "runtime/decide.h"
#include "runtime/pg_store.h"
#include "runtime/sqlite_store.h"
#include "runtime/tree_policy.h"
#include "tests/pg/pg_server.h"
#include "tests/runtime/forwarding_store.h"
#include "tests/test_dir.h"

namespace leadroute::runtime {

enum class TestBackend { kSqlite, kSmallCache, kPg };

// LEADROUTE_TEST_STATE, read once; an unknown value stops the binary.
inline TestBackend StateBackend() {
  static const TestBackend backend = [] {
    const char* value = std::getenv("LEADROUTE_TEST_STATE");
    const std::string v = value == nullptr ? "" : value;
    if (v.empty() || v == "sqlite") return TestBackend::kSqlite;
    if (v == "small-cache") return TestBackend::kSmallCache;
    if (v == "pg") return TestBackend::kPg;
    std::fprintf(stderr,
                 "LEADROUTE_TEST_STATE=%s: expected sqlite, small-cache or "
                 "pg\n",
                 v.c_str());
    std::abort();
  }();
  return backend;
}

// The server the pg run's tests share (ctest runs the binary as one test
// then: one server start instead of one per test), started by the first
// test and stopped when the last one is done.
inline std::unique_ptr<testing_util::PgServer>& SharedPgServer() {
  static std::unique_ptr<testing_util::PgServer> server;
  return server;
}
class PgServerEnvironment : public testing::Environment {
 public:
  void TearDown() override {
    if (SharedPgServer() == nullptr) return;
    SharedPgServer().reset();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir;
};
inline PgServerEnvironment* const kPgServerEnvironment =
    static_cast<PgServerEnvironment*>(
        testing::AddGlobalTestEnvironment(new PgServerEnvironment));

// A database of its own on the shared server: its connection string.
inline std::string FreshPgDatabase() {
  static int databases = 0;
  if (SharedPgServer() == nullptr) {
    kPgServerEnvironment->dir = testing_util::FreshTestDir("pg-state");
    auto server = testing_util::PgServer::Start(kPgServerEnvironment->dir);
    if (!server.ok()) {
      std::fprintf(stderr, "starting PostgreSQL: %s\n",
                   std::string(server.status().message()).c_str());
      std::abort();
    }
    SharedPgServer() = *std::move(server);
  }
  const std::string name = absl::StrCat("state_", ++databases);
  absl::StatusOr<std::string> made =
      SharedPgServer()->Psql(absl::StrCat("CREATE DATABASE ", name));
  EXPECT_TRUE(made.ok()) << made.status();
  return SharedPgServer()->conninfo(name);
}

// A real store that can be told to fail every commit from now on, as a
// full disk would.
class FailingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::Status Apply(absl::Span<const StateChange> changes) override {
    if (fenced) {
      return absl::FailedPreconditionError("another writer took over");
    }
    if (fail) return absl::InternalError("disk full");
    return ForwardingStore::Apply(changes);
  }
  std::atomic<bool> fail{false};
  std::atomic<bool> fenced{false};  // fails as a fenced PgStore does
};

class StateFixture : public testing::Test {
 protected:
  // Call from SetUp: `prefix` names the temporary folder.
  void SetUpState(const char* prefix, const char* rules) {
    dir_ = testing_util::FreshTestDir(prefix);
    compiler::CheckResult r = compiler::CheckText("t.route", rules);
    for (const compiler::Diagnostic& d : r.diagnostics.all()) {
      ADD_FAILURE() << compiler::RenderText(r.module->sources, d);
    }
    ASSERT_TRUE(r.ok());
    policy_ = std::make_unique<TreePolicy>(r.program);
    if (StateBackend() == TestBackend::kPg) conninfo_ = FreshPgDatabase();
    Open();
  }
  void TearDown() override {
    assigner_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The test's store: the folder's SQLite file, or its PostgreSQL
  // database.
  absl::StatusOr<std::unique_ptr<StateStore>> OpenStore() {
    if (StateBackend() == TestBackend::kPg) return PgStore::Open(conninfo_);
    return SqliteStore::Open((dir_ / SqliteStore::kFileName).string());
  }
  // The test's store opened read-only, as `leadroute state` opens it.
  absl::StatusOr<std::unique_ptr<StateStore>> OpenStoreReadOnly() {
    if (StateBackend() == TestBackend::kPg) {
      return PgStore::OpenReadOnly(conninfo_);
    }
    return SqliteStore::OpenReadOnly((dir_ / SqliteStore::kFileName).string());
  }

  // Starts the Assigner on the test's store with options_ (its commits
  // held by held_, when set).
  void Open() {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenStore();
    ASSERT_TRUE(store.ok()) << store.status();
    std::unique_ptr<StateStore> opened = *std::move(store);
    if (held_ != nullptr) {
      opened = std::make_unique<HeldStore>(std::move(opened), held_);
    }
    if (wrap_ != nullptr) opened = wrap_(std::move(opened));
    absl::StatusOr<std::unique_ptr<Assigner>> a =
        Assigner::Start(std::move(opened), &clock_, options_);
    ASSERT_TRUE(a.ok()) << a.status();
    assigner_ = *std::move(a);
  }
  // A restart: the Assigner stops (committing everything) and starts again.
  void Reopen() {
    assigner_.reset();
    Open();
  }

  const Program& program() { return policy_->program(); }

  // Binds `lead` to the program, as the server does, and decides it.
  absl::StatusOr<Decision> Decide(const Lead& lead, const DecideOptions& o) {
    absl::StatusOr<BoundLead> bound = BindLead(program(), lead);
    if (!bound.ok()) return bound.status();
    Bound() = *std::move(bound);
    return policy_->DecideBound(lead.id, Bound(), o);
  }
  // Assigns the lead Decide last bound on this thread; the change number
  // to wait for.
  absl::StatusOr<uint64_t> Assign(const AssignInput& input, Decision* d) {
    return assigner_->Assign(program(), Bound(), input, d);
  }

  // The lead Decide last bound on this thread: tests route from several
  // threads at once, and Assign reads the lead (its email) while another
  // thread's Decide would overwrite a shared one.
  static BoundLead& Bound() {
    thread_local BoundLead bound;
    return bound;
  }

  std::filesystem::path dir_;
  std::string conninfo_;  // pg: the test's database
  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 11, 23, 15, 0, 0),
                                   absl::UTCTimeZone())};  // a Monday
  AssignerOptions options_{.lead_cache =
                               StateBackend() == TestBackend::kSmallCache
                                   ? size_t{1}
                                   : AssignerOptions().lead_cache};
  std::shared_ptr<HeldStore::Control> held_;
  // When set, what Open puts around the store (a ForwardingStore).
  std::function<std::unique_ptr<StateStore>(std::unique_ptr<StateStore>)> wrap_;
  std::unique_ptr<TreePolicy> policy_;
  std::unique_ptr<Assigner> assigner_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_TESTS_RUNTIME_STATE_FIXTURE_H_
