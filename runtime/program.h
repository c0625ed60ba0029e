// Program: a checked ruleset lowered for evaluation. Immutable once built
// and shared by every call. Lead attributes are bound to integer slots at
// compile time; conditions are a small expression IR over slots, constants
// and tables, so evaluation never consults a name-keyed map per condition.
//
// Layout:
//   attributes[slot]      schema, in declaration order; slot = index
//   tables[id]            lookup tables, keyed by the key's text form
//   stages[kScore..]      rules in source order; `otherwise` last if any
//   labels                priority labels, most urgent first (rank = index)
//   trees[stage]          the stage compiled to a decision tree
//   interned[slot]        string -> id for every string the trees branch on
//   reps, teams, queues   the people and places an assign rule names, with
//                         what rep selection needs (hours, caps, strategy)
//   escalations           what the sweeper does to a lead not contacted in
//                         time; the escalate stage picks one
// Every Rule keeps its name and source location, so each decision names the
// rule that made it.
#ifndef LEADROUTE_RUNTIME_PROGRAM_H_
#define LEADROUTE_RUNTIME_PROGRAM_H_

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "runtime/decision.h"
#include "runtime/decision_tree.h"
#include "runtime/value.h"

namespace leadroute::runtime {

enum class StageId {
  kScore = 0,
  kAssign,
  kPriority,
  kSla,
  kChannel,
  kEscalate
};
inline constexpr int kStageCount = 6;
const char* StageIdName(StageId id);

struct Attribute {
  std::string name;
  ValueType type = ValueType::kString;
  // A string restricted to enum_values; a lead's value matches one
  // ignoring case and is bound as the enum writes it.
  bool is_enum = false;
  std::vector<std::string> enum_values;
  // The value an unknown one becomes (`on unknown`); none: it fails.
  std::optional<std::string> on_unknown;
  bool required = false;
  std::optional<Value> default_value;
  // Personal data (`pii`): the decision log writes "***" for it.
  bool pii = false;
};

// Where a value in a condition comes from.
struct Operand {
  enum class Kind {
    kSlot,      // lead attribute `slot`
    kConstant,  // `constant`
    kScore,     // the score stage's total (int)
    kPriority,  // the priority stage's rank (int; lower is more urgent)
    kSla,       // the sla stage's duration (as int64 nanoseconds)
    kDomain,    // domain(arg): after '@', lower-cased
    kLower,     // lower(arg)
    kLookup,    // tables[table][arg]
  };
  Kind kind = Kind::kConstant;
  int slot = -1;
  int table = -1;
  Value constant;
  std::unique_ptr<Operand> arg;
};

struct Cond {
  enum class Kind {
    kAnd,
    kOr,
    kNot,      // children
    kHas,      // lhs (a slot) present
    kCompare,  // lhs op rhs
    kInSet,    // lhs in set (negated: not in)
    kInTable,  // tables[table] has key lhs (negated: not in)
    kBetween,  // rhs <= lhs <= rhs2
    kWithin,   // now - within <= lhs <= now
    kTruthy,   // lhs is true
  };
  Kind kind = Kind::kTruthy;
  CompareOp op = CompareOp::kEq;
  bool negated = false;
  std::vector<std::unique_ptr<Cond>> children;
  Operand lhs, rhs, rhs2;
  std::vector<Value> set;
  int table = -1;
  absl::Duration within;
  std::string text;      // the condition as written, for explanations
  std::string lhs_text;  // its left-hand side as written
};

// A cap that is not set.
inline constexpr int64_t kNoCap = -1;

// A rep as the rules declare them; what they may take depends on the state
// (runtime/assigner.h), not on this.
struct Rep {
  std::string id;
  std::string display_name;
  std::string email;
  absl::TimeZone timezone;  // UTC unless declared
  // Working hours: half-open minute ranges of the local week, Monday 00:00
  // = 0, sorted. Empty means none declared: the rep is always working.
  std::vector<std::pair<int, int>> hours;
  // Days off in the rep's time zone, as inclusive ranges, sorted.
  std::vector<std::pair<absl::CivilDay, absl::CivilDay>> holidays;
  int64_t capacity = kNoCap;    // open leads at most
  int64_t daily_cap = kNoCap;   // leads assigned per local day
  int64_t weekly_cap = kNoCap;  // leads assigned per local week (Mon-Sun)
  int64_t weight = 1;           // share in a weighted team
  int seniority = -1;           // index into kSeniorities; -1 when not set
  std::vector<std::string> skills;
  std::vector<std::string> languages;
};

inline constexpr const char* kSeniorities[] = {"junior", "mid", "senior",
                                               "lead"};

enum class Strategy { kRoundRobin, kWeighted, kLeastLoaded };

// What a newly live ruleset does with the open leads of reps it no longer
// has: leave them (keep), end their assignment with a `released` event so
// the backend routes them again (release), or give each to a member of the
// team it came from by that team's strategy, releasing it when there is
// none (reassign).
enum class RemovedReps { kKeep, kRelease, kReassign };
const char* RemovedRepsName(RemovedReps r);
std::optional<RemovedReps> ParseRemovedReps(absl::string_view name);
const char* StrategyName(Strategy s);

// Whether a repeat lead (the same email as an earlier one) goes to the rep
// who had the last one: said by a team (`sticky = 30d`) or an assign rule
// (`sticky 30d`, `sticky 90d anywhere`, `sticky off`).
struct Sticky {
  absl::Duration window;  // how recent the last lead must be; zero: off
  // Rules only: to that rep even when no owner of the rule includes them.
  bool anywhere = false;
  std::string location;  // "file:line" where it is said
  std::string text;      // as written, e.g. "sticky 30d" or "sticky = off"
};

struct Team {
  std::string name;
  std::vector<int> members;  // indexes into Program::reps, as listed
  Strategy strategy = Strategy::kRoundRobin;
  int manager = -1;  // index into Program::reps; -1 when none
  // Unset: the server's default (serve --repeat-window).
  std::optional<Sticky> sticky;
};

// Where an escalation moves a lead: tried in order until one can take it.
struct EscalationTarget {
  enum class Kind {
    kNextRep,  // the next rep of the lead's team, by its strategy
    kManager,  // the manager of the lead's team
    kRep,
    kTeam,
    kQueue,
  };
  Kind kind = Kind::kQueue;
  std::string name;  // kRep, kTeam, kQueue
  int index = -1;    // kRep, kTeam: into Program::reps or ::teams
};

// One step of an escalation policy, taken once `percent` of the SLA has
// passed without first contact.
struct EscalationStep {
  enum class Action {
    kNotify,    // an sla_warning event for the owner (or team manager)
    kReassign,  // move the lead to the first of `to` that can take it
  };
  int percent = 100;
  Action action = Action::kNotify;
  bool notify_manager = false;       // kNotify
  std::vector<EscalationTarget> to;  // kReassign
  std::string text;                  // as written, for reasons
};

// What happens to a lead whose owner does not contact it in time. The
// escalate stage picks one per lead; the server's sweeper applies it.
struct Escalation {
  std::string name;
  std::vector<EscalationStep> steps;  // by percent, then as written
  int max_hops = 2;  // reassignments at most; later reassign steps are skipped
  // The SLA counts only while the owner is working (their hours, time zone
  // and holidays); otherwise it counts wall-clock time.
  bool business_hours = false;
};

// One test of `team NAME where ...`.
struct MemberTest {
  MemberProperty property = MemberProperty::kSeniority;
  CompareOp op = CompareOp::kGe;  // skills and languages: kContains
  int level = -1;                 // seniority: index into kSeniorities
  Operand value;                  // skills and languages: the text sought
  std::string text;               // as written, for reasons
};

// One choice of an assign outcome.
struct Owner {
  enum class Kind { kRep, kTeam, kQueue, kLookup };
  Kind kind = Kind::kQueue;
  std::string name;  // rep/team/queue
  int target = -1;   // kRep, kTeam: index into Program::reps or ::teams
  Operand key;       // kLookup: tables[table][key] names a rep or team
  int table = -1;
  bool lookup_gives_team = false;
  std::vector<MemberTest> where;  // kTeam: who in the team may take it
};

struct Rule {
  std::string name;            // "otherwise" for the default
  std::string location;        // "file:line"
  std::unique_ptr<Cond> when;  // null: always (otherwise)
  // The rule's output; which one is set depends on the stage.
  int64_t points = 0;
  std::vector<Owner> owners;  // first choice, then fallbacks
  int label = 0;              // priority rank
  absl::Duration sla;
  std::string channel;
  int escalation = -1;  // index into Program::escalations
  // Assign rules: overrides every team's own stickiness for this rule.
  std::optional<Sticky> sticky;
};

struct Table {
  std::string name;
  // Keys' text forms (lower-cased when ignore_case) -> values.
  absl::flat_hash_map<std::string, Value> rows;
  bool ignore_case = false;  // string keys compared ignoring ASCII case

