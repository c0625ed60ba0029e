// CompileGate: how many rule compiles (ValidateRules, PublishRules) run at
// once and how many may wait for a turn. A compile takes memory in
// proportion to its ruleset (a 100,000-rule one about 1 GiB), so an unbounded
// number of concurrent calls could take the machine; beyond `running` +
// `waiting` a call is refused at once with RESOURCE_EXHAUSTED naming the
// limit and the flag, before any thread or compile is spent on it.
#ifndef LEADROUTE_SRC_SERVICE_COMPILE_GATE_H_
#define LEADROUTE_SRC_SERVICE_COMPILE_GATE_H_

#include <condition_variable>
#include <mutex>

#include "absl/status/status.h"

namespace leadroute {

class CompileGate {
 public:
  // Places waiting beside each running compile.
  static constexpr int kWaitingPerRunning = 2;

  // `running`: compiles at once (--max-compiles); as many again times
  // kWaitingPerRunning may wait.
  explicit CompileGate(int running)
      : running_limit_(running),
        admitted_limit_(running * (1 + kWaitingPerRunning)) {}

  // Takes a place in the line, or RESOURCE_EXHAUSTED when it is full. An OK
  // must be followed by Run() and then Done().
  absl::Status Admit();
  // Blocks until fewer than `running` compiles run, and counts this one.
  void Run();
  // This compile ended; the next in line may run.
  void Done();

 private:
  const int running_limit_;
  const int admitted_limit_;
  std::mutex mu_;
  std::condition_variable turn_;
  int admitted_ = 0;  // running or waiting
  int running_ = 0;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_COMPILE_GATE_H_
