// WriterElection: a replica's part in choosing the writer among replicas
// sharing a PostgreSQL database (docs/deployment.md, "Several replicas").
// A thread tries every `poll` to take the writer lock through the
// replica's store (PgStore::TryBecomeWriter). While another replica holds
// it, this one learns where that writer answers and points its WriterLink
// there, so its stateful calls are forwarded; when the lock is free (the
// writer's session ended: it stopped, crashed or lost its connection for
// good), this replica takes it and hands the store to `become_writer`,
// and from then on only reads who the writer is every poll. A database it
// cannot reach, before or after, is reported to `health` (and OK once it
// can again); so is, as FAILED_PRECONDITION with the store fenced
// (PgStore::CheckStillWriter), another replica found to have become the
// writer after this one: the replica must start over. After each poll it
// lost, `follow` runs (the replica catches up with the database's live
// ruleset).
#ifndef LEADROUTE_SRC_SERVER_WRITER_ELECTION_H_
#define LEADROUTE_SRC_SERVER_WRITER_ELECTION_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "runtime/pg_store.h"
#include "src/service/writer_link.h"

namespace leadroute {

class WriterElection {
 public:
  // `address` is where the others are to forward to this replica.
  WriterElection(
      std::unique_ptr<runtime::PgStore> store, std::string address,
      absl::Duration poll, WriterLink* link,
      std::function<void(std::unique_ptr<runtime::PgStore>)> become_writer,
      std::function<void(const absl::Status&)> health,
      std::function<void()> follow);
  // Stops the thread (between two tries).
  ~WriterElection();
  // Tries again now rather than at the next poll (the writer could not be
  // reached).
  void Wake();
  WriterElection(const WriterElection&) = delete;
  WriterElection& operator=(const WriterElection&) = delete;

 private:
  void Run();

  std::unique_ptr<runtime::PgStore> store_;
  const std::string address_;
  const absl::Duration poll_;
  WriterLink* const link_;
  const std::function<void(std::unique_ptr<runtime::PgStore>)> become_writer_;
  const std::function<void(const absl::Status&)> health_;
  const std::function<void()> follow_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_WRITER_ELECTION_H_
