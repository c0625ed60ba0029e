// Rep selection on a simulated state; see simulation.h.
#include "runtime/simulation.h"

#include <string>
#include <vector>

#include "runtime/owner_choice.h"

namespace leadroute::runtime {

void RoutingSimulation::Assign(const Program& p, absl::Time now, Decision* d) {
  Assignment a;
  a.lead_id = d->lead_id;
  std::vector<std::string>& skipped = d->skipped;
  skipped.clear();
  const Candidate* queue = nullptr;
  Stuck stuck;
  const int rep = ChooseOwner(picker_, p, *d, a, /*prior=*/nullptr, now,
                              absl::ZeroDuration(), &queue, &skipped, &stuck);
  TakeOwner(picker_, p, *d, rep, queue, now, &a, &skipped);
  d->owner = a.owner;
  d->owner_kind = a.owner_kind;
  d->team = a.team;
  d->decided_at = now;
}

}  // namespace leadroute::runtime
