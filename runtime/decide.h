// Deciding one lead: bind it to the program's slots, run the stages in
// order (score, assign, priority, sla, channel) and assemble the decision
// with its explanation. Which rules a stage tries comes from a RuleMatcher:
// the reference interpreter tries every rule in source order, the decision
// trees only the few a lead can reach. Everything else is shared, so the
// two differ only in the one thing the differential tests compare.
#ifndef LEADROUTE_RUNTIME_DECIDE_H_
#define LEADROUTE_RUNTIME_DECIDE_H_

#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "runtime/conditions.h"
#include "runtime/lead.h"
#include "runtime/policy.h"

namespace leadroute::runtime {

class RuleMatcher {
 public:
  virtual ~RuleMatcher() = default;

  // Calls `visit` with each rule of `stage` whose condition holds for the
  // lead in `c`, in source order, until `visit` returns true.
  virtual void Match(StageId stage, const EvalContext& c,
                     absl::FunctionRef<bool(const Rule&)> visit) const = 0;
};

// Checks `lead` against the schema (types, enum values, finite numbers,
// required attributes), applies defaults and binds it to slots. Unknown
// attributes are ignored. Errors are InvalidLeadField naming the field.
absl::StatusOr<BoundLead> BindLead(const Program& program, const Lead& lead);

// The decision for `lead`, with rules chosen by `matcher`.
absl::StatusOr<Decision> DecideLead(const Program& program,
                                    const RuleMatcher& matcher,
                                    const Lead& lead,
                                    const DecideOptions& options);

// A Policy over one Program whose stages pick rules with Match: the
// Interpreter and TreePolicy differ only in that.
class MatchingPolicy : public Policy, protected RuleMatcher {
 public:
  explicit MatchingPolicy(std::shared_ptr<const Program> program)
      : program_(std::move(program)) {}

  absl::StatusOr<Decision> Decide(const Lead& lead,
                                  const DecideOptions& options) const final {
    return DecideLead(*program_, *this, lead, options);
  }

  const Program& program() const { return *program_; }

 protected:
  std::shared_ptr<const Program> program_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_DECIDE_H_
