// Walking a decision tree; the layout is in decision_tree.h.
#include "runtime/tree_policy.h"

#include <algorithm>

namespace leadroute::runtime {
namespace {

// The child for a value among sorted thresholds: 2i for the gap below
// threshold i, 2i+1 for threshold i itself.
template <typename T>
int32_t Ordered(const std::vector<T>& thresholds,
                const std::vector<int32_t>& children, const T& v) {
  const size_t i = std::lower_bound(thresholds.begin(), thresholds.end(), v) -
                   thresholds.begin();
  const bool at = i < thresholds.size() && !(v < thresholds[i]);
  return children[2 * i + (at ? 1 : 0)];
}

// The key's value as an int, when it has one.
std::optional<int64_t> IntKey(const TreeKey& key, const EvalContext& c) {
  switch (key.kind) {
    case TreeKey::Kind::kSlot: {
      const std::optional<Value>& v = c.lead.values[key.slot];
      if (!v) return std::nullopt;
      return std::get<int64_t>(*v);
    }
    case TreeKey::Kind::kScore:
      return c.score;
    case TreeKey::Kind::kPriority:
      return c.priority;
    case TreeKey::Kind::kSla:
      if (!c.sla) return std::nullopt;
      return absl::ToInt64Nanoseconds(*c.sla);
  }
  return std::nullopt;
}

int32_t Child(const TreeNode& n, const EvalContext& c) {
  // Ordered and bool nodes keep the missing-value child last.
  const int32_t missing = n.children.back();
  switch (n.kind) {
    case NodeKind::kStringIds: {
      const size_t i = static_cast<size_t>(c.lead.ids[n.key.slot] + 2);
      return i < n.children.size() ? n.children[i] : n.children[1];
    }
    case NodeKind::kStringMap: {
      const int32_t id = c.lead.ids[n.key.slot];
      if (id == BoundLead::kMissing) return n.children[0];
      auto it = n.sparse.find(id);
      return it == n.sparse.end() ? n.children[1] : it->second;
    }
    case NodeKind::kInts: {
      std::optional<int64_t> v = IntKey(n.key, c);
      return v ? Ordered(n.ints, n.children, *v) : missing;
    }
    case NodeKind::kNumbers: {
      const std::optional<Value>& v = c.lead.values[n.key.slot];
      return v ? Ordered(n.numbers, n.children, std::get<double>(*v)) : missing;
    }
    case NodeKind::kTimes: {
      const std::optional<Value>& v = c.lead.values[n.key.slot];
      return v ? Ordered(n.times, n.children, std::get<absl::Time>(*v))
               : missing;
    }
    case NodeKind::kBool: {
      const std::optional<Value>& v = c.lead.values[n.key.slot];
      return v ? n.children[std::get<bool>(*v) ? 1 : 0] : missing;
    }
    case NodeKind::kLeaf:
      break;
  }
  return missing;
}

}  // namespace

void TreePolicy::Match(StageId stage, const EvalContext& c,
                       absl::FunctionRef<bool(const Rule&)> visit) const {
  const int s = static_cast<int>(stage);
  const DecisionTree& tree = program_->trees[s];
  if (tree.nodes.empty()) return;  // the ruleset has no such stage
  const TreeNode* n = &tree.nodes[tree.root];
  while (n->kind != NodeKind::kLeaf) n = &tree.nodes[Child(*n, c)];
  const std::vector<Rule>& rules = program_->stages[s];
  for (int32_t e = n->first; e < n->first + n->count; ++e) {
    const LeafEntry& entry = tree.entries[e];
    bool holds = true;
    for (int32_t k = 0; k < entry.cond_count && holds; ++k) {
      holds = Test(*tree.conds[entry.first_cond + k], c);
    }
    if (holds && visit(rules[entry.rule])) return;
  }
}

}  // namespace leadroute::runtime