  // The value under `key`, or null.
  const Value* Find(const Value& key) const;
  // The text form `key` is stored under in this table.
  std::string RowKey(const Value& key) const;
};

struct Program {
  std::string name;
  std::string version;
  // `ruleset ... { removed_reps = ... }`; unset: as the reload says, else
  // keep.
  std::optional<RemovedReps> removed_reps;
  std::vector<Attribute> attributes;
  absl::flat_hash_map<std::string, int> slots;  // used to bind leads only
  // The attributes rep selection reads, bound by the compiler: `email`
  // (repeat leads from one person) and `source` (KPIs by source), each when
  // the schema declares it as a string or enum, else -1.
  int email_slot = -1;
  int source_slot = -1;
  std::vector<Table> tables;
  std::array<std::vector<Rule>, kStageCount> stages;
  // By slot: whether a rule reads the attribute (SlotsRead, filled by the
  // compiler; empty in a program built otherwise). The decision log keeps
  // keyed hashes only of masked attributes a rule reads.
  std::vector<bool> read;
  std::vector<std::string> labels;
  std::array<DecisionTree, kStageCount> trees;
  std::vector<absl::flat_hash_map<std::string, int32_t>> interned;
  std::vector<Rep> reps;
  absl::flat_hash_map<std::string, int> rep_index;
  std::vector<Team> teams;
  absl::flat_hash_map<std::string, int> team_index;
  std::vector<std::string> queues;
  std::vector<Escalation> escalations;
  absl::flat_hash_map<std::string, int> escalation_index;
};

// "2026-12-24" or "2026-12-24..2027-01-02" (inclusive, in order) as a day
// range; nullopt for anything else.
std::optional<std::pair<absl::CivilDay, absl::CivilDay>> ParseDayRange(
    absl::string_view text);

// The text form a table key is stored under.
std::string KeyText(const Value& v);

// The attribute slots `program`'s rules read (conditions, lookups, team
// member tests), by slot.
std::vector<bool> SlotsRead(const Program& program);

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_PROGRAM_H_
