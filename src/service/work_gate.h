// WorkGate: how many calls of one costly kind run at once and how many may
// wait for a turn. Rule compiles (ValidateRules, PublishRules) take memory
// in proportion to their ruleset (a 100,000-rule one about 1 GiB), and a
// KPI scan (GetStats) reads every lead of its window from the store, so an
// unbounded number of them at once could take the machine; beyond `running`
// + `waiting` a call is refused at once with RESOURCE_EXHAUSTED naming the
// limit and the flag, before any thread or work is spent on it.
#ifndef LEADROUTE_SRC_SERVICE_WORK_GATE_H_
#define LEADROUTE_SRC_SERVICE_WORK_GATE_H_

#include <condition_variable>
#include <mutex>
#include <string>

#include "absl/status/status.h"

namespace leadroute {

class WorkGate {
 public:
  // Places waiting beside each running call.
  static constexpr int kWaitingPerRunning = 2;

  // `running`: calls at once (set by `flag`); as many again times
  // kWaitingPerRunning may wait. `what` names them in the refusal, e.g.
  // "rule compiles".
  WorkGate(int running, std::string what, std::string flag)
      : running_limit_(running),
        admitted_limit_(running * (1 + kWaitingPerRunning)),
        what_(std::move(what)),
        flag_(std::move(flag)) {}

  // Takes a place in the line, or RESOURCE_EXHAUSTED when it is full. An OK
  // must be followed by Run() and then Done().
  absl::Status Admit();
  // Blocks until fewer than `running` calls run, and counts this one.
  void Run();
  // This call ended; the next in line may run.
  void Done();

 private:
  const int running_limit_;
  const int admitted_limit_;
  const std::string what_;
  const std::string flag_;
  std::mutex mu_;
  std::condition_variable turn_;
  int admitted_ = 0;  // running or waiting
  int running_ = 0;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_WORK_GATE_H_
