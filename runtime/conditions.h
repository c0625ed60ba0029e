// The meaning of a condition: how operands are evaluated and conditions
// tested against one bound lead. The reference interpreter and the decision
// trees both test conditions through these functions (the trees only for
// what they could not index), so the two can differ only in which rules
// they try, never in what a condition means.
//
// Missing values: an operand without a value makes every comparison on it
// false; `not` of such a comparison is true.
#ifndef LEADROUTE_RUNTIME_CONDITIONS_H_
#define LEADROUTE_RUNTIME_CONDITIONS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "runtime/decision.h"
#include "runtime/program.h"

namespace leadroute::runtime {

// A lead bound to a program's slots, defaults applied. String attributes
// the decision trees branch on also carry their interned id.
struct BoundLead {
  static constexpr int32_t kOther = -1;      // a string no rule names
  static constexpr int32_t kMissing = -2;    // no value
  std::vector<std::optional<Value>> values;  // by slot
  std::vector<int32_t> ids;                  // by slot; see Program::interned
};

// Per-evaluation state: the lead, the clock, and the outputs of the stages
// run so far, which later stages may read.
struct EvalContext {
  const Program& program;
  const BoundLead& lead;
  absl::Time now;
  int64_t score = 0;
  std::optional<int64_t> priority;  // rank
  std::optional<absl::Duration> sla;
};

std::optional<Value> Eval(const Operand& o, const EvalContext& c);

// domain(text): the part after the last '@', lower-cased; none when there
// is no '@' or nothing after it.
std::optional<std::string> DomainOf(absl::string_view text);

// `a op b` on two present values; values of types with no order between
// them compare unequal and unordered.
bool Compare(const Value& a, CompareOp op, const Value& b);

bool Test(const Cond& cond, const EvalContext& c);

// A rule's condition holds (`otherwise` always does).
bool Matches(const Rule& r, const EvalContext& c);

// Lists the owners an assign rule offers (d->candidates: lookups resolved,
// ones that find nothing left out) and makes the first the owner; false when
// every choice is a lookup that finds nothing.
bool ChooseOwner(const Rule& r, const EvalContext& c, Decision* d);

// The conditions that made `cond` true, as written: every part of an
// `and`, the first true part of an `or`, a leaf itself.
void Decisive(const Cond& cond, const EvalContext& c,
              std::vector<std::string>* out);

// The first part of `cond` that is false and why. Requires !Test(cond).
std::pair<std::string, std::string> FirstFailure(const Cond& cond,
                                                 const EvalContext& c);

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_CONDITIONS_H_
