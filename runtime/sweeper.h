// Sweeper: the thread that acts on SLA deadlines and escalation steps. Every
// `interval` of real time it reads the clock and calls Assigner::Sweep with
// the live rules, so a breach is acted on within `interval` of its deadline
// (the clock may be a FakeClock in tests: advance it, and the next tick
// sees it). It also enforces event retention: once per `prune_every` of
// clock time it deletes events older than `event_retention`, a bounded
// batch at a time so a long backlog never stalls the writer.
#ifndef LEADROUTE_RUNTIME_SWEEPER_H_
#define LEADROUTE_RUNTIME_SWEEPER_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
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

  Assigner* const assigner_;
  const Clock* const clock_;
  const LiveProgram live_;
  const SweeperOptions options_;
  absl::Time last_prune_ = absl::InfinitePast();
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_SWEEPER_H_
