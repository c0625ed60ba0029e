// The state tests' shared set-up: rules checked into a TreePolicy (any
// diagnostic fails the test) and an Assigner over a real SQLite file in a
// fresh temporary folder, on a FakeClock starting Monday 2026-11-23 15:00
// UTC. Built twice: as is, and with LEADROUTE_TEST_LEAD_CACHE set to a
// working set of that many leads.
#ifndef LEADROUTE_TESTS_RUNTIME_STATE_FIXTURE_H_
#define LEADROUTE_TESTS_RUNTIME_STATE_FIXTURE_H_

#include <atomic>
#include <filesystem>
#include <memory>

#include "compiler/compiler.h"
#include "gtest/gtest.h"
#include "runtime/assigner.h"
#include "runtime/decide.h"
#include "runtime/sqlite_store.h"
#include "runtime/tree_policy.h"
#include "tests/runtime/forwarding_store.h"
#include "tests/test_dir.h"

namespace leadroute::runtime {

// A real store that can be told to fail every commit from now on, as a
// full disk would.
class FailingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::Status Apply(absl::Span<const StateChange> changes) override {
    if (fail) return absl::InternalError("disk full");
    return ForwardingStore::Apply(changes);
  }
  std::atomic<bool> fail{false};
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
    Open();
  }
  void TearDown() override {
    assigner_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts the Assigner on the folder's store with options_ (its commits
  // held by held_, when set).
  void Open() {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open((dir_ / SqliteStore::kFileName).string());
    ASSERT_TRUE(store.ok()) << store.status();
    std::unique_ptr<StateStore> opened = *std::move(store);
    if (held_ != nullptr) {
      opened = std::make_unique<HeldStore>(std::move(opened), held_);
    }
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
  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 11, 23, 15, 0, 0),
                                   absl::UTCTimeZone())};  // a Monday
#ifdef LEADROUTE_TEST_LEAD_CACHE
  // state_small_cache_test: the same tests with a working set this small,
  // so nearly every lead they touch again is read back from the store.
  AssignerOptions options_{.lead_cache = LEADROUTE_TEST_LEAD_CACHE};
#else
  AssignerOptions options_;
#endif
  std::shared_ptr<HeldStore::Control> held_;
  std::unique_ptr<TreePolicy> policy_;
  std::unique_ptr<Assigner> assigner_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_TESTS_RUNTIME_STATE_FIXTURE_H_
