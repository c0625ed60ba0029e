// The SLA sweeper thread; see sweeper.h.
#include "runtime/sweeper.h"

#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace leadroute::runtime {

Sweeper::Sweeper(Assigner* assigner, const Clock* clock, LiveProgram live,
                 SweeperOptions options)
    : assigner_(assigner),
      clock_(clock),
      live_(std::move(live)),
      options_(options),
      thread_([this] { Loop(); }) {}

Sweeper::~Sweeper() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

bool Sweeper::Prune(absl::Time now) {
  EventPrune prune{now - options_.event_retention, options_.prune_batch};
  if (options_.keep_after != nullptr) {
    if (std::optional<uint64_t> kept = options_.keep_after()) {
      const uint64_t waiting = assigner_->log().Committed() - *kept;
      if (waiting <= static_cast<uint64_t>(options_.max_kept_for_consumer)) {
        prune.max_id = *kept;
      } else if (!over_kept_) {
        // Past the bound, age wins; the consumer reports the gap.
        LogWarn(
            "retention: the webhook is too far behind; its oldest "
            "undelivered events are pruned by age",
            {{"waiting", absl::StrCat(waiting)}});
      }
      over_kept_ =
          waiting > static_cast<uint64_t>(options_.max_kept_for_consumer);
    }
  }
  // Event ids only grow, so a full batch moves PrunedThrough at least
  // prune_batch ahead.
  return Drained([this] { return assigner_->committed().PrunedThrough(); },
                 [&] { return assigner_->log().AppendIfUsable(prune); });
}

bool Sweeper::PruneLeads(absl::Time now) {
  return Drained([this] { return assigner_->committed().PrunedAssignments(); },
                 [&] {
                   return assigner_->PruneEnded(now - options_.lead_retention,
                                                options_.prune_batch);
                 });
}

bool Sweeper::Drained(const std::function<absl::StatusOr<uint64_t>()>& progress,
                      const std::function<absl::StatusOr<uint64_t>()>& prune) {
  absl::StatusOr<uint64_t> before = progress();
  // A failed store refuses the prune; the next Route says why.
  absl::StatusOr<uint64_t> seq = prune();
  if (!seq.ok() || !before.ok() || !assigner_->log().WaitDurable(*seq).ok()) {
    return true;
  }
  absl::StatusOr<uint64_t> after = progress();
  // A full batch leaves more to do.
  return !after.ok() ||
         *after - *before < static_cast<uint64_t>(options_.prune_batch);
}

void Sweeper::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.interval),
                            [this] { return stopping_; })) {
    lock.unlock();
    const absl::Time now = clock_->Now();
    std::optional<absl::Time> due = assigner_->NextDue();
    if (due && *due <= now) {
      if (std::shared_ptr<const Program> p = live_(); p != nullptr) {
        assigner_->Sweep(*p, now);
      }
    }
    if (options_.event_retention > absl::ZeroDuration() &&
        now - last_prune_ >= options_.prune_every) {
      if (Prune(now)) last_prune_ = now;  // else again at the next tick
    }
    if (options_.lead_retention > absl::ZeroDuration() &&
        now - last_lead_prune_ >= options_.prune_every) {
      if (PruneLeads(now)) last_lead_prune_ = now;
    }
    lock.lock();
  }
}

}  // namespace leadroute::runtime
