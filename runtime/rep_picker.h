// RepPicker: who can take a lead now, and who takes the next one. It keeps
// what rep selection needs to know about every rep (open leads, the times of
// their recent assignments for the daily and weekly caps, their latest turn,
// their live status) and every team's place in its rotation, and runs the
// strategies over them (docs/language.md, "Rep selection"):
// - A rep can take a lead when their status allows (available, or away/out
//   of office whose `until` has passed), it is not a holiday and is within
//   their working hours in their time zone, and they are under their
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
// - A team's `where` tests (seniority, skills, languages) narrow the members
//   the strategy runs over, on the team's one rotation.
//
// Not thread-safe: its owner (the Assigner) calls it only under its own
// lock. What it changes that must survive a restart (a team's rotation, a
// rep's status) it hands back (TakeMoved, SetStatus) for the owner to
// append to the CommitLog together with the change it belongs to, under
// that same lock; it reads the log only to number a rep's turn with the
// change number of the assignment about to be appended (Next).
#ifndef LEADROUTE_RUNTIME_REP_PICKER_H_
#define LEADROUTE_RUNTIME_REP_PICKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "runtime/commit_log.h"
#include "runtime/conditions.h"
#include "runtime/program.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

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

class RepPicker {
 public:
  // Numbers turns by `log` and keeps the rotations it moves for TakeMoved;
  // `log` must outlive the picker. Null for a simulation, which keeps
  // nothing (its turns are counted here).
  explicit RepPicker(CommitLog* log) : log_(log) {}
  RepPicker(const RepPicker&) = delete;
  RepPicker& operator=(const RepPicker&) = delete;

  // How far back from `now` the times of reps' assignments matter (the
  // daily and weekly caps): what the store's snapshot must hold.
  static absl::Time RecentSince(absl::Time now);
  // Rebuilds the reps' loads, statuses and the teams' rotations from what
  // the store kept.
  void Restore(const StateSnapshot& snapshot);

  // Empty when rep `index` of `p` can take a lead at `now`, else why not.
  std::string Unavailable(const Program& p, int index, absl::Time now) const;

  // Empty when rep `index` of `p` passes `where` and can take a lead at
  // `now`, else why not.
  std::string CannotTake(const Program& p, int index,
                         const std::vector<MemberCheck>& where,
                         absl::Time now) const;

  // The rep of team `index` who takes the next lead among the members who
  // pass `where` and are not in `exclude`, or -1; the reasons members were
  // passed over are added to `skipped`. Advances the team's rotation.
  int PickFromTeam(const Program& p, int index,
                   const std::vector<MemberCheck>& where, absl::Time now,
                   std::vector<std::string>* skipped,
                   const std::vector<std::string>& exclude = {});

  // The rotations PickFromTeam moved since the last call, oldest first, for
  // the caller to append with the assignment the pick was for, in one
  // commit (CommitLog::AppendTogether): stored apart, a crash between the
  // two commits would skip or repeat a rep at the restart.
  std::vector<TeamCursor> TakeMoved();

  // Counts a new open lead for `rep` at `now`: the assignment appended next
  // is their turn.
  void Took(const std::string& rep, absl::Time now);
  // Gives back the capacity `a` held, if it held any (an open lead of a
  // rep).
  void Freed(const Assignment& a);
  // Hands `a` to `owner` at `now`: a previous rep joins had_by and gets the
  // capacity back, a new rep counts it. Returns the previous owner.
  std::string MoveTo(Assignment& a, const std::string& owner, OwnerKind kind,
                     const std::string& team, absl::Time now);

  // Sets a rep's live status, stamped `now`; returns it so that the caller
  // appends it to the log together with whatever goes with it (its audit).
  RepStatus SetStatus(RepStatus status, absl::Time now);
  // Rep `id`'s live status, if one was ever set.
  const std::optional<RepStatus>& StatusOf(const std::string& id) const {
    return StateOf(id).status;
  }
  // Every rep holding open leads (of any ruleset, live or not).
  std::vector<std::string> RepsWithOpenLeads() const;
  // Open leads held by rep `id` (of any ruleset, live or not).
  int64_t OpenOf(const std::string& id) const { return StateOf(id).open; }
  // Rep `index` of `p`'s load at `now`.
  RepLoad Load(const Program& p, int index, absl::Time now) const;

  // A given state (a test's, a simulation's): rep `rep` holds `open` open
  // leads; rep `rep` had team `team`'s last lead.
  void SetOpen(const std::string& rep, int64_t open);
  void SetLastOf(const std::string& team, const std::string& rep);

 private:
  struct RepState {
    int64_t open = 0;
    std::vector<absl::Time> recent;  // assignment times, ascending, ~8 days
    uint64_t last_turn = 0;          // seq of the rep's latest assignment
    std::optional<RepStatus> status;
  };
  // Rep `id`'s state; a fresh one for a rep never seen.
  const RepState& StateOf(const std::string& id) const;

  CommitLog* const log_;
  uint64_t turns_ = 0;  // without a log: the last turn given
  absl::flat_hash_map<std::string, RepState> reps_;
  absl::flat_hash_map<std::string, TeamCursor> teams_;
  std::vector<TeamCursor> moved_;  // not yet taken (TakeMoved)
};

// Each rep of `p`'s load at `now` as `snapshot` (a store's Load since
// RepPicker::RecentSince(now)) has it: what a replica that does not write
// shows of the writer's reps (the writer's Assigner::Loads holds them in
// memory, including changes not yet committed).
std::vector<RepLoad> LoadsOf(const StateSnapshot& snapshot, const Program& p,
                             absl::Time now);

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_REP_PICKER_H_
