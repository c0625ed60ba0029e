// The state store's one writer, with group commit; see the header.
#include "runtime/commit_log.h"

#include <utility>
#include <variant>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace leadroute::runtime {
namespace {

// Drops the changes a later one in the same batch overwrites: a busy team's
// rotation moves once per lead, but only where it ends up needs writing.
// Assignments and events are kept (an assignment replaced within one batch
// is rare; events are history).
void DropSuperseded(std::vector<StateChange>* batch) {
  absl::flat_hash_set<absl::string_view> teams, reps, cursors;
  std::vector<bool> superseded(batch->size());
  for (size_t i = batch->size(); i-- > 0;) {
    const StateChange& c = (*batch)[i];
    if (const auto* t = std::get_if<TeamCursor>(&c)) {
      superseded[i] = !teams.insert(t->team).second;
    } else if (const auto* r = std::get_if<RepStatus>(&c)) {
      superseded[i] = !reps.insert(r->rep).second;
    } else if (const auto* k = std::get_if<Cursor>(&c)) {
      superseded[i] = !cursors.insert(k->name).second;
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < batch->size(); ++i) {
    if (superseded[i]) continue;
    if (kept != i) (*batch)[kept] = std::move((*batch)[i]);
    ++kept;
  }
  batch->resize(kept);
}

}  // namespace

CommitLog::CommitLog(StateStore* store, uint64_t last)
    : store_(store), seq_(last), committed_(last) {
  writer_ = std::thread([this] { WriterLoop(); });
}

CommitLog::~CommitLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  writer_.join();
}

uint64_t CommitLog::Append(StateChange change) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t number = ++seq_;
  if (auto* a = std::get_if<Assignment>(&change)) a->seq = number;
  if (auto* e = std::get_if<LeadEvent>(&change)) e->id = number;
  pending_.push_back(std::move(change));
  if (pending_.size() == 1) work_.notify_one();
  return number;
}

absl::StatusOr<uint64_t> CommitLog::AppendIfUsable(StateChange change) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return Append(std::move(change));
}

uint64_t CommitLog::Next() {
  std::lock_guard<std::mutex> lock(mu_);
  return seq_ + 1;
}

absl::Status CommitLog::Usable() const {
  std::lock_guard<std::mutex> lock(done_mu_);
  return failed_;
}

uint64_t CommitLog::Committed() const {
  std::lock_guard<std::mutex> lock(done_mu_);
  return committed_;
}

void CommitLog::WriterLoop() {
  std::vector<StateChange> batch;
  for (;;) {
    uint64_t last = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and everything committed
      batch.swap(pending_);
      last = seq_;
    }
    // After a failed commit nothing more is written, even if the store
    // would take it now: a later change on disk without the lost one
    // before it would break "the store holds a prefix".
    absl::Status status = Usable();
    if (status.ok()) {
      DropSuperseded(&batch);
      status = store_->Apply(batch);
    }
    if (status.ok() && sink_count_.load(std::memory_order_relaxed) > 0) {
      std::vector<LeadEvent> events;
      for (StateChange& c : batch) {
        if (auto* e = std::get_if<LeadEvent>(&c))
          events.push_back(std::move(*e));
      }
      std::lock_guard<std::mutex> lock(sinks_mu_);
      for (auto& [handle, sink] : sinks_) sink(events);
    }
    batch.clear();
    std::vector<std::function<void(absl::Status)>> ready;
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      if (status.ok()) {
        committed_ = last;
      } else if (failed_.ok()) {
        failed_ = absl::UnavailableError(absl::StrCat(
            "the state store failed; no further assignments until the "
            "server is restarted: ",
            status.message()));
      }
      auto end =
          failed_.ok() ? waiters_.upper_bound(committed_) : waiters_.end();
      for (auto it = waiters_.begin(); it != end; ++it) {
        ready.push_back(std::move(it->second));
      }
      waiters_.erase(waiters_.begin(), end);
      status = failed_;
    }
    for (auto& done : ready) done(status);
  }
}

void CommitLog::WhenDurable(uint64_t seq,
                            std::function<void(absl::Status)> done) {
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    if (failed_.ok() && seq > committed_) {
      waiters_.emplace(seq, std::move(done));
      return;
    }
    status = failed_;
  }
  done(status);
}

absl::Status CommitLog::WaitDurable(uint64_t seq) {
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  absl::Status result;
  WhenDurable(seq, [&](absl::Status s) {
    std::lock_guard<std::mutex> lock(m);
    result = std::move(s);
    finished = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return finished; });
  return result;
}

uint64_t CommitLog::Subscribe(EventSink sink) {
  std::lock_guard<std::mutex> lock(sinks_mu_);
  sinks_.emplace(++next_sink_, std::move(sink));
  sink_count_.store(static_cast<int>(sinks_.size()));
  return next_sink_;
}

void CommitLog::Unsubscribe(uint64_t handle) {
  std::lock_guard<std::mutex> lock(sinks_mu_);
  sinks_.erase(handle);
  sink_count_.store(static_cast<int>(sinks_.size()));
}

}  // namespace leadroute::runtime
