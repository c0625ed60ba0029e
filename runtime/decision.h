// The outcome of routing one lead: owner, priority, SLA, channel, and which
// rule set each of them, so any decision can be explained in source terms.
#ifndef LEADROUTE_RUNTIME_DECISION_H_
#define LEADROUTE_RUNTIME_DECISION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "runtime/value.h"

namespace leadroute::runtime {

enum class OwnerKind {
  kNone,   // no assign rule matched: the lead has no owner
  kRep,    // owner is a rep id
  kTeam,   // owner is a team name
  kQueue,  // owner is a queue name: nobody owns the lead yet
};

struct Priority {
  std::string label;
  int rank = 0;  // position in the declared order; 0 is the most urgent
};

// "rep", "team", "queue" or "none", as logs and the CLI print it.
inline const char* OwnerKindName(OwnerKind k) {
  switch (k) {
    case OwnerKind::kRep:
      return "rep";
    case OwnerKind::kTeam:
      return "team";
    case OwnerKind::kQueue:
      return "queue";
    case OwnerKind::kNone:
      break;
  }
  return "none";
}

// One owner an assign rule offers, in the order they are tried: the first
// choice, then its `else` fallbacks, with table lookups resolved.
// A rep property a team's members can be chosen by.
enum class MemberProperty { kSeniority, kSkills, kLanguages };

// One test of `team NAME where ...`, its value read from the lead: only
// members who pass every test of their candidate may take the lead.
struct MemberCheck {
  MemberProperty property = MemberProperty::kSeniority;
  CompareOp op = CompareOp::kGe;  // skills and languages: kContains
  int level = -1;                 // seniority: index into kSeniorities
  // skills and languages: the text sought (matched ignoring case); none
  // when the lead has no value for it (then nobody passes).
  std::optional<std::string> value;
  std::string text;  // as written
};

struct Candidate {
  OwnerKind kind = OwnerKind::kNone;
  std::string name;
  int index = -1;                  // kRep, kTeam: into Program::reps or ::teams
  std::vector<MemberCheck> where;  // kTeam only
};

// The rule that set one output.
struct RuleRef {
  std::string stage;     // "score", "assign", "priority", "sla", "channel",
                         // "escalate"
  std::string rule;      // the rule's name, "otherwise" for the default
  std::string location;  // "file:line", empty when unknown
  // The rule's place in its Program: stages[stage_id][index]; -1 when the
  // decision did not come from a Program.
  int stage_id = -1;
  int index = -1;
};

// Why a stage decided as it did.
struct StageExplanation {
  std::string stage;
  RuleRef rule;
  std::vector<std::string> conditions;  // as written, the ones that decided
};

// Why a named rule did not decide.
struct Alternative {
  RuleRef rule;
  std::string failed_condition;  // empty when the rule matched
  std::string reason;
};

struct Explanation {
  std::vector<StageExplanation> stages;
  std::vector<Alternative> alternatives;
};

struct Decision {
  std::string lead_id;
  // A stage no rule decided (one without `otherwise`) leaves its output
  // unset: no owner, no priority, no SLA, an empty channel.
  std::string owner;
  OwnerKind owner_kind = OwnerKind::kNone;
  std::string team;
  std::optional<Priority> priority;
  std::optional<absl::Duration> sla;
  std::optional<absl::Time> respond_by;  // received_at + sla
  std::string channel;
  // The escalation policy from the escalate stage (a name of
  // Program::escalations, and its index); empty when none.
  std::string escalation;
  int escalation_index = -1;
  std::string ruleset_name;
  std::string ruleset_version;
  int64_t score = 0;
  std::vector<RuleRef> decided_by;         // in stage order
  std::optional<Explanation> explanation;  // when asked for

  // The assign rule's owners. Without state (no Assigner) the first of them
  // is the owner; an Assigner picks the first that can take the lead, and a
  // rep from a team.
  std::vector<Candidate> candidates;
  // Set by an Assigner (runtime/assigner.h).
  bool replayed = false;    // the lead id was routed before: its assignment
  std::string repeat_of;    // the earlier lead of the same person, if any
  std::string decision_id;  // the decision that assigned it
  std::optional<absl::Time> decided_at;
  // Why candidates, or reps of a team, were passed over, e.g.
  // "sam: at capacity (60 open)". Empty when the first choice took it.
  std::vector<std::string> skipped;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_DECISION_H_
