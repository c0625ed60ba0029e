// RoutingSimulation: the server's rep selection on a state of its own, kept
// in memory and never stored — for `test` blocks with a `given` state,
// `eval --at` / `--state`, and replay's predicted load. It chooses with the
// same code as the Assigner (ChooseOwner over a RepPicker), so working
// hours, holidays, statuses, capacity, caps and the team strategies decide
// as they would on the server at that time.
#ifndef LEADROUTE_RUNTIME_SIMULATION_H_
#define LEADROUTE_RUNTIME_SIMULATION_H_

#include "absl/time/time.h"
#include "runtime/decision.h"
#include "runtime/program.h"
#include "runtime/rep_picker.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

class RoutingSimulation {
 public:
  RoutingSimulation() : picker_(nullptr) {}

  // The state to start from: a store's (eval --state), or set piece by
  // piece (a test's `given`).
  void Restore(const StateSnapshot& snapshot) { picker_.Restore(snapshot); }
  RepPicker& picker() { return picker_; }
  const RepPicker& picker() const { return picker_; }

  // Gives `d`, decided by `p` at `now`, the owner the server would give it
  // at `now` in this state — d->owner, owner_kind, team, skipped — and
  // counts the lead as the rep's (an open lead, a turn of the team).
  // Repeat leads do not stick here: there is no history of emails.
  void Assign(const Program& p, absl::Time now, Decision* d);

 private:
  RepPicker picker_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_SIMULATION_H_
