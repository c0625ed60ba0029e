// Choosing the writer among replicas; see writer_election.h.
#include "src/server/writer_election.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace leadroute {

WriterElection::WriterElection(
    std::unique_ptr<runtime::PgStore> store, std::string address,
    absl::Duration poll, WriterLink* link,
    std::function<void(std::unique_ptr<runtime::PgStore>)> become_writer,
    std::function<void(const absl::Status&)> health,
    std::function<void()> follow)
    : store_(std::move(store)),
      address_(std::move(address)),
      poll_(poll),
      link_(link),
      become_writer_(std::move(become_writer)),
      health_(std::move(health)),
      follow_(std::move(follow)),
      thread_([this] { Run(); }) {}

WriterElection::~WriterElection() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void WriterElection::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

void WriterElection::Run() {
  std::string seen;  // the writer's address last read
  for (;;) {
    runtime::PgStore::Writer current;
    absl::StatusOr<bool> won = store_->TryBecomeWriter(address_, &current);
    health_(won.status());
    if (won.ok() && *won) {
      LogInfo("writer",
              {{"epoch", absl::StrCat(store_->epoch())}, {"addr", address_}});
      runtime::PgStore* writer = store_.get();
      become_writer_(std::move(store_));
      // The writer goes on reading who the writer is every poll, so that
      // health says NOT_SERVING while the database cannot be reached, and
      // a writer another replica took over (its session ended with a
      // database restart) hears it and stops, even when no commit is there
      // to fail. The store outlives this thread (the server stops the
      // election first).
      for (;;) {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait_for(lock, absl::ToChronoNanoseconds(poll_),
                       [&] { return stopping_; });
        if (stopping_) return;
        lock.unlock();
        health_(writer->CheckStillWriter());
      }
    }
    if (won.ok() && current.address != seen) {
      seen = current.address;
      // This replica's own address is a writer session of an earlier life
      // not yet ended (a lost machine's): forwarding there would loop.
      link_->SetWriter(seen == address_ ? "" : seen);
      LogInfo("following writer",
              {{"epoch", absl::StrCat(current.epoch)}, {"writer", seen}});
    }
    if (won.ok()) follow_();
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, absl::ToChronoNanoseconds(poll_),
                   [&] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace leadroute
