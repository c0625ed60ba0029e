// Sweeper: the thread that acts on SLA deadlines and escalation steps. Every
// `interval` of real time it reads the clock and calls Assigner::Sweep with
// the live rules, so a breach is acted on within `interval` of its deadline
// (the clock may be a FakeClock in tests: advance it, and the next tick
// sees it). It also enforces event retention: once per `prune_every` of
// clock time it deletes events older than `event_retention`, a bounded
// batch at a time so a long backlog never stalls the writer, and again at
// the next tick while batches come back full, so it keeps up with any
// sustained rate. Events a consumer has not read yet (`keep_after`: the
// webhook's last delivered id) are kept, unless more than
// `max_kept_for_consumer` events wait for it. Lead retention works the same
// way on released and closed assignments that ended `lead_retention` ago.
#ifndef LEADROUTE_RUNTIME_SWEEPER_H_
#define LEADROUTE_RUNTIME_SWEEPER_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/time/time.h"
#include "runtime/assigner.h"
#include "runtime/clock.h"
#include "runtime/program.h"

namespace leadroute::runtime {

struct SweeperOptions {
  absl::Duration interval = absl::Milliseconds(250);
  // Events older than this are deleted; zero keeps them all.
  absl::Duration event_retention = absl::ZeroDuration();
  absl::Duration prune_every = absl::Minutes(1);
  int prune_batch = 10000;
  // The id after which events are kept for a consumer; null: none.
  std::function<std::optional<uint64_t>()> keep_after{};
  int64_t max_kept_for_consumer = 1000000;
  // Released and closed assignments that ended longer ago than this are
  // deleted; zero keeps them all.
  absl::Duration lead_retention = absl::ZeroDuration();
};

class Sweeper {
 public:
  // The live program, or null when there is none with reps (nothing is
  // swept then). Called once per tick.
  using LiveProgram = std::function<std::shared_ptr<const Program>()>;

  // Starts the thread. `assigner` and `clock` must outlive the Sweeper.
  Sweeper(Assigner* assigner, const Clock* clock, LiveProgram live,
          SweeperOptions options = {});
  // Stops and joins the thread.
  ~Sweeper();

  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;

 private:
  void Loop();
  // One bounded prune; false when it came back full (prune again soon).
  bool Prune(absl::Time now);
  // The same for ended assignments.
  bool PruneLeads(absl::Time now);
  // Runs `prune` (its change number) and waits for it; true unless
  // `progress`, read before and after, moved by a whole batch.
  bool Drained(const std::function<absl::StatusOr<uint64_t>()>& progress,
               const std::function<absl::StatusOr<uint64_t>()>& prune);

  Assigner* const assigner_;
  const Clock* const clock_;
  const LiveProgram live_;
  const SweeperOptions options_;
  absl::Time last_prune_ = absl::InfinitePast();
  absl::Time last_lead_prune_ = absl::InfinitePast();
  bool over_kept_ = false;  // the consumer's bound passed (logged once)
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_SWEEPER_H_
