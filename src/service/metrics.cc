// Counters and their Prometheus text; see metrics.h.
#include "src/service/metrics.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace leadroute {
namespace {

constexpr const char* kCodeNames[ServerMetrics::kCodeCount] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED"};

}  // namespace

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string PromEscape(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

const char* RulesetCounters::OutcomeName(int outcome) {
  static constexpr const char* kNames[] = {"owned", "queued", "unowned",
                                           "rejected"};
  return kNames[outcome];
}

RulesetCounters::RulesetCounters(const runtime::Program* program) {
  int total = 0;
  for (int s = 0; s < runtime::kStageCount; ++s) {
    offset_[s] = total;
    if (program != nullptr) total += program->stages[s].size();
  }
  offset_[runtime::kStageCount] = total;
  rules_ = std::make_unique<std::atomic<uint64_t>[]>(total);
  for (int i = 0; i < total; ++i) rules_[i] = 0;
}

void RulesetCounters::Add(const Tally& tally) {
  for (int o = 0; o < kOutcomeCount; ++o) {
    if (tally.outcomes[o] != 0) {
      outcomes_[o].fetch_add(tally.outcomes[o], std::memory_order_relaxed);
    }
  }
}

void RulesetCounters::Count(const runtime::Decision& d, Tally* tally) {
  ++tally->outcomes[d.owner_kind == runtime::OwnerKind::kNone    ? kUnowned
                    : d.owner_kind == runtime::OwnerKind::kQueue ? kQueued
                                                                 : kOwned];
  for (const runtime::RuleRef& r : d.decided_by) {
    if (r.stage_id < 0 || r.index < 0) continue;  // not from a program
    const int at = offset_[r.stage_id] + r.index;
    if (at < offset_[r.stage_id + 1]) Add(rules_[at]);
  }
}

uint64_t RulesetCounters::rule(runtime::StageId stage, int index) const {
  const int s = static_cast<int>(stage);
  const int at = offset_[s] + index;
  if (index < 0 || at >= offset_[s + 1]) return 0;
  return rules_[at].load(std::memory_order_relaxed);
}

void LatencyHistogram::Observe(int64_t nanos) {
  const double seconds = static_cast<double>(nanos) * 1e-9;
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(nanos < 0 ? 0 : nanos),
                       std::memory_order_relaxed);
}

void LatencyHistogram::Render(absl::string_view name, absl::string_view labels,
                              std::string* out) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const std::string le =
        i < kBounds.size() ? absl::StrFormat("%g", kBounds[i]) : "+Inf";
    absl::StrAppend(out, name, "_bucket{", labels, ",le=\"", le, "\"} ",
                    cumulative, "\n");
  }
  absl::StrAppend(
      out, name, "_sum{", labels, "} ",
      absl::StrFormat("%.9f",
                      sum_nanos_.load(std::memory_order_relaxed) * 1e-9),
      "\n", name, "_count{", labels, "} ", cumulative, "\n");
}

const char* ServerMetrics::MethodName(int method) {
  static constexpr const char* kNames[] = {
      "Route",         "RouteBatch",    "ValidateRules",    "PublishRules",
      "Rollback",      "GetStatus",     "GetAssignment",    "ReleaseLead",
      "CloseLead",     "Reassign",      "SetRepStatus",     "ListReps",
      "RecordContact", "RecordOutcome", "WatchAssignments", "GetStats",
      "ListLeads"};
  static_assert(std::size(kNames) == kMethodCount);
  return kNames[method];
}

void ServerMetrics::CountCall(Method method, int code, int64_t nanos) {
  if (code < 0 || code >= kCodeCount) code = 2;  // UNKNOWN
  calls_[method][code].fetch_add(1, std::memory_order_relaxed);
  latency_[method].Observe(nanos);
}

void ServerMetrics::Render(std::string* out) const {
  absl::StrAppend(out,
                  "# HELP leadroute_calls_total Finished gRPC calls by method "
                  "and status code.\n"
                  "# TYPE leadroute_calls_total counter\n");
  for (int m = 0; m < kMethodCount; ++m) {
    for (int c = 0; c < kCodeCount; ++c) {
      const uint64_t n = calls_[m][c].load(std::memory_order_relaxed);
      // OK always appears, so every method has a series from the start.
      if (n == 0 && c != 0) continue;
      absl::StrAppend(out, "leadroute_calls_total{method=\"", MethodName(m),
                      "\",code=\"", kCodeNames[c], "\"} ", n, "\n");
    }
  }
  absl::StrAppend(out,
                  "# HELP leadroute_call_duration_seconds Time from a call's "
                  "arrival in its handler to its answer.\n"
                  "# TYPE leadroute_call_duration_seconds histogram\n");
  for (int m = 0; m < kMethodCount; ++m) {
    latency_[m].Render("leadroute_call_duration_seconds",
                       absl::StrCat("method=\"", MethodName(m), "\""), out);
  }
  absl::StrAppend(out,
                  "# HELP leadroute_batch_leads_total Leads received in "
                  "RouteBatch calls.\n"
                  "# TYPE leadroute_batch_leads_total counter\n"
                  "leadroute_batch_leads_total ",
                  batch_leads_.load(std::memory_order_relaxed), "\n");
}

}  // namespace leadroute
