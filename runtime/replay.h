// Replay: re-deciding historical leads with a candidate ruleset, lead by
// lead, and comparing each outcome with what was decided then (a decision
// log's record) or with what a second ruleset decides. The answer to
// "what will this change do to last month's traffic?".
//
// What is compared is what the rules decide, statelessly, as TreePolicy
// decides: the assign rule's first choice (a rep, team or queue; a team's
// rep is the Assigner's pick, not the rules'), the priority label, the SLA,
// the channel, the escalation policy, and the rule that decided each stage.
// Every lead is decided at its own received time, so `within` conditions
// read as they did then.
//
// A Replayer streams: Add() binds and decides one lead and folds it into
// counters; memory grows with the distinct owners and rules seen and the
// few example leads kept per transition, never with the leads. Report()
// re-decides the examples with explanations and returns the counts so far.
// Not thread-safe.
#ifndef LEADROUTE_RUNTIME_REPLAY_H_
#define LEADROUTE_RUNTIME_REPLAY_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "runtime/decide.h"
#include "runtime/masked.h"
#include "runtime/program.h"
#include "runtime/tree_policy.h"

namespace leadroute::runtime {

// The outputs replay compares, in report order.
enum class ReplayOutput { kOwner, kPriority, kSla, kChannel, kEscalation };
inline constexpr int kReplayOutputs = 5;
const char* ReplayOutputName(ReplayOutput o);

// What was decided for a lead then, as a decision log records it.
struct RecordedDecision {
  std::string owner;     // "rep:ann", "team:emea", "queue:triage" or "none"
  std::string priority;  // label; empty: none
  std::optional<absl::Duration> sla;
  std::string channel;     // empty: none
  std::string escalation;  // empty: none
  // "stage/rule" for each rule that decided, and where it was written
  // ("file:line"; may be empty).
  std::vector<std::pair<std::string, std::string>> rules;
  // The rep the server gave the lead; empty when none (a queue, nobody).
  std::string rep;
};

// "team:emea" for a candidate, "none" for no owner.
std::string OwnerTarget(OwnerKind kind, absl::string_view name);
// What `d`'s rules chose: its assign rule's first candidate (what the
// Assigner started from), else its owner.
std::string TargetOf(const Decision& d);

// A lead's attribute as read from history: a name and a value the schema
// will read (LeadBinder: a whole number for a `number`, RFC 3339 text for a
// `time`, an enum value in any case).
using ReplayAttribute = std::pair<std::string, Value>;

struct ReplayOptions {
  int examples = 3;  // example leads kept per owner transition
  // Transitions tracked with their own row; leads of rarer ones beyond
  // this many distinct pairs count in one "(other)" row.
  int max_transitions = 10000;
  int max_rejections = 5;  // rejected leads listed, per side
  // Choose each lead's rep on the candidate's side (and on the `before`
  // ruleset's) as the server would at the lead's time — statuses, hours,
  // holidays, capacity, caps, strategies — with a RoutingSimulation that
  // starts with every rep available and free: ReplayReport.rep_load.
  bool simulate_reps = false;
  // History does not say when leads were closed: a simulated lead holds
  // its rep's capacity for this long.
  absl::Duration lead_hold = absl::Hours(24);
  // The key the history's masked attributes were hashed under (serve
  // --decision-log-key); null: none, and hashed attributes are decided as
  // if missing. See runtime/masked.h.
  std::shared_ptr<const KeyedHash> key;
};

struct ReplayReport {
  // One side of an example: the owner and why, stage by stage.
  struct Side {
    std::string owner;
    // "assign/emea (r.route:12): country == \"DE\"", one per stage that
    // decided; a record gives rules without conditions.
    std::vector<std::string> why;
  };
  struct Example {
    std::string lead_id;
    absl::Time at;
    Side before, after;
  };
  struct Transition {
    std::string from, to;  // owners, as OwnerTarget writes them
    int64_t leads = 0;
    std::vector<Example> examples;  // the first leads, in input order
  };
  struct RuleRow {
    std::string rule;      // "stage/rule"
    std::string location;  // where it is written (the candidate's first)
    int64_t before = 0, after = 0;  // leads it decided (score: added to)
  };
  struct LoadRow {
    std::string owner;
    int64_t before = 0, after = 0;
  };
  struct Rejection {
    std::string lead_id;
    std::string message;
  };

