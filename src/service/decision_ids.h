// DecisionIds: the id each decision is answered with (and logged and stored
// under): 32 hex digits, the first 12 the time in milliseconds, then a
// random per-process part and a counter, so ids never repeat across
// restarts and sort roughly by time. A call reserves a block of them at
// once, and writes each without an allocation.
#ifndef LEADROUTE_SRC_SERVICE_DECISION_IDS_H_
#define LEADROUTE_SRC_SERVICE_DECISION_IDS_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace leadroute {

class DecisionIds {
 public:
  static constexpr int kLength = 32;
  DecisionIds();
  // Reserves `n` consecutive ids made at `now`; Write(i) writes the i-th.
  struct Block {
    uint64_t millis;
    uint32_t process;
    uint64_t first;
    void Write(uint64_t i, std::string* out) const;
    void Write(uint64_t i, char out[kLength]) const;
  };
  Block Reserve(absl::Time now, uint64_t n);

 private:
  uint32_t process_;
  std::atomic<uint64_t> counter_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_DECISION_IDS_H_
