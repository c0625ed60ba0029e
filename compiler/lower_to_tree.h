// The lower_to_tree pass: each stage of a lowered Program becomes a
// decision tree (runtime/decision_tree.h), and what the construction learns
// about the rules comes back as findings for `leadroute check` to report.
//
// How a tree is built. A rule's condition is split at its top-level `and`s;
// a part that tests only one key (an attribute, score, priority or sla)
// against constants is indexable, anything else (contains, lookups,
// `within`, `or` across keys) is left for the leaf. A node holds the rules
// still possible, in source order, and branches on one key: the key's
// values are cut into cells (each string a rule names, any other string, a
// missing value; the gaps and points between sorted thresholds), each rule
// is tested once per cell, and each child keeps the rules true there. A
// rule that leaves the key unconstrained goes to every child. Once a rule
// is fully decided by the path and needs no more tests, the rules after it
// can never decide and are dropped (except in the additive score stage);
// that is what keeps trees small, and what reveals shadowed rules. Nodes
// with the same rules and the same keys left share one subtree, and equal
// nodes are stored once.
//
// The size budget. Rules that leave keys unconstrained are copied into
// every child, which can multiply. When a stage's tree reaches the budget,
// the nodes still to build become leaves that test their rules' remaining
// conditions one by one: slower, never wrong, and reported.
#ifndef LEADROUTE_COMPILER_LOWER_TO_TREE_H_
#define LEADROUTE_COMPILER_LOWER_TO_TREE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/program.h"

namespace leadroute::compiler {

struct TreeOptions {
  // Per stage, in units of child pointers plus leaf entries plus leaf
  // conditions (about 4 to 8 bytes each, plus the nodes themselves).
  int64_t budget = 16'000'000;
};

struct TreeFinding {
  enum class Kind {
    kNeverFires,    // `rule` matches only leads earlier rules (`others`) take
    kNeverMatches,  // no lead satisfies `rule`'s conditions on key `detail`
    kOverlap,       // `others[0]` and `rule` match `example` with different
                    // outputs and neither contains the other: order decides
    kFallThrough,   // leads like `example` match no rule of the stage;
                    // `detail` lists the conditions that would have to fail
    kOverBudget,    // the stage's tree reached the size budget
  };
  Kind kind = Kind::kNeverFires;
  int stage = 0;
  int rule = -1;
  std::vector<int> others;
  std::string example;
  std::string detail;
};

// Builds program->trees and program->interned. Deterministic: the same
// program gives the same trees.
std::vector<TreeFinding> LowerToTrees(runtime::Program* program,
                                      const TreeOptions& options = {});

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_LOWER_TO_TREE_H_
