// TreePolicy: decides leads through the program's decision trees, the fast
// path the server uses. Results are those of the Interpreter, exactly; the
// differential tests hold the two to that.
#ifndef LEADROUTE_RUNTIME_TREE_POLICY_H_
#define LEADROUTE_RUNTIME_TREE_POLICY_H_

#include <memory>

#include "runtime/decide.h"
#include "runtime/policy.h"
#include "runtime/program.h"

namespace leadroute::runtime {

class TreePolicy final : public Policy, private RuleMatcher {
 public:
  explicit TreePolicy(std::shared_ptr<const Program> program)
      : program_(std::move(program)) {}

  absl::StatusOr<Decision> Decide(const Lead& lead,
                                  const DecideOptions& options) const override {
    return DecideLead(*program_, *this, lead, options);
  }

  const Program& program() const { return *program_; }

 private:
  void Match(StageId stage, const EvalContext& c,
             absl::FunctionRef<bool(const Rule&)> visit) const override;

  std::shared_ptr<const Program> program_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_TREE_POLICY_H_
