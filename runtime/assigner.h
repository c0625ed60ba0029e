// Assigner: turns a decision's candidate owners into one owner, given the
// team's state, and remembers it. This is where round robin, weighted and
// least-loaded distribution, capacity and daily/weekly caps, working hours in
// each rep's time zone, holidays, live rep status (away, out of office),
// fallback chains, repeat submissions and idempotent retries are decided.
//
// State lives in memory behind one mutex, so concurrent routes never hand out
// the same round-robin turn twice or pass a cap; every change is appended,
// under that mutex, to the CommitLog (commit_log.h), which numbers it and
// commits it to the StateStore in order with group commit. A caller gets the
// change number to wait for and answers only once it is durable
// (log().WhenDurable), so an assignment a client saw is never lost, and what
// survives a crash is always a prefix of what was decided: rotation resumes
// where the last acknowledged lead left it. If the store fails, the
// Assigner refuses further changes (UNAVAILABLE) rather than run on state it
// cannot keep.
//
// Policies (docs/language.md, "Rep selection"):
// - A candidate rep takes the lead when their status allows (available, or
//   away/out of office whose `until` has passed), it is not a holiday and is
//   within their working hours in their time zone, and they are under their
//   capacity (open leads) and daily/weekly caps (leads assigned in the local
//   day, and the local week from Monday).
// - round_robin: the next member after the one who had the last lead, among
//   those who can take it. A rep back from holiday rejoins at their place in
//   the rotation: no catch-up leads.
// - weighted: smooth weighted round robin over the members who can take it
//   (each gains its weight, the highest takes the lead and gives back the
//   sum), so shares follow weights without bursts; an absent rep's running
//   weight is frozen, not accumulated.
// - least_loaded: fewest open leads; ties go to the rep who waited longest
//   since their last lead, then to member order.
// - A team candidate with `where` tests (seniority, skills, languages)
//   considers only the members who pass them; the strategy runs over those,
//   on the team's one rotation.
// - Candidates are tried in order (rule's first choice, then `else`); a
//   queue always takes the lead. When none can, the lead is recorded as
//   unassigned with the reasons, never dropped.
//
// Activation: a lead with an SLA carries its respond_by deadline until its
// first contact (RecordContact) stops the clock, SLA met or missed.
// Sweep() acts on deadlines: a lead not contacted by its respond_by is
// marked missed, and its escalation policy's steps (notify at 80%, reassign
// at 100% to the team's next rep, ...) run as their time comes. Each
// lead's next due time is part of its stored assignment, so after a
// restart the overdue ones are swept at once, and none twice. Every change
// to a lead appends an event whose id is its change number; committed
// events go to subscribers (WatchAssignments) in id order.
#ifndef LEADROUTE_RUNTIME_ASSIGNER_H_
#define LEADROUTE_RUNTIME_ASSIGNER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/clock.h"
#include "runtime/commit_log.h"
#include "runtime/conditions.h"
#include "runtime/decision.h"
#include "runtime/kpi.h"
#include "runtime/program.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

struct AssignerOptions {
  // A lead from the same email within this window goes to the same rep, if
  // that rep can take it. Zero turns repeat matching off.
  absl::Duration repeat_window = absl::Hours(24 * 7);
};

// What the caller passes along with a decision.
struct AssignInput {
  std::string decision_id;  // the id the caller gave this decision
  std::string ruleset;      // "name version", stored for people to read
  bool reroute = false;     // route again even if the lead id is known
};

// A rep's load and whether they can take a lead now.
struct RepLoad {
  std::string rep;
  int64_t open = 0;
  int64_t today = 0;      // assigned in the rep's local day
  int64_t this_week = 0;  // assigned in the rep's local week
  RepStatus status;
  bool can_take = false;
  std::string reason;  // why not, when !can_take
};

// An event about `a` as it stands, with its owner, team, channel, priority
// and SLA.
LeadEvent EventOf(const Assignment& a, absl::Time at, std::string kind,
                  std::string from, std::string reason);

class Assigner {
 public:
  // Loads the store's state and starts the writer. `clock` must outlive the
  // Assigner.
  static absl::StatusOr<std::unique_ptr<Assigner>> Start(
      std::unique_ptr<StateStore> store, const Clock* clock,
      AssignerOptions options = {});
  // Waits for every change to be committed, then stops the writer.
  ~Assigner();

