// StoreTail: the events another process commits to a shared store, read
// back by polling, so that a replica that is not the writer (issue 22)
// serves WatchAssignments from the database itself. It starts at the
// newest event, and every `every` while anyone subscribes reads the
// events after the last it delivered, in id order, and hands them on as
// the writer's CommitLog would. One writer commits, in id order (its
// commits are serial and fenced: pg_store.h), so an event committed after a
// poll always has an id above everything that poll saw: polling by id
// misses nothing.
//
// A subscriber that comes after a quiet spell (no subscriber) restarts the
// tail at the newest event, so a tail nobody reads costs no queries.
// A failed read is tried again at the next poll; subscribers wait.
#ifndef LEADROUTE_RUNTIME_STORE_TAIL_H_
#define LEADROUTE_RUNTIME_STORE_TAIL_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "runtime/event_feed.h"

namespace leadroute::runtime {

class StoreTail final : public EventFeed {
 public:
  static constexpr int kReadBatch = 256;

  // Reads `reader` every `every` (it outlives nothing: the tail owns it).
  StoreTail(std::unique_ptr<StateReader> reader, absl::Duration every);
  ~StoreTail() override;

  uint64_t Subscribe(CommitLog::EventSink sink) override;
  void Unsubscribe(uint64_t handle) override;
  StateReader& committed() const override { return *reader_; }

 private:
  void Loop();
  // With poll_mu_ held: reads and delivers what is new.
  void Poll();

  const std::unique_ptr<StateReader> reader_;
  const absl::Duration every_;

  // Held by a poll, and by Subscribe while it restarts the tail; before
  // sinks_mu_.
  std::mutex poll_mu_;
  uint64_t last_ = 0;  // the last id delivered (or skipped to)

  std::mutex sinks_mu_;  // delivery happens under it
  std::map<uint64_t, CommitLog::EventSink> sinks_;
  uint64_t next_handle_ = 1;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_STORE_TAIL_H_
