// What becomes of the open leads of reps a new ruleset no longer has: the
// RulesetRegistry's OnLive for a server with state.
#ifndef LEADROUTE_SRC_SERVICE_REP_HANDOVER_H_
#define LEADROUTE_SRC_SERVICE_REP_HANDOVER_H_

#include <optional>
#include <vector>

#include "runtime/assigner.h"
#include "runtime/program.h"
#include "src/service/ruleset_registry.h"

namespace leadroute {

// Applies the removed_reps policy — `choice`, else `now`'s own setting,
// else `server_default` — to the open leads of reps `before` had and `now`
// has not, and returns (and logs) one warning per such rep: its open
// leads and what became of them. The moves are made `by` whoever made
// `now` live.
std::vector<RuleDiagnostic> HandOverRemovedReps(
    runtime::Assigner* assigner, const Ruleset& before, const Ruleset& now,
    std::optional<runtime::RemovedReps> choice,
    runtime::RemovedReps server_default, const runtime::Actor& by = {});

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_REP_HANDOVER_H_
