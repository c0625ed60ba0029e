// The SLA sweeper thread; see sweeper.h.
#include "runtime/sweeper.h"

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
      // A failed store refuses the prune; the next Route says why.
      assigner_->log()
          .AppendIfUsable(
              EventPrune{now - options_.event_retention, options_.prune_batch})
          .IgnoreError();
      last_prune_ = now;
    }
    lock.lock();
  }
}

}  // namespace leadroute::runtime
