// Clock: where the runtime reads the time. The server uses the system clock;
// tests use a FakeClock they set and advance, so working hours, time zones,
// DST transitions and daily caps are tested at exact instants.
#ifndef LEADROUTE_RUNTIME_CLOCK_H_
#define LEADROUTE_RUNTIME_CLOCK_H_

#include <atomic>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace leadroute::runtime {

// "2026-11-23T15:00:00Z": a time as people read it in reasons and listings.
inline std::string Rfc3339Seconds(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// Thread-safe; time moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : nanos_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override {
    return absl::FromUnixNanos(nanos_.load(std::memory_order_relaxed));
  }
  void Set(absl::Time t) { nanos_.store(absl::ToUnixNanos(t)); }
  void Advance(absl::Duration d) {
    nanos_.fetch_add(absl::ToInt64Nanoseconds(d));
  }

 private:
  std::atomic<int64_t> nanos_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_CLOCK_H_
