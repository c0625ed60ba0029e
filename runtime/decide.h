// Deciding one lead: bind it to the program's slots, run the stages in
// order (score, assign, priority, sla, channel, escalate) and assemble the
// decision with its explanation. Which rules a stage tries comes from a
// RuleMatcher:
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

// Binds a lead to a program's slots one attribute at a time, so a wire
// decoder can bind values as it reads them, without building a Lead first.
// Checks each value against the schema (type, enum values, finite numbers)
// and, in Finish, that required attributes are there; applies defaults and
// interns strings. Errors are field errors (base/field_error.h) naming the
// field. One binder serves many leads in turn, keeping its memory.
class LeadBinder {
 public:
  explicit LeadBinder(const Program& program) : program_(program) {}

  // Starts on lead `lead_id`, forgetting the previous one; an empty id is
  // an error.
  absl::Status Start(absl::string_view lead_id);
  // Attribute `name`; an attribute no rule reads is ignored. A name bound
  // twice keeps the last value.
  absl::Status Bind(absl::string_view name, Value value);
  // Completes the lead: required attributes, defaults, interned ids.
  absl::Status Finish();

  const BoundLead& bound() const { return bound_; }

 private:
  const Program& program_;
  BoundLead bound_;
};

// `lead` through a LeadBinder.
absl::StatusOr<BoundLead> BindLead(const Program& program, const Lead& lead);

// The decision for lead `lead_id`, bound by `bound`, with rules chosen by
// `matcher`.
Decision DecideBound(const Program& program, const RuleMatcher& matcher,
                     absl::string_view lead_id, const BoundLead& bound,
                     const DecideOptions& options);

// The rule a --why-not / why_not name refers to: "rule" or "stage/rule".
// NOT_FOUND when no rule has that name (with the closest, if any);
// INVALID_ARGUMENT when a bare name is a rule of several stages.
struct NamedRule {
  StageId stage;
  const Rule* rule;
};
absl::StatusOr<NamedRule> FindNamedRule(const Program& program,
                                        absl::string_view name);

// BindLead, then DecideBound.
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

  // The decision for a lead bound to program() (see LeadBinder): the same
  // as Decide on the Lead it was bound from.
  Decision DecideBound(absl::string_view lead_id, const BoundLead& bound,
                       const DecideOptions& options) const {
    return runtime::DecideBound(*program_, *this, lead_id, bound, options);
  }

  const Program& program() const { return *program_; }

 protected:
  std::shared_ptr<const Program> program_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_DECIDE_H_
