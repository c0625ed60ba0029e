// The CommitLog over the real SQLite store in a temporary folder: numbers
// follow the order of appends from many threads, callers hear of their
// change only once it is committed, subscribers see every committed event
// once and in order, a restart resumes the numbering, and a failed commit
// refuses changes until its retry commits.
#include "runtime/commit_log.h"

#include <chrono>
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

  // What a log's health listener heard, in order.
  class Heard {
   public:
    explicit Heard(CommitLog& log) {
      log.OnHealthChange([this](const absl::Status& s) {
        std::lock_guard<std::mutex> lock(mu_);
        all_.push_back(s);
      });
    }
    std::vector<absl::Status> all() {
      std::lock_guard<std::mutex> lock(mu_);
      return all_;
    }

   private:
    std::mutex mu_;
    std::vector<absl::Status> all_;
  };

  std::filesystem::path dir_;
};

TEST_F(CommitLogTest, ChangesAreDurableInOrderAndSeenOnceBySubscribers) {
  std::unique_ptr<StateStore> store = OpenStore();
  ASSERT_TRUE(store->Load(absl::InfinitePast()).ok());
  std::vector<uint64_t> seen;  // event ids, as delivered
  std::mutex seen_mu;
  std::mutex appends;
  {
    CommitLog log(store.get(), 0);
    log.Subscribe([&](const std::shared_ptr<const CommitLog::EventBatch>& b) {
      std::lock_guard<std::mutex> lock(seen_mu);
      for (const LeadEvent& e : b->events) seen.push_back(e.id);
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
  absl::StatusOr<StateSnapshot> snapshot = store->Load(absl::InfinitePast());
  ASSERT_TRUE(snapshot.ok());
  CommitLog log(store.get(), snapshot->last_event_id);
  EXPECT_EQ(log.Committed(), 200u);
  EXPECT_EQ(log.Next(), 201u);
}

// A failed commit fails its waiters at once and refuses changes while it
// is retried; once the store takes it (disk space freed) the log goes on
// where it stopped: the failed batch first, in order, nothing twice.
TEST_F(CommitLogTest, AFailedCommitIsRetriedUntilTheStoreTakesIt) {
  FailingStore store(OpenStore());
  ASSERT_TRUE(store.Load(absl::InfinitePast()).ok());
  std::mutex appends;
  CommitLog log(&store, 0, absl::Milliseconds(10));
  Heard heard(log);
  std::vector<std::string> delivered;
  std::mutex delivered_mu;
  log.Subscribe([&](const std::shared_ptr<const CommitLog::EventBatch>& b) {
    std::lock_guard<std::mutex> lock(delivered_mu);
    for (const LeadEvent& e : b->events) delivered.push_back(e.lead_id);
  });
  EXPECT_TRUE(log.WaitDurable(AppendEvent(log, appends, "L1")).ok());
  store.fail = true;
  absl::Status waited = log.WaitDurable(AppendEvent(log, appends, "L2"));
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(waited.message().find("disk full"), std::string::npos) << waited;
  EXPECT_NE(waited.message().find("until a retry"), std::string::npos)
      << waited;
  EXPECT_EQ(log.Usable().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(log.Committed(), 1u);
  // Retries keep failing: counted each time, reported once.
  while (log.FailedCommits() < 5) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    const std::vector<absl::Status> health = heard.all();
    ASSERT_EQ(health.size(), 1u);
    EXPECT_EQ(health[0].code(), absl::StatusCode::kUnavailable);
  }
  store.fail = false;
  for (int i = 0; i < 1000 && !log.Usable().ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(log.Usable().ok()) << "no recovery within 10 s";
  EXPECT_EQ(log.Committed(), 2u);
  EXPECT_TRUE(log.WaitDurable(AppendEvent(log, appends, "L3")).ok());
  {
    const std::vector<absl::Status> health = heard.all();
    ASSERT_EQ(health.size(), 2u);
    EXPECT_TRUE(health[1].ok());
  }
  absl::StatusOr<std::vector<LeadEvent>> stored = store.EventsAfter(0, 10);
  ASSERT_TRUE(stored.ok());
  std::vector<std::string> ids;
  for (const LeadEvent& e : *stored) ids.push_back(e.lead_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"L1", "L2", "L3"}));
  // Subscribers hear of a commit after its callers are answered.
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard<std::mutex> lock(delivered_mu);
      if (delivered.size() >= 3) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard<std::mutex> lock(delivered_mu);
  EXPECT_EQ(delivered, ids);
}

// While a failed batch is retried, a failure of another kind is told again
// (a lost database, then, once it is back, a writer fenced by another: the
// server stops on hearing it), a failure of the same kind is not.
TEST_F(CommitLogTest, AFailureOfAnotherKindIsToldAgain) {
  FailingStore store(OpenStore());
  ASSERT_TRUE(store.Load(absl::InfinitePast()).ok());
  std::mutex appends;
  CommitLog log(&store, 0, absl::Milliseconds(10));
  Heard heard(log);
  store.fail = true;
  EXPECT_FALSE(log.WaitDurable(AppendEvent(log, appends, "L1")).ok());
  while (log.FailedCommits() < 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(heard.all().size(), 1u);
  store.fenced = true;
  const uint64_t fenced_from = log.FailedCommits();
  while (log.FailedCommits() < fenced_from + 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::vector<absl::Status> all = heard.all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_NE(all[0].message().find("disk full"), std::string::npos) << all[0];
  EXPECT_EQ(all[1].code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(all[1].message().find("another writer took over"),
            std::string::npos)
      << all[1];
  store.fenced = false;
  store.fail = false;
}

}  // namespace
}  // namespace leadroute::runtime
