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

size_t ApproxBytes(const LeadEvent& e) {
  return sizeof e + e.lead_id.size() + e.kind.size() + e.from.size() +
         e.to.size() + e.reason.size() + e.team.size() + e.channel.size() +
         e.priority.size() + e.actor.size();
}

CommitLog::CommitLog(StateStore* store, uint64_t last,
                     absl::Duration retry_every)
    : store_(store), retry_every_(retry_every), seq_(last), committed_(last) {
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
  const uint64_t number = Queue(std::move(change));
  if (pending_.size() == 1) work_.notify_one();
  return number;
}

uint64_t CommitLog::AppendTogether(std::vector<StateChange> changes) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool was_empty = pending_.empty();
  const uint64_t first = seq_ + 1;
  for (StateChange& change : changes) Queue(std::move(change));
  if (was_empty && !pending_.empty()) work_.notify_one();
  return first;
}

uint64_t CommitLog::Queue(StateChange change) {
  const uint64_t number = ++seq_;
  if (auto* a = std::get_if<Assignment>(&change)) a->seq = number;
  if (auto* e = std::get_if<LeadEvent>(&change)) e->id = number;
  pending_.push_back(std::move(change));
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

void CommitLog::OnHealthChange(
    std::function<void(const absl::Status&)> changed) {
  std::lock_guard<std::mutex> lock(done_mu_);
  health_changed_ = std::move(changed);
}

void CommitLog::WriterLoop() {
  std::vector<StateChange> batch;
  uint64_t last = 0;     // the batch's last change number
  bool failing = false;  // `batch` is a failed one, waiting for its retry
  // The store's error code at the last failure, while failing: a failure
  // of another kind is told again.
  absl::StatusCode failed_as = absl::StatusCode::kOk;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (failing) {
        // On stop, a failed batch is given up: none of it was acknowledged.
        if (work_.wait_for(lock, absl::ToChronoNanoseconds(retry_every_),
                           [&] { return stopping_; })) {
          return;
        }
      } else {
        work_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
        if (pending_.empty()) return;  // stopping, and everything committed
        batch.swap(pending_);
        last = seq_;
        DropSuperseded(&batch);
      }
    }
    const absl::Status status = store_->Apply(batch);
    if (!status.ok()) {
      failed_commits_.fetch_add(1);
      std::vector<std::function<void(absl::Status)>> failed;
      absl::Status told;
      std::function<void(const absl::Status&)> tell;
      {
        std::lock_guard<std::mutex> lock(done_mu_);
        if (failed_.ok() || status.code() != failed_as) tell = health_changed_;
        failed_as = status.code();
        failed_ = absl::UnavailableError(absl::StrCat(
            "the state store is failing; changes are refused until a retry "
            "(every ",
            absl::FormatDuration(retry_every_),
            ") commits: ", status.message()));
        told = failed_;
        for (auto& [seq, done] : waiters_) failed.push_back(std::move(done));
        waiters_.clear();
      }
      if (tell != nullptr) tell(told);
      for (auto& done : failed) done(told);
      failing = true;
      continue;
    }
    std::vector<std::function<void(absl::Status)>> ready;
    std::function<void(const absl::Status&)> tell;
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      if (failing) tell = health_changed_;
      committed_ = last;
      failed_ = absl::OkStatus();
      auto end = waiters_.upper_bound(committed_);
      for (auto it = waiters_.begin(); it != end; ++it) {
        ready.push_back(std::move(it->second));
      }
      waiters_.erase(waiters_.begin(), end);
    }
    failing = false;
    if (tell != nullptr) tell(absl::OkStatus());
    for (auto& done : ready) done(absl::OkStatus());
    // Callers first, subscribers after: a stream never delays an answer.
    if (sink_count_.load(std::memory_order_relaxed) > 0) {
      auto events = std::make_shared<EventBatch>();
      for (StateChange& c : batch) {
        if (auto* e = std::get_if<LeadEvent>(&c)) {
          events->bytes += ApproxBytes(*e);
          events->events.push_back(std::move(*e));
        }
      }
      if (!events->events.empty()) {
        const std::shared_ptr<const EventBatch> shared = std::move(events);
        std::lock_guard<std::mutex> lock(sinks_mu_);
        for (auto& [handle, sink] : sinks_) sink(shared);
      }
    }
    batch.clear();
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