  int64_t leads = 0;        // replayed: decided on both sides
  int64_t changed_any = 0;  // leads with any output changed
  std::array<int64_t, kReplayOutputs> changed{};  // by ReplayOutput
  // Owners before -> after, changed ones only, most leads first (ties by
  // name); `other_transitions` leads changed in pairs past the limit.
  std::vector<Transition> transitions;
  int64_t other_transitions = 0;
  // Every rule either side decided with, and every rule of the candidate
  // (rules that never fire show 0), in stage order then name.
  std::vector<RuleRow> rules;
  // Leads with an owner before and none after (no assign rule decided).
  int64_t became_unassigned = 0;
  // Per stage: leads a rule decided before and none after.
  std::array<int64_t, kStageCount> fell_through{};
  // Leads per owner before and after, most leads after first.
  std::vector<LoadRow> load;
  // With ReplayOptions.simulate_reps: leads per rep, before (the reps the
  // server gave them, or simulated under the `before` ruleset) and after
  // (simulated under the candidate), most leads after first; "(no rep)"
  // for leads no rep took (a queue, nobody).
  bool reps_simulated = false;
  std::vector<LoadRow> rep_load;
  // Leads a side could not decide (the schema rejects them): counts and
  // the first few.
  int64_t rejected_before = 0, rejected_after = 0;
  std::vector<Rejection> rejections_before, rejections_after;
  // Attributes history holds masked that the candidate's rules read, by
  // name: how many leads were decided from the keyed hashes history keeps
  // (runtime/masked.h), and how many as if the attribute were missing —
  // "***" in history, no key or another key, or a test a hash cannot
  // answer — with why the first of those was.
  struct MaskedRow {
    std::string attribute;
    int64_t hashed = 0;
    int64_t missing = 0;
    std::string why;
  };
  std::vector<MaskedRow> masked;
  // The first and last received time replayed.
  std::optional<absl::Time> first, last;

  double Share(int64_t n) const {
    return leads == 0 ? 0 : static_cast<double>(n) / leads;
  }
};

class Replayer {
 public:
  // `after`: the candidate. `before`: the ruleset to compare with, or null
  // to compare with each lead's RecordedDecision.
  Replayer(std::shared_ptr<const Program> after,
           std::shared_ptr<const Program> before, ReplayOptions options = {});
  ~Replayer();

  // Replays one lead received at `at`. `recorded` is required without a
  // `before` program and ignored with one. `masked` names attributes the
  // history holds as "***", `hashed` those it holds as keyed hashes (both
  // left out of `attributes`; hashed ones are bound as ReplayOptions.key
  // resolves them). Attributes are moved from. A lead a side's schema
  // rejects counts as rejected there.
  void Add(absl::string_view lead_id, absl::Time at,
           std::vector<ReplayAttribute>& attributes,
           const RecordedDecision* recorded,
           const std::vector<std::string>& masked = {},
           const std::vector<HashedAttribute>& hashed = {});

  // The report so far (Add may go on after it): rows sorted, and with
  // `examples`, the examples explained (each decided again).
  ReplayReport Report(bool examples = true) const;

  // The lead Add last took: whether both sides decided it, which outputs
  // differ, and the candidate's decision (valid until the next Add).
  struct Last {
    bool compared = false;
    std::array<bool, kReplayOutputs> changed{};
  };
  const Last& last() const { return last_; }
  const Decision& last_decision() const;

 private:
  struct Side;
  struct Kept;
  struct Compact;
  struct Tally;

  int Intern(absl::string_view text);
  int InternOwner(OwnerKind kind, absl::string_view name);
  // Binds and decides on `side`; false (counted) when its schema rejects
  // the lead.
  bool Decide(Side& side, absl::string_view lead_id, absl::Time at,
              std::vector<ReplayAttribute>& attributes, bool move,
              Compact* out);
  // With ReplayOptions.simulate_reps: the rep `side`'s last decision goes
  // to at `at`, in its simulation (side.rep).
  void ChooseRep(Side& side, absl::Time at);
  void FromRecord(const RecordedDecision& r, Compact* out);
  void Count(absl::string_view lead_id, absl::Time at,
             const RecordedDecision* recorded);
  ReplayReport::Side Explain(const Side& side, absl::string_view lead_id,
                             absl::Time at, const BoundLead& bound) const;

  std::unique_ptr<Side> after_, before_;
  ReplayOptions options_;
  // Names: owners, labels, channels, escalations, rules, locations.
  absl::flat_hash_map<std::string, int> ids_;
  std::vector<std::string> names_;
  Last last_;
  int none_ = 0;     // the id of "none"
  std::string key_;  // scratch for InternOwner
  std::unique_ptr<Compact> was_, now_;
  std::unique_ptr<Tally> tally_;
  MaskedResolver masked_;
  // The last lead's masked attributes: the name, its keyed hashes (null:
  // "***" in history) and how they resolved. Why one was decided as if
  // missing is written out only for a report row's first (WhyMissing).
  struct MaskedSeen {
    const std::string* name;
    const HashedAttribute* hashed;
    MaskedResolver::Outcome outcome;
  };
  std::string WhyMissing(const MaskedSeen& seen) const;
  std::vector<MaskedSeen> masked_seen_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_REPLAY_H_
