// What the two stores (sqlite_store.cc, pg_store.cc) write alike: the
// columns of a row, in the order both read and write them, the text forms
// of the values kept in one column, and how the rulesets kept are read.
#ifndef LEADROUTE_RUNTIME_STORE_ROWS_H_
#define LEADROUTE_RUNTIME_STORE_ROWS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

// An assignment's 40 columns.
inline constexpr const char* kAssignmentColumns =
    "lead_id, owner, owner_kind, team, status, email_key, repeat_of, "
    "decision_id, ruleset, priority, priority_rank, sla_ms, channel, "
    "decided_at_us, respond_by_us, ended_at_us, score, seq, routed_at_us, "
    "sla_status, contact_channel, contacted_by, contacted_at_us, "
    "qualified_at_us, opportunity_at_us, won_at_us, lost_at_us, outcome, "
    "escalation, escalation_step, hops, had_by, next_due_us, clock_start_us, "
    "source, rules, clock_status, missed_by, choice, logged";
inline constexpr int kAssignmentColumnCount = 40;

// A lead event's 14 columns.
inline constexpr const char* kEventColumns =
    "lead_id, at_us, kind, from_owner, to_owner, reason, id, owner_kind, "
    "team, channel, priority, sla_ms, respond_by_us, actor";
inline constexpr int kEventColumnCount = 14;

// An audit record's 9 columns.
inline constexpr const char* kAuditColumns =
    "id, at_us, principal, peer, action, target, before, after, reason";

// `meta` keys: how far events were pruned, the highest assignment seq ever
// kept, how many assignments retention deleted, and each consumer's cursor
// (the prefix, then its name).
inline constexpr const char* kPrunedThroughKey = "events_pruned_through";
inline constexpr const char* kLastAssignmentSeqKey = "last_assignment_seq";
inline constexpr const char* kPrunedAssignmentsKey = "assignments_pruned";
inline constexpr const char* kCursorKeyPrefix = "cursor:";
// The live ruleset's revision, the scheduled one's (0: none) and when it
// goes live.
inline constexpr const char* kLiveRulesetKey = "live_ruleset";
inline constexpr const char* kScheduledRulesetKey = "scheduled_ruleset";
inline constexpr const char* kScheduledAtKey = "scheduled_at_us";

// What both stores leave of their rulesets after any ruleset change: the
// live, the scheduled and the newest revision (numbering goes on after
// it). The WHERE clause of the rest, for `DELETE FROM rulesets` and
// `DELETE FROM ruleset_files` (files first: they name their ruleset).
std::string RulesetsNotKept();

// "rep=weight;rep=weight" for a weighted team's running weights, and back
// (an item that does not parse is skipped).
std::string EncodeRunning(
    const std::vector<std::pair<std::string, int64_t>>& running);
std::vector<std::pair<std::string, int64_t>> DecodeRunning(
    absl::string_view text);

// StateStore::Rulesets over a store's own reads: `newest`, the highest
// revision kept (0: none); `meta`, a meta key's value (none: unset);
// `ruleset`, a kept revision with its files (the meta key that names it,
// for the error when it is missing).
struct RulesetReads {
  std::function<absl::StatusOr<int64_t>()> newest;
  std::function<absl::StatusOr<std::optional<uint64_t>>(const char* key)> meta;
  std::function<absl::StatusOr<RulesetLive>(int64_t revision,
                                            const char* named_by)>
      ruleset;
};
absl::StatusOr<StoredRulesets> ReadRulesets(const RulesetReads& reads,
                                            int64_t unless_live,
                                            int64_t unless_scheduled);

// Reps (had_by, missed_by) as one ';'-joined column, and back.
std::string JoinReps(const std::vector<std::string>& reps);
std::vector<std::string> SplitReps(absl::string_view text);

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_STORE_ROWS_H_
