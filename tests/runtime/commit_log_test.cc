// The CommitLog over the real SQLite store in a temporary folder: numbers
// follow the order of appends from many threads, callers hear of their
// change only once it is committed, subscribers see every committed event
// once and in order, a restart resumes the numbering, and a failed commit
// refuses every later change.
#include "runtime/commit_log.h"

#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/sqlite_store.h"
#include "tests/runtime/state_fixture.h"
#include "tests/test_dir.h"

namespace leadroute::runtime {
namespace {

class CommitLogTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = testing_util::FreshTestDir("commit-log"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<StateStore> OpenStore() {
    auto store = SqliteStore::Open((dir_ / SqliteStore::kFileName).string());
    EXPECT_TRUE(store.ok()) << store.status();
    return *std::move(store);
  }

  // Appends an event for lead `lead` under `mu` (the caller's lock, as the
  // Assigner holds its own); the change number.
  static uint64_t AppendEvent(CommitLog& log, std::mutex& mu,
                              const std::string& lead) {
    std::lock_guard<std::mutex> lock(mu);
    LeadEvent e;
    e.lead_id = lead;
    e.kind = "assigned";
    e.at = absl::FromUnixSeconds(1795428000);
    return log.Append(std::move(e));
  }

  std::filesystem::path dir_;
};

TEST_F(CommitLogTest, ChangesAreDurableInOrderAndSeenOnceBySubscribers) {
  std::unique_ptr<StateStore> store = OpenStore();
  ASSERT_TRUE(store->Load().ok());
  std::vector<uint64_t> seen;  // event ids, as delivered
  std::mutex seen_mu;
  std::mutex appends;
  {
    CommitLog log(store.get(), 0);
    log.Subscribe([&](const std::vector<LeadEvent>& events) {
      std::lock_guard<std::mutex> lock(seen_mu);
      for (const LeadEvent& e : events) seen.push_back(e.id);
    });
    constexpr int kThreads = 4, kEach = 50;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const uint64_t seq =
              AppendEvent(log, appends, absl::StrCat(t, "-", i));
          log.WhenDurable(seq, [&log, seq](absl::Status s) {
            EXPECT_TRUE(s.ok()) << s;
            EXPECT_GE(log.Committed(), seq);  // told only once committed
          });
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_TRUE(log.WaitDurable(kThreads * kEach).ok());
    EXPECT_EQ(log.Committed(), static_cast<uint64_t>(kThreads * kEach));
  }
  // Every event once, in id order, to the subscriber and in the store.
  ASSERT_EQ(seen.size(), 200u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
  absl::StatusOr<std::vector<LeadEvent>> stored = store->EventsAfter(0, 1000);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 200u);
  EXPECT_EQ(stored->back().id, 200u);

  // A restart numbers on from what the store holds.
  store = OpenStore();
  absl::StatusOr<StateSnapshot> snapshot = store->Load();
  ASSERT_TRUE(snapshot.ok());
  CommitLog log(store.get(), snapshot->last_event_id);
  EXPECT_EQ(log.Committed(), 200u);
  EXPECT_EQ(log.Next(), 201u);
}

TEST_F(CommitLogTest, AFailedCommitFailsItsWaitersAndEveryLaterChange) {
  FailingStore store(OpenStore());
  ASSERT_TRUE(store.Load().ok());
  std::mutex appends;
  CommitLog log(&store, 0);
  EXPECT_TRUE(log.WaitDurable(AppendEvent(log, appends, "L1")).ok());
  store.fail = true;
  const uint64_t lost = AppendEvent(log, appends, "L2");
  absl::Status waited = log.WaitDurable(lost);
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(waited.message().find("disk full"), std::string::npos) << waited;
  EXPECT_EQ(log.Usable().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(log.Committed(), 1u);
  // Nothing after the failure is written, even once the disk is back.
  store.fail = false;
  EXPECT_EQ(log.WaitDurable(AppendEvent(log, appends, "L3")).code(),
            absl::StatusCode::kUnavailable);
  absl::StatusOr<std::vector<LeadEvent>> stored = store.EventsAfter(0, 10);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(stored->front().lead_id, "L1");
}

}  // namespace
}  // namespace leadroute::runtime
