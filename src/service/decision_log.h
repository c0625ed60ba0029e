// DecisionLog: one JSON line per routed lead, to a file or stdout, so that
// "why did this lead go there?" can be answered weeks later. A line holds
// the decision id, the lead id and attributes (as LeadAttributes keeps
// them: masked ones "***" or keyed hashes), the ruleset (name,
// version, revision, fingerprint), every output, and the rules that decided:
//
//   {"ts":"2026-11-23T10:00:00.000123Z","received_at":"2026-11-23T09:59:58Z",
//    "decision_id":"...","lead_id":"L-1",
//    "ruleset":{"name":"acme","version":"2026.11","revision":3,
//    "fingerprint":"..."},"owner":"alice","owner_kind":"rep","team":"us_ent",
//    "target":"team:us_ent","priority":"high","sla_seconds":3600,
//    "respond_by":"...","channel":"phone","score":40,
//    "decided_by":[{"stage":"assign","rule":"enterprise_us",
//    "location":"acme.route:40"}],"attributes":{"country":"US","email":"***"}}
//
// `ts` is when the server decided, `received_at` when the lead came in (the
// time its rules read). `owner` is who has the lead (the Assigner's pick);
// `target` is what the rules chose: the assign rule's first choice, as
// `leadroute replay` compares it ("rep:...", "team:...", "queue:...",
// "none").
//
// Lines are formatted on the calling thread and written by a writer thread
// in large appends; a slow disk slows routing down (the buffer is bounded)
// rather than losing lines. The destructor writes everything recorded.
#ifndef LEADROUTE_SRC_SERVICE_DECISION_LOG_H_
#define LEADROUTE_SRC_SERVICE_DECISION_LOG_H_

#include <array>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/decision.h"
#include "runtime/replay.h"

namespace leadroute {

struct Ruleset;

class DecisionLog {
 public:
  struct Options {
    std::string path;  // a file to append to, or "-" (stdout)
  };
  static absl::StatusOr<std::unique_ptr<DecisionLog>> Open(
      const Options& options);
  ~DecisionLog();

  // One routed lead, decided at `at`, received at `received_at`:
  // `attributes` as LeadAttributes::Json gives them (the server masks once
  // for the log and the state store).
  void Record(const Ruleset& ruleset, std::string attributes,
              const runtime::Decision& decision, absl::string_view decision_id,
              absl::Time at, absl::Time received_at);

  // The line Record writes, without its newline.
  std::string Line(const Ruleset& ruleset, absl::string_view attributes,
                   const runtime::Decision& decision,
                   absl::string_view decision_id, absl::Time at,
                   absl::Time received_at) const;

  // A shadow ruleset's decision that differs from the live one's
  // (shadow.h): a line of its own, naming the live decision it shadows and
  // what the live rules chose, e.g.
  //   {"ts":"...","received_at":"...","shadow_of":"<decision id>",
  //    "lead_id":"L-1","ruleset":{...the shadow...},"changed":["owner"],
  //    "live_target":"team:emea","target":"team:dach","priority":"high",
  //    "sla_seconds":3600,"channel":"","escalation":null,
  //    "decided_by":[...]}
  // `leadroute replay` skips these lines.
  void RecordShadow(const Ruleset& shadow, const runtime::Decision& decision,
                    absl::string_view shadow_of, absl::string_view live_target,
                    const std::array<bool, runtime::kReplayOutputs>& changed,
                    absl::Time at, absl::Time received_at);
  std::string ShadowLine(
      const Ruleset& shadow, const runtime::Decision& decision,
      absl::string_view shadow_of, absl::string_view live_target,
      const std::array<bool, runtime::kReplayOutputs>& changed, absl::Time at,
      absl::Time received_at) const;

  // Blocks until every line recorded so far is written and flushed.
  void Flush();

 private:
  DecisionLog(std::FILE* out, bool owned);
  void Append(std::string line);
  void WriterLoop();

  static constexpr size_t kMaxPendingBytes = 16 << 20;

  std::FILE* const out_;
  const bool owned_;  // fclose at the end (not stdout)

  std::mutex mu_;
  std::condition_variable wake_writer_;  // pending_ is not empty, or stop_
  std::condition_variable space_;        // pending_ shrank; a flush finished
  std::string pending_;
  uint64_t appended_ = 0;  // lines appended, ever
  uint64_t written_ = 0;   // lines written and flushed, ever
  uint64_t pending_lines_ = 0;
  bool stop_ = false;
  bool failed_ = false;  // a write failed; reported once
  std::thread writer_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_DECISION_LOG_H_
