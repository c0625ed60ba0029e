// Removed reps' open leads at a ruleset change; see rep_handover.h.
#include "src/service/rep_handover.h"

#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace leadroute {

std::vector<RuleDiagnostic> HandOverRemovedReps(
    runtime::Assigner* assigner, const Ruleset& before, const Ruleset& now,
    std::optional<runtime::RemovedReps> choice,
    runtime::RemovedReps server_default, const runtime::Actor& by) {
  if (assigner == nullptr || now.program == nullptr) return {};
  const runtime::RemovedReps policy = choice.has_value() ? *choice
                                      : now.program->removed_reps.has_value()
                                          ? *now.program->removed_reps
                                          : server_default;
  const std::string reason =
      absl::StrCat("rep removed from the rules (revision ", now.revision,
                   ", removed_reps = ", runtime::RemovedRepsName(policy), ")");
  const runtime::Assigner::HandOver done =
      assigner->HandOverRemovedReps(*now.program, policy, reason, by);
  std::vector<RuleDiagnostic> out;
  for (const runtime::Assigner::RemovedRep& r : done.reps) {
    RuleDiagnostic d;
    d.error = false;
    d.code = "removed_rep";
    std::string what;
    switch (policy) {
      case runtime::RemovedReps::kKeep:
        what = "they stay with the rep";
        break;
      case runtime::RemovedReps::kRelease:
        what = absl::StrCat(r.released, " released");
        break;
      case runtime::RemovedReps::kReassign:
        what = absl::StrCat(r.reassigned, " reassigned within their teams, ",
                            r.released, " released (nobody could take them)");
        break;
    }
    d.message = absl::StrCat(
        "rep `", r.rep, "` is not in the rules of revision ", now.revision,
        " and held ", r.open,
        r.open == 1 ? " open lead: " : " open leads: ", what,
        " (removed_reps = ", runtime::RemovedRepsName(policy), ")");
    if (policy == runtime::RemovedReps::kKeep) {
      d.hint = absl::StrCat("leadroute leads list --owner ", r.rep,
                            " shows them; move them with leads reassign, or "
                            "reload with removed_reps = reassign");
    }
    d.rendered = absl::StrCat("warning: ", d.message, "\n");
    LogWarn("removed rep holds open leads",
            {{"rep", r.rep},
             {"revision", absl::StrCat(now.revision)},
             {"previous_revision", absl::StrCat(before.revision)},
             {"open", absl::StrCat(r.open)},
             {"reassigned", absl::StrCat(r.reassigned)},
             {"released", absl::StrCat(r.released)},
             {"policy", runtime::RemovedRepsName(policy)}});
    out.push_back(std::move(d));
  }
  // The reload answers once the moves are on disk.
  if (done.seq != 0) {
    if (absl::Status s = assigner->log().WaitDurable(done.seq); !s.ok()) {
      LogError("removed reps' leads not saved",
               {{"error", std::string(s.message())}});
    }
  }
  return out;
}

}  // namespace leadroute
