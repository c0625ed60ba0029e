// Interpreter: the reference evaluator. It walks each stage's rules in
// source order, exactly as the rule author reads them, and tests each one's
// whole condition; the decision trees are tested against it. Semantics (see
// decide.h and conditions.h): score adds the points of every matching rule;
// the other stages take the first matching rule; an assign outcome falls
// back (`else`) when a lookup finds no owner, and when every choice of a
// rule falls through, the next rules are tried.
#ifndef LEADROUTE_RUNTIME_INTERPRETER_H_
#define LEADROUTE_RUNTIME_INTERPRETER_H_

#include "runtime/decide.h"

namespace leadroute::runtime {

class Interpreter final : public MatchingPolicy {
 public:
  using MatchingPolicy::MatchingPolicy;

 private:
  void Match(StageId stage, const EvalContext& c,
             absl::FunctionRef<bool(const Rule&)> visit) const override {
    for (const Rule& r : program_->stages[static_cast<int>(stage)]) {
      if (Matches(r, c) && visit(r)) return;
    }
  }
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_INTERPRETER_H_
