// Decision trees: how a stage finds the rules a lead can match without
// trying them one by one.
//
// Each stage of a Program is compiled (compiler/lower_to_tree.cc) into one
// DecisionTree, a DAG of nodes held in one vector and named by index. An
// inner node tests one key (a lead attribute, or the score, priority or SLA
// an earlier stage set) and picks a child by the key's value; a leaf lists
// the rules that can still match there, in source order, each with the
// conditions the path did not already decide. Evaluating a stage is a walk
// from the root to a leaf, then the leaf's entries in order: the first
// entry whose conditions hold decides (the score stage takes every entry
// whose conditions hold).
//
// Node layout, by kind:
//   kLeaf        entries[first .. first+count): the rules to try
//   kStringIds   children[id + 2] for the lead's interned id of the key
//                (BoundLead::ids); children[0] is for a missing value,
//                children[1] for a string no rule names (and for ids past
//                the end of the array)
//   kStringMap   the same with `sparse` id -> child for keys with many
//                interned strings; `children` = {missing, other}
//   kInts        sorted `ints` thresholds t0 < t1 < ... < tk-1: children
//   kNumbers     [2i] for values in (t(i-1), ti), [2i+1] for ti itself,
//   kTimes       [2k] above the last, [2k+1] for a missing value
//   kBool        children {false, true, missing}
// Identical subtrees are built once and shared, so a node may have many
// parents. A leaf's entries name rules by their index in the stage.
#ifndef LEADROUTE_RUNTIME_DECISION_TREE_H_
#define LEADROUTE_RUNTIME_DECISION_TREE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace leadroute::runtime {

struct Cond;
struct Program;

// What an inner node tests.
struct TreeKey {
  enum class Kind : uint8_t {
    kSlot,      // lead attribute `slot`
    kScore,     // the score stage's total
    kPriority,  // the priority stage's rank
    kSla,       // the sla stage's duration, in nanoseconds
  };
  Kind kind = Kind::kSlot;
  int32_t slot = -1;

  friend bool operator==(const TreeKey&, const TreeKey&) = default;
};

enum class NodeKind : uint8_t {
  kLeaf,       // rules to try, in order
  kStringIds,  // dense branch on an interned string or enum value
  kStringMap,  // sparse branch on an interned string or enum value
  kInts,       // binary search over int thresholds
  kNumbers,    // binary search over number thresholds
  kTimes,      // binary search over time thresholds
  kBool,       // false / true / missing
};

struct TreeNode {
  NodeKind kind = NodeKind::kLeaf;
  TreeKey key;
  std::vector<int32_t> children;
  absl::flat_hash_map<int32_t, int32_t> sparse;  // kStringMap
  std::vector<int64_t> ints;                     // kInts
  std::vector<double> numbers;                   // kNumbers
  std::vector<absl::Time> times;                 // kTimes
  int32_t first = 0, count = 0;                  // kLeaf
};

// One rule a leaf tries, with the conditions left to test.
struct LeafEntry {
  int32_t rule = 0;                        // index in the stage
  int32_t first_cond = 0, cond_count = 0;  // into DecisionTree::conds
};

// What `leadroute check --stats` reports per stage.
struct TreeStats {
  int64_t nodes = 0;  // distinct nodes, leaves included
  int64_t leaves = 0;
  int64_t max_tests = 0;     // worst case: key tests plus leaf conditions
  int64_t max_entries = 0;   // most rules one leaf tries
  bool over_budget = false;  // some leaves scan rules instead of branching
};

struct DecisionTree {
  std::vector<TreeNode> nodes;
  int32_t root = 0;
  std::vector<LeafEntry> entries;
  std::vector<const Cond*> conds;  // owned by the Program's rules
  TreeStats stats;

  // A readable dump of the DAG, one node per line, for golden tests and
  // `leadroute check --dump-trees`.
  std::string DebugString(const Program& program, int stage) const;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_DECISION_TREE_H_
