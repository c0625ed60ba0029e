// The readable dump of a decision tree; see decision_tree.h.
#include "runtime/decision_tree.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/program.h"

namespace leadroute::runtime {
namespace {

std::string KeyName(const TreeKey& key, const Program& p) {
  switch (key.kind) {
    case TreeKey::Kind::kSlot:
      return p.attributes[key.slot].name;
    case TreeKey::Kind::kScore:
      return "score";
    case TreeKey::Kind::kPriority:
      return "priority";
    case TreeKey::Kind::kSla:
      return "sla";
  }
  return "?";
}

// The interned strings of `slot` by id.
std::vector<std::string> Strings(const Program& p, int slot) {
  std::vector<std::string> out(p.interned[slot].size());
  for (const auto& [s, id] : p.interned[slot]) out[id] = s;
  return out;
}

std::string Threshold(const TreeNode& n, size_t i) {
  switch (n.kind) {
    case NodeKind::kInts:
      return absl::StrCat(n.ints[i]);
    case NodeKind::kNumbers:
      return absl::StrCat(n.numbers[i]);
    default:
      return absl::FormatTime(absl::RFC3339_full, n.times[i],
                              absl::UTCTimeZone());
  }
}

}  // namespace

std::string DecisionTree::DebugString(const Program& p, int stage) const {
  std::string out;
  for (size_t id = 0; id < nodes.size(); ++id) {
    const TreeNode& n = nodes[id];
    absl::StrAppend(&out, id == static_cast<size_t>(root) ? "*" : "", "n", id,
                    ": ");
    std::vector<std::string> arms;
    auto arm = [&](absl::string_view label, int32_t child) {
      arms.push_back(absl::StrCat(label, " -> n", child));
    };
    switch (n.kind) {
      case NodeKind::kLeaf: {
        out += "leaf";
        for (int32_t e = n.first; e < n.first + n.count; ++e) {
          const LeafEntry& entry = entries[e];
          absl::StrAppend(&out, " | ", p.stages[stage][entry.rule].name);
          for (int32_t k = 0; k < entry.cond_count; ++k) {
            const Cond& c = *conds[entry.first_cond + k];
            const bool parens =
                c.kind == Cond::Kind::kOr && entry.cond_count > 1;
            absl::StrAppend(&out, k == 0 ? " if " : " and ", parens ? "(" : "",
                            c.text, parens ? ")" : "");
          }
        }
        out += "\n";
        continue;
      }
      case NodeKind::kStringIds:
      case NodeKind::kStringMap: {
        std::vector<std::string> strings = Strings(p, n.key.slot);
        if (n.kind == NodeKind::kStringIds) {
          for (size_t i = 2; i < n.children.size(); ++i) {
            if (n.children[i] != n.children[1])
              arm(absl::StrCat("\"", strings[i - 2], "\""), n.children[i]);
          }
        } else {
          std::vector<std::pair<int32_t, int32_t>> sorted(n.sparse.begin(),
                                                          n.sparse.end());
          std::sort(sorted.begin(), sorted.end());
          for (const auto& [sid, child] : sorted)
            arm(absl::StrCat("\"", strings[sid], "\""), child);
        }
        arm("other", n.children[1]);
        arm("missing", n.children[0]);
        break;
      }
      case NodeKind::kBool:
        arm("false", n.children[0]);
        arm("true", n.children[1]);
        arm("missing", n.children[2]);
        break;
      default: {
        const size_t k = (n.children.size() - 2) / 2;
        for (size_t i = 0; i < k; ++i) {
          arm(absl::StrCat("<", Threshold(n, i)), n.children[2 * i]);
          arm(absl::StrCat("=", Threshold(n, i)), n.children[2 * i + 1]);
        }
        arm(k == 0 ? "any" : absl::StrCat(">", Threshold(n, k - 1)),
            n.children[2 * k]);
        arm("missing", n.children[2 * k + 1]);
      }
    }
    absl::StrAppend(&out, KeyName(n.key, p), ": ", absl::StrJoin(arms, ", "),
                    "\n");
  }
  return out;
}

}  // namespace leadroute::runtime
