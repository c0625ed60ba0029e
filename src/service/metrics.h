// The server's counters, kept on the request path with relaxed atomics and
// rendered in the Prometheus text format for the admin port (see
// admin_http.h). Per ruleset (RulesetCounters): leads by outcome and
// decisions by stage and rule. Per server (ServerMetrics): calls by method
// and status code, and a latency histogram per method.
#ifndef LEADROUTE_SRC_SERVICE_METRICS_H_
#define LEADROUTE_SRC_SERVICE_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "runtime/decision.h"
#include "runtime/program.h"

namespace leadroute {

// A monotonic clock reading in nanoseconds, for call latencies.
int64_t MonotonicNanos();

// Label values escaped for the text format: \\, \" and \n.
std::string PromEscape(absl::string_view value);

class RulesetCounters {
 public:
  enum Outcome { kOwned, kQueued, kUnowned, kRejected, kOutcomeCount };
  static const char* OutcomeName(int outcome);

  // Counters for each rule of `program` (null: outcomes only).
  explicit RulesetCounters(const runtime::Program* program);

  // Outcomes counted locally by one call and added once at its end, so a
  // batch touches the shared outcome counters once, not once per lead.
  struct Tally {
    std::array<uint64_t, kOutcomeCount> outcomes{};
  };

  // A routed lead: its outcome (into `tally`) and the rules that decided
  // it.
  void Count(const runtime::Decision& d, Tally* tally);
  void CountRejected(Tally* tally) { ++tally->outcomes[kRejected]; }
  void Add(const Tally& tally);

  uint64_t outcome(int o) const {
    return outcomes_[o].load(std::memory_order_relaxed);
  }
  // Decisions by rule `index` of `stage`.
  uint64_t rule(runtime::StageId stage, int index) const;

 private:
  static void Add(std::atomic<uint64_t>& c) {
    c.fetch_add(1, std::memory_order_relaxed);
  }
  std::array<std::atomic<uint64_t>, kOutcomeCount> outcomes_{};
  std::array<int, runtime::kStageCount + 1> offset_{};  // into rules_
  std::unique_ptr<std::atomic<uint64_t>[]> rules_;
};

// Call latency: cumulative buckets from 5 µs to 10 s, as Prometheus wants.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 16> kBounds = {
      5e-6,   1e-5, 2.5e-5, 5e-5,   1e-4, 2.5e-4, 5e-4, 1e-3,
      2.5e-3, 5e-3, 1e-2,   2.5e-2, 0.1,  0.5,    1,    10};  // seconds

  void Observe(int64_t nanos);
  // The `_bucket`, `_sum` and `_count` lines of metric `name` with the
  // extra label text `labels` (e.g. `method="Route"`).
  void Render(absl::string_view name, absl::string_view labels,
              std::string* out) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // +Inf
  std::atomic<uint64_t> sum_nanos_{0};
};

class ServerMetrics {
 public:
  enum Method {
    kRoute,
    kRouteBatch,
    kValidateRules,
    kPublishRules,
    kRollback,
    kGetStatus,
    kGetAssignment,
    kReleaseLead,
    kCloseLead,
    kReassign,
    kSetRepStatus,
    kListReps,
    kRecordContact,
    kRecordOutcome,
    kWatchAssignments,
    kGetStats,
    kListLeads,
    kMethodCount
  };
  static const char* MethodName(int method);
  static constexpr int kCodeCount = 17;  // grpc::StatusCode 0..16

  // One finished call.
  void CountCall(Method method, int code, int64_t nanos);
  // Leads received in RouteBatch calls within the batch limit.
  void CountBatchLeads(uint64_t leads) {
    batch_leads_.fetch_add(leads, std::memory_order_relaxed);
  }

  // Appends the calls, codes, latency and batch lines.
  void Render(std::string* out) const;

 private:
  std::array<std::array<std::atomic<uint64_t>, kCodeCount>, kMethodCount>
      calls_{};
  std::array<LatencyHistogram, kMethodCount> latency_;
  std::atomic<uint64_t> batch_leads_{0};
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_METRICS_H_
