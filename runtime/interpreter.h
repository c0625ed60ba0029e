// Interpreter: the reference evaluator. It walks each stage's rules in
// source order, exactly as the rule author reads them; decision trees are
// tested against it. Semantics: a condition on a missing value is false
// (and `not` of it true); score adds the points of every matching rule;
// the other stages take the first matching rule; an assign outcome falls
// back (`else`) when a lookup finds no owner, and when every choice of a
// rule falls through, the next rules are tried.
#ifndef LEADROUTE_RUNTIME_INTERPRETER_H_
#define LEADROUTE_RUNTIME_INTERPRETER_H_

#include <memory>
#include <optional>
#include <vector>

#include "runtime/policy.h"
#include "runtime/program.h"

namespace leadroute::runtime {

// A lead bound to a program's slots, defaults applied.
using BoundLead = std::vector<std::optional<Value>>;

class Interpreter final : public Policy {
 public:
  explicit Interpreter(std::shared_ptr<const Program> program)
      : program_(std::move(program)) {}

  absl::StatusOr<Decision> Decide(const Lead& lead,
                                  const DecideOptions& options) const override;

  // Checks `lead` against the schema (types, enum values, required
  // attributes) and binds it to slots. Unknown attributes are ignored.
  absl::StatusOr<BoundLead> Bind(const Lead& lead) const;

  const Program& program() const { return *program_; }

 private:
  std::shared_ptr<const Program> program_;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_INTERPRETER_H_
