// CommitLog: the one writer of a StateStore. Changes are appended in the
// order they were made and numbered (the change number, which is also a
// lead event's id); a writer thread commits whatever has accumulated since
// its last commit in one StateStore::Apply (group commit). A caller learns
// when its change is durable (WhenDurable) and answers its client only then,
// so an acknowledged change is never lost; since batches commit in order,
// what survives a crash is always a prefix of what was appended. Committed
// events go to subscribers in id order.
//
// If a commit fails (a full disk, an I/O error), the log refuses further
// changes (Usable) rather than let state run further ahead of the disk,
// fails every caller waiting, and retries the failed batch every
// `retry_every` until the store takes it; then the changes appended
// meanwhile follow, in order, and the log is usable again. The batch's
// callers were told UNAVAILABLE, yet their changes are kept (the caller's
// state already holds them): a client retrying by lead id finds its
// assignment, made once. Nothing is ever written out of order, so the store
// still holds a prefix of what was appended.
//
// Locks, never two at once on the writer thread:
// - mu_: the queue of changes and their numbering. Append is called with
//   the caller's own lock held (the Assigner's), so numbers follow the
//   order in which the caller changed its state; the lock order is the
//   caller's lock, then mu_.
// - done_mu_: commit progress, the failure, the calls waiting for it, and
//   who hears of the store's health.
// - sinks_mu_: subscribers; the writer delivers under it, so Unsubscribe
//   waits for a delivery under way.
#ifndef LEADROUTE_RUNTIME_COMMIT_LOG_H_
#define LEADROUTE_RUNTIME_COMMIT_LOG_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

// About what an event holds in memory.
size_t ApproxBytes(const LeadEvent& e);

class CommitLog {
 public:
  // Starts the writer over `store` (which must outlive the log), whose
  // committed changes end at number `last`.
  CommitLog(StateStore* store, uint64_t last,
            absl::Duration retry_every = absl::Seconds(1));
  // Commits everything appended, then stops the writer.
  ~CommitLog();
  CommitLog(const CommitLog&) = delete;
  CommitLog& operator=(const CommitLog&) = delete;

  // Queues `change` for the next commit; returns its number, which is also
  // written into it: an Assignment's seq, a LeadEvent's id.
  uint64_t Append(StateChange change);
  // Queues `changes` for one commit, in order, each numbered as Append
  // numbers it; returns the first one's number. What must be stored
  // together goes in one call (an assignment, the rotation that chose its
  // owner, its events): a commit between two Appends would keep one
  // without the others if the process died before the next.
  uint64_t AppendTogether(std::vector<StateChange> changes);
  // Append, for a change that depends on no caller's state (a retention
  // prune, a consumer's cursor) and so needs no caller lock: UNAVAILABLE
  // instead once a commit has failed.
  absl::StatusOr<uint64_t> AppendIfUsable(StateChange change);
  // The number the next Append returns: stable while the caller holds the
  // lock it appends under (a rep's turn is numbered by the assignment about
  // to be appended).
  uint64_t Next();
  // OK, or UNAVAILABLE while a failed commit waits for its retry: no change
  // may be made.
  absl::Status Usable() const;
  // Commits that failed, since start.
  uint64_t FailedCommits() const { return failed_commits_.load(); }
  // `changed` hears when the store starts failing (the error), when a
  // retry fails with another kind of error (another status code: a lost
  // connection, then a writer fenced by another), and when it works again
  // (OK), on the writer thread; it must be quick and must not append. Set
  // it before the first change.
  void OnHealthChange(std::function<void(const absl::Status&)> changed);
  // The last change number committed.
  uint64_t Committed() const;

  // Calls `done` once change `seq` is durable (at once if it is), with the
  // store's error if it failed. `done` runs on the writer thread or the
  // caller's; it must not append to the log.
  void WhenDurable(uint64_t seq, std::function<void(absl::Status)> done);
  // Blocks until change `seq` is durable.
  absl::Status WaitDurable(uint64_t seq);

  // One commit's events, in id order, shared by every subscriber (none
  // copies them), with about how much memory they hold.
  struct EventBatch {
    std::vector<LeadEvent> events;
    size_t bytes = 0;
  };
  // `sink` receives each commit's events on the writer thread, after the
  // commit's waiting callers are answered; it must be quick (keep the
  // pointer, not a copy) and must not append to the log. Returns a handle
  // for Unsubscribe, which waits for a delivery under way.
  using EventSink =
      std::function<void(const std::shared_ptr<const EventBatch>&)>;
  uint64_t Subscribe(EventSink sink);
  void Unsubscribe(uint64_t handle);

 private:
  void WriterLoop();
  // Numbers `change` and queues it (mu_ held); its number.
  uint64_t Queue(StateChange change);

  StateStore* const store_;
  const absl::Duration retry_every_;
  std::atomic<uint64_t> failed_commits_{0};

  std::mutex mu_;
  std::condition_variable work_;
  std::vector<StateChange> pending_;
  uint64_t seq_;  // the last change number handed out
  bool stopping_ = false;

  mutable std::mutex done_mu_;
  uint64_t committed_;
  absl::Status failed_;
  std::multimap<uint64_t, std::function<void(absl::Status)>> waiters_;
  std::function<void(const absl::Status&)> health_changed_;

  std::mutex sinks_mu_;
  std::map<uint64_t, EventSink> sinks_;
  uint64_t next_sink_ = 0;
  std::atomic<int> sink_count_{0};

  std::thread writer_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_COMMIT_LOG_H_
