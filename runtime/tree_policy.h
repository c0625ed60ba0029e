// TreePolicy: decides leads through the program's decision trees, the fast
// path the server uses. Results are those of the Interpreter, exactly; the
// differential tests hold the two to that.
#ifndef LEADROUTE_RUNTIME_TREE_POLICY_H_
#define LEADROUTE_RUNTIME_TREE_POLICY_H_

#include "runtime/decide.h"

namespace leadroute::runtime {

class TreePolicy final : public MatchingPolicy {
 public:
  using MatchingPolicy::MatchingPolicy;

 private:
  void Match(StageId stage, const EvalContext& c,
             absl::FunctionRef<bool(const Rule&)> visit) const override;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_TREE_POLICY_H_
