// The line for costly calls; see work_gate.h.
#include "src/service/work_gate.h"

#include "absl/strings/str_cat.h"

namespace leadroute {

absl::Status WorkGate::Admit() {
  std::lock_guard<std::mutex> lock(mu_);
  if (admitted_ >= admitted_limit_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(running_limit_, " ", what_, " are running and ",
                     admitted_limit_ - running_limit_,
                     " waiting, the most this server takes (", flag_, " ",
                     running_limit_, "); try again shortly"));
  }
  ++admitted_;
  return absl::OkStatus();
}

void WorkGate::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  turn_.wait(lock, [this] { return running_ < running_limit_; });
  ++running_;
}

void WorkGate::Done() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    --admitted_;
  }
  turn_.notify_one();
}

}  // namespace leadroute
