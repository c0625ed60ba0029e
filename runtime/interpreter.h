// Interpreter: the reference evaluator. It walks each stage's rules in
// source order, exactly as the rule author reads them, and tests each one's
// whole condition; the decision trees are tested against it. Semantics (see
// decide.h and conditions.h): score adds the points of every matching rule;
// the other stages take the first matching rule; an assign outcome falls
// back (`else`) when a lookup finds no owner, and when every choice of a
// rule falls through, the next rules are tried.
#ifndef LEADROUTE_RUNTIME_INTERPRETER_H_
#define LEADROUTE_RUNTIME_INTERPRETER_H_

#include <memory>

#include "runtime/decide.h"
#include "runtime/policy.h"
#include "runtime/program.h"

namespace leadroute::runtime {

class Interpreter final : public Policy, private RuleMatcher {
 public:
  explicit Interpreter(std::shared_ptr<const Program> program)
      : program_(std::move(program)) {}

  absl::StatusOr<Decision> Decide(const Lead& lead,
                                  const DecideOptions& options) const override {
    return DecideLead(*program_, *this, lead, options);
  }

  const Program& program() const { return *program_; }

 private:
  void Match(StageId stage, const EvalContext& c,
             absl::FunctionRef<bool(const Rule&)> visit) const override {
    for (const Rule& r : program_->stages[static_cast<int>(stage)]) {
      if (Matches(r, c) && visit(r)) return;
    }
  }

  std::shared_ptr<const Program> program_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_INTERPRETER_H_
