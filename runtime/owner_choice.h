// Who of a decision's candidates takes the lead now: the walk over the
// assign rule's choices (fallbacks), sticky repeat leads, and the reps'
// status, hours and caps through a RepPicker. The Assigner runs it on its
// state; a RoutingSimulation (runtime/simulation.h) on a state given by a
// test, `eval --at` or replay, so all three choose as the server does.
#ifndef LEADROUTE_RUNTIME_OWNER_CHOICE_H_
#define LEADROUTE_RUNTIME_OWNER_CHOICE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "runtime/decision.h"
#include "runtime/program.h"
#include "runtime/rep_picker.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

// Why a repeat lead went to the rep who had the person's last lead.
struct Stuck {
  const Assignment* prior = nullptr;  // that lead; null: it did not stick
  std::string said_by;                // the assign rule's name, or "team NAME"
  std::string location;  // where the window is said; empty: the default
  absl::Duration window;
};

// Tries `d`'s candidates in order: the rep who takes the lead (`a` gets
// the team they came from), or -1 with `*queue` set when a queue takes it,
// or -1 and no queue when nobody can (why, in `skipped`). A repeat lead
// (`prior`: the person's last lead, or null) goes to the rep who had it
// where the rules say it sticks (a team candidate that includes them, or
// anywhere; `repeat_window` where they say no window), if they can take
// it: `*stuck` says so, and `a` gets repeat_of. Advances team rotations.
int ChooseOwner(RepPicker& picker, const Program& p, const Decision& d,
                Assignment& a, const Assignment* prior, absl::Time now,
                absl::Duration repeat_window, const Candidate** queue,
                std::vector<std::string>* skipped, Stuck* stuck);

// Gives `a` what ChooseOwner chose: rep `rep` of `p` (counted as theirs in
// `picker` at `now`), else `queue`, else nobody (unassigned; `skipped`
// says why when no assign rule matched).
void TakeOwner(RepPicker& picker, const Program& p, const Decision& d, int rep,
               const Candidate* queue, absl::Time now, Assignment* a,
               std::vector<std::string>* skipped);

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_OWNER_CHOICE_H_
