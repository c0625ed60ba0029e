// Reading back what DecisionLog writes: one JSON line into the lead as the
// server read it (id, received time, attributes; masked ones named, or
// their keyed hashes) and what was decided, for `leadroute replay`. The
// inverse of DecisionLog::Line; a line from any build since the log began
// reads (a line without `received_at` takes it from `respond_by` less the
// SLA, else `ts`; one without `target` takes the team, else the owner).
// Lines come from files that may be cut short or edited by hand: every
// field is checked, and an error names it.
#ifndef LEADROUTE_SRC_SERVICE_DECISION_LOG_READER_H_
#define LEADROUTE_SRC_SERVICE_DECISION_LOG_READER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "runtime/masked.h"
#include "runtime/replay.h"
#include "runtime/state_store.h"

namespace leadroute {

struct LoggedDecision {
  // A shadow's line (DecisionLog::RecordShadow): the live decision's id,
  // empty for a routed lead's line. A shadow's line gives only lead_id,
  // decided_at, received_at, ruleset (with its fingerprint),
  // decision.owner (the shadow's target) and these two:
  std::string shadow_of;
  std::string live_target;           // what the live rules chose
  std::vector<std::string> changed;  // outputs that differ ("owner", ...)
  std::string fingerprint;           // the ruleset's
  std::string lead_id;
  absl::Time decided_at;   // `ts`
  absl::Time received_at;  // what the rules read as now
  std::string ruleset;     // "name version"
  std::vector<runtime::ReplayAttribute> attributes;  // masked ones left out
  std::vector<std::string> masked;                   // their names ("***")
  std::vector<runtime::HashedAttribute> hashed;      // or their keyed hashes
  runtime::RecordedDecision decision;
};

// Reads `line` into `out` (reusing its memory); INVALID_ARGUMENT naming the
// field that is wrong.
absl::Status ReadDecisionLine(absl::string_view line, LoggedDecision* out);

// A lead from a state store, as the decision log would have given it: its
// Assignment::logged (received time, the rules' choice, attributes) and
// what the assignment keeps of the rest (priority, SLA, channel,
// escalation, the rules, without their locations). FAILED_PRECONDITION
// when the store kept nothing for it; INVALID_ARGUMENT naming the field.
absl::Status ReadStoredLead(const runtime::Assignment& assignment,
                            LoggedDecision* out);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_DECISION_LOG_READER_H_