  // Picks the owner of the lead decided in `d` among d->candidates and
  // records it, updating d (owner, owner_kind, team, skipped, replayed,
  // repeat_of, decision_id, decided_at). When the lead id was assigned
  // before and !input.reroute, d becomes the stored assignment (replayed).
  // Returns the change number to wait for with log().WhenDurable.
  // `lead` is the lead as bound to `p`: its email and source are read from
  // the slots the compiler set aside (Program::email_slot, source_slot).
  absl::StatusOr<uint64_t> Assign(const Program& p, const BoundLead& lead,
                                  const AssignInput& input, Decision* d);

  // Lead lifecycle. Each returns the lead's assignment afterwards and the
  // change number to wait for. NOT_FOUND for a lead id never routed;
  // FAILED_PRECONDITION for a lead already released or closed.
  struct Changed {
    Assignment assignment;
    uint64_t seq = 0;
  };
  absl::StatusOr<Changed> Release(const std::string& lead_id,
                                  const std::string& reason);
  absl::StatusOr<Changed> Close(const std::string& lead_id,
                                const std::string& reason);
  // Moves the lead to `target`: a rep takes it as told (a manager's call
  // overrides hours and caps), a team picks a rep by its strategy among
  // those who can take it, a queue holds it. A lead not contacted yet
  // starts a new SLA clock for its new owner (its escalation steps start
  // over), even after a breach.
  absl::StatusOr<Changed> Reassign(const Program& p, const std::string& lead_id,
                                   const Candidate& target,
                                   const std::string& reason);

  // Sets a rep's live status. Returns the change number to wait for.
  absl::StatusOr<uint64_t> SetRepStatus(const RepStatus& status);

  // First contact with the lead at `at` (now when unset) over `channel`:
  // stops its SLA clock and escalation. A second call changes nothing and
  // returns the lead as it is. INVALID_ARGUMENT for an `at` in the future
  // or before the lead was routed.
  absl::StatusOr<Changed> RecordContact(const std::string& lead_id,
                                        const std::string& channel,
                                        std::optional<absl::Time> at);
  // A stage the lead reached (kContacted .. kLost) at `at` (now when
  // unset); each is recorded once. Any of them implies first contact;
  // won and lost close the lead.
  absl::StatusOr<Changed> RecordOutcome(const std::string& lead_id,
                                        Outcome outcome,
                                        std::optional<absl::Time> at);

  // Applies every SLA deadline and escalation step due at `now`, under `p`
  // (the live rules: an escalation policy no longer in them only has its
  // deadline marked). Returns how many leads changed.
  int Sweep(const Program& p, absl::Time now);
  // The earliest time something is due, if anything is.
  std::optional<absl::Time> NextDue() const;

  // Committed events with id > `after`, oldest first, at most `limit`.
  absl::StatusOr<std::vector<LeadEvent>> EventsAfter(uint64_t after,
                                                     int limit) const;

  // Retention: deletes up to `limit` of the oldest events from before
  // `before`. Returns the change number to wait for.
  absl::StatusOr<uint64_t> PruneEvents(absl::Time before, int limit);
  // Events with an id up to this one were pruned (as committed).
  absl::StatusOr<uint64_t> PrunedThrough() const;
  // A consumer's named position (a webhook's last delivered event id),
  // kept durably; none until first saved.
  std::optional<uint64_t> CursorValue(const std::string& name) const;
  absl::StatusOr<uint64_t> SaveCursor(const std::string& name, uint64_t value);

  // KPIs of the leads routed in [from, to), grouped `by`, from committed
  // state (read beside the writer; routing is not held up).
  absl::StatusOr<KpiReport> Stats(KpiDimension by, absl::Time from,
                                  absl::Time to) const;

  std::optional<Assignment> Get(const std::string& lead_id) const;
  // The clock it reads: the server's time for everything stateful.
  const Clock& clock() const { return *clock_; }
  // Every rep of `p`, in declaration order.
  std::vector<RepLoad> Loads(const Program& p) const;

  // The commit log every change goes through: wait there for a change
  // number to be durable, and subscribe to committed events. Its callbacks
  // must not call back into the Assigner.
  CommitLog& log() { return *log_; }

 private:
  struct RepState {
    int64_t open = 0;
    std::vector<absl::Time> recent;  // assignment times, ascending, ~8 days
    uint64_t last_turn = 0;          // seq of the rep's latest assignment
    std::optional<RepStatus> status;
  };

  Assigner(std::unique_ptr<StateStore> store, const Clock* clock,
           AssignerOptions options);
  // Rebuilds the working copy; returns the last change number it holds.
  uint64_t Restore(const StateSnapshot& snapshot);

  // All below run with mu_ held.
  // Empty when rep `index` can take a lead at `now`, else why not.
  std::string Unavailable(const Program& p, int index, absl::Time now) const;
  // The rep of team `index` who takes the next lead among the members who
  // pass `where`, or -1 (reasons added to `skipped`). Advances the team's
  // rotation.
  int PickFromTeam(const Program& p, int index,
                   const std::vector<MemberCheck>& where, absl::Time now,
                   std::vector<std::string>* skipped,
                   const std::vector<std::string>& exclude = {});
  // Counts a new open lead for `rep` at `now`.
  void Took(const std::string& rep, absl::Time now);
  // Frees `a`'s capacity if it held any.
  void Freed(const Assignment& a);
  // Lead `lead_id`, unless it was never routed (NOT_FOUND) or is released
  // or closed (FAILED_PRECONDITION).
  absl::StatusOr<Assignment*> Unended(const std::string& lead_id);
  absl::StatusOr<Changed> End(const std::string& lead_id, LeadStatus status,
                              const char* kind, const std::string& reason);
  // Appends `a` then `events` (the log numbers them); returns the last seq.
  uint64_t Record(Assignment& a, std::vector<LeadEvent> events);
  // When `percent` of `a`'s SLA has passed on its clock (business hours of
  // its rep when `e` says so).
  absl::Time ClockAt(const Program& p, const Assignment& a, const Escalation* e,
                     int percent) const;
  // Sets a.next_due (the SLA deadline while pending, and the next step of
  // its escalation) and files it in due_.
  void Arm(const Program& p, Assignment& a);
  void Disarm(Assignment& a);
  // Starts the current owner's SLA clock at `start`.
  void StartClock(const Program& p, Assignment& a, absl::Time start);
  // Where a reassign step can put `a` now: a rep (and the team they were
  // picked from, or -1), a queue, or nowhere (why, in `skipped`). Reps who
  // had the lead are passed over.
  struct Place {
    int rep = -1;
    int team = -1;
    const std::string* queue = nullptr;
  };
  Place FindPlace(const Program& p, const Assignment& a,
                  const EscalationStep& step, absl::Time now,
                  std::vector<std::string>* skipped);
  // Hands `a` to `owner` at `now`: a previous rep joins had_by and gets the
  // capacity back, a new rep counts it. Returns the previous owner.
  std::string MoveTo(Assignment& a, const std::string& owner, OwnerKind kind,
                     const std::string& team, absl::Time now);
  // Runs what is due for `a` at `now`; events go to `events`.
  void Escalate(const Program& p, Assignment& a, absl::Time now,
                std::vector<LeadEvent>* events);
  // RecordContact and RecordOutcome.
  absl::StatusOr<Changed> Report(const std::string& lead_id, Outcome outcome,
                                 std::optional<absl::Time> at,
                                 const std::string& channel);
  // Marks first contact; false when there already was one.
  bool Contacted(Assignment& a, absl::Time at, const std::string& channel,
                 std::vector<LeadEvent>* events);

  const std::unique_ptr<StateStore> store_;
  // Destroyed before the store: it commits what is queued, then stops.
  std::unique_ptr<CommitLog> log_;
  const Clock* const clock_;
  const AssignerOptions options_;

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, RepState> reps_;
  absl::flat_hash_map<std::string, TeamCursor> teams_;
  // Node-based: growing the map moves pointers, not assignments, so a resize
  // under mu_ stays cheap at millions of leads.
  absl::node_hash_map<std::string, Assignment> leads_;
  absl::flat_hash_map<std::string, std::string> by_email_;  // -> lead id
  // Leads with a deadline or escalation step to come, by when.
  std::set<std::pair<absl::Time, std::string>> due_;
  absl::flat_hash_map<std::string, uint64_t> cursors_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_ASSIGNER_H_
