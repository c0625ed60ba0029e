// The lower_to_tree pass; the method is described in lower_to_tree.h.
#include "compiler/lower_to_tree.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/conditions.h"

namespace leadroute::compiler {
namespace {

using runtime::CompareOp;
using runtime::Cond;
using runtime::Operand;
using runtime::Rule;
using runtime::StageId;
using runtime::TreeKey;
using runtime::Value;
using runtime::ValueType;

// The values a key can take, as far as indexing is concerned.
enum class Domain { kNone, kString, kInt, kNumber, kTime, kBool };

bool Ordered(Domain d) {
  return d == Domain::kInt || d == Domain::kNumber || d == Domain::kTime;
}

bool InDomain(const Value& v, Domain d) {
  switch (d) {
    case Domain::kString:
      return runtime::TypeOf(v) == ValueType::kString;
    case Domain::kInt:
      return runtime::TypeOf(v) == ValueType::kInt;
    case Domain::kNumber:
      return runtime::TypeOf(v) == ValueType::kNumber;
    case Domain::kTime:
      return runtime::TypeOf(v) == ValueType::kTime;
    case Domain::kBool:
      return runtime::TypeOf(v) == ValueType::kBool;
    case Domain::kNone:
      return false;
  }
  return false;
}

// Order among values of one ordered domain.
bool Less(const Value& a, const Value& b) {
  switch (runtime::TypeOf(a)) {
    case ValueType::kInt:
      return std::get<int64_t>(a) < std::get<int64_t>(b);
    case ValueType::kNumber:
      return std::get<double>(a) < std::get<double>(b);
    case ValueType::kTime:
      return std::get<absl::Time>(a) < std::get<absl::Time>(b);
    default:
      return false;
  }
}

struct KeyInfo {
  TreeKey key;
  Domain domain = Domain::kNone;
  std::string name;
  bool can_be_missing = true;
  const std::vector<std::string>* enum_values = nullptr;  // when finite
  int64_t lo = std::numeric_limits<int64_t>::min();       // kInt bounds
  int64_t hi = std::numeric_limits<int64_t>::max();
  const std::vector<std::string>* labels = nullptr;  // priority: rank names
};

// One cell of a key's values: a representative, none for "missing", and
// whether any lead can have a value in it.
struct Cell {
  std::optional<Value> rep;
  bool empty = false;
};

// A key's values cut into cells by a set of constants, in the runtime's
// child order (decision_tree.h):
//   strings  [missing, other, s0, s1, ...]  (s sorted)
//   bools    [false, true, missing]
//   ordered  [gap0, t0, gap1, t1, ..., gapk, missing]
struct Layout {
  Domain domain = Domain::kNone;
  std::vector<std::string> strings;
  std::vector<Value> thresholds;
  std::vector<Cell> cells;

  int CellOf(const std::optional<Value>& v) const {
    if (!v)
      return domain == Domain::kString ? 0 : static_cast<int>(cells.size()) - 1;
    switch (domain) {
      case Domain::kString: {
        const std::string& s = std::get<std::string>(*v);
        auto it = std::lower_bound(strings.begin(), strings.end(), s);
        if (it != strings.end() && *it == s)
          return 2 + static_cast<int>(it - strings.begin());
        return 1;
      }
      case Domain::kBool:
        return std::get<bool>(*v) ? 1 : 0;
      default: {
        auto it =
            std::lower_bound(thresholds.begin(), thresholds.end(), *v, Less);
        const int i = static_cast<int>(it - thresholds.begin());
        const bool at = it != thresholds.end() && !Less(*v, *it);
        return 2 * i + (at ? 1 : 0);
      }
    }
  }
};

// Values strictly between `a` and `b` (either may be absent: unbounded).
std::optional<Value> Between(const std::optional<Value>& a,
                             const std::optional<Value>& b,
                             const KeyInfo& key) {
  switch (key.domain) {
    case Domain::kInt: {
      int64_t lo = key.lo, hi = key.hi;
      if (a) {
        const int64_t x = std::get<int64_t>(*a);
        if (x == std::numeric_limits<int64_t>::max()) return std::nullopt;
        lo = std::max(lo, x + 1);
      }
      if (b) {
        const int64_t y = std::get<int64_t>(*b);
        if (y == std::numeric_limits<int64_t>::min()) return std::nullopt;
        hi = std::min(hi, y - 1);
      }
      if (lo > hi) return std::nullopt;
      return Value(std::clamp<int64_t>(0, lo, hi));
    }
    case Domain::kNumber: {
      const double inf = std::numeric_limits<double>::infinity();
      if (!a && !b) return Value(0.0);
      if (!a) {
        const double y = std::get<double>(*b);
        return y > 0 ? Value(0.0) : Value(std::nextafter(y, -inf));
      }
      const double x = std::get<double>(*a);
      if (!b) return x < 0 ? Value(0.0) : Value(std::nextafter(x, inf));
      const double y = std::get<double>(*b);
      const double m = std::nextafter(x, y);
      if (!(m < y)) return std::nullopt;
      return Value(x < 0 && y > 0 ? 0.0 : m);
    }
    case Domain::kTime: {
      const absl::Duration ns = absl::Nanoseconds(1);
      if (!a && !b) return Value(absl::UnixEpoch());
      if (!a) return Value(std::get<absl::Time>(*b) - ns);
      const absl::Time x = std::get<absl::Time>(*a) + ns;
      if (b && !(x < std::get<absl::Time>(*b))) return std::nullopt;
      return Value(x);
    }
    default:
      return std::nullopt;
  }
}

Layout MakeLayout(const KeyInfo& key, std::vector<Value> constants) {
  Layout l;
  l.domain = key.domain;
  if (key.domain == Domain::kString) {
    for (const Value& v : constants)
      l.strings.push_back(std::get<std::string>(v));
    std::sort(l.strings.begin(), l.strings.end());
    l.strings.erase(std::unique(l.strings.begin(), l.strings.end()),
                    l.strings.end());
    l.cells.push_back({std::nullopt, !key.can_be_missing});
    auto named = [&](const std::string& s) {
      return std::binary_search(l.strings.begin(), l.strings.end(), s);
    };
    Cell other{std::nullopt, true};
    if (key.enum_values != nullptr) {
      for (const std::string& e : *key.enum_values) {
        if (!named(e)) {
          other = {Value(e), false};
          break;
        }
      }
    } else {
      std::string s = "other";
      for (int i = 2; named(s); ++i) s = absl::StrCat("other", i);
      other = {Value(s), false};
    }
    l.cells.push_back(other);
    for (const std::string& s : l.strings) l.cells.push_back({Value(s), false});
    return l;
  }
  if (key.domain == Domain::kBool) {
    l.cells = {{Value(false), false},
               {Value(true), false},
               {std::nullopt, !key.can_be_missing}};
    return l;
  }
  std::sort(constants.begin(), constants.end(), Less);
  constants.erase(std::unique(constants.begin(), constants.end(),
                              [](const Value& a, const Value& b) {
                                return !Less(a, b) && !Less(b, a);
                              }),
                  constants.end());
  l.thresholds = constants;
  std::optional<Value> prev;
  for (const Value& t : l.thresholds) {
    std::optional<Value> gap = Between(prev, t, key);
    l.cells.push_back({gap, !gap.has_value()});
    bool out_of_range = false;
    if (key.domain == Domain::kInt) {
      const int64_t x = std::get<int64_t>(t);
      out_of_range = x < key.lo || x > key.hi;
    }
    l.cells.push_back({t, out_of_range});
    prev = t;
  }
  std::optional<Value> last = Between(prev, std::nullopt, key);
  l.cells.push_back({last, !last.has_value()});
  l.cells.push_back({std::nullopt, !key.can_be_missing});
  return l;
}

// The constants a pure condition compares its key with.
void Constants(const Cond& c, std::vector<Value>* out) {
  for (const auto& child : c.children) Constants(*child, out);
  if (c.rhs.kind == Operand::Kind::kConstant &&
      (c.kind == Cond::Kind::kCompare || c.kind == Cond::Kind::kBetween))
    out->push_back(c.rhs.constant);
  if (c.kind == Cond::Kind::kBetween) out->push_back(c.rhs2.constant);
  if (c.kind == Cond::Kind::kInSet)
    out->insert(out->end(), c.set.begin(), c.set.end());
}

// A rule's indexable conditions on one key, tabulated over the cells its
// own constants make. Its truth is the same for every value in a cell.
struct Pred {
  int key = 0;
  std::vector<const Cond*> conds;
  Layout layout;
  std::vector<char> truth;  // by layout cell

  bool At(const std::optional<Value>& v) const {
    return truth[layout.CellOf(v)];
  }
};

struct RuleInfo {
  std::vector<Pred> preds;  // sorted by key
  std::vector<const Cond*> residual;
  bool can_fail = false;  // an assign rule whose every owner is a lookup

  const Pred* On(int key) const {
    for (const Pred& p : preds) {
      if (p.key == key) return &p;
    }
    return nullptr;
  }
};

// Calls emit(first, last) for each run of `node`'s cells where `p` holds.
// `node` was cut by a superset of p's constants, so each of p's own cells
// is a run of node cells: the cost is p's size, not the node's.
template <typename F>
void TrueRanges(const Pred& p, const Layout& node, F&& emit) {
  const Layout& own = p.layout;
  const int n = static_cast<int>(node.cells.size());
  switch (own.domain) {
    case Domain::kString: {
      if (p.truth[0]) emit(0, 0);
      std::vector<int> named;  // node cells of p's strings that hold, or not
      for (size_t j = 0; j < own.strings.size(); ++j) {
        if (p.truth[2 + j] != p.truth[1])
          named.push_back(node.CellOf(Value(own.strings[j])));
      }
      std::sort(named.begin(), named.end());
      if (!p.truth[1]) {
        for (int c : named) emit(c, c);
        return;
      }
      int start = 1;  // every string cell except the named ones
      for (int c : named) {
        if (c > start) emit(start, c - 1);
        start = c + 1;
      }
      if (start <= n - 1) emit(start, n - 1);
      return;
    }
    case Domain::kBool:
      for (int c = 0; c < 3; ++c) {
        if (p.truth[c]) emit(c, c);
      }
      return;
    default: {
      const size_t k = own.thresholds.size();
      int start = 0;
      for (size_t j = 0; j <= k; ++j) {
        const int at = j < k ? node.CellOf(own.thresholds[j]) : n - 1;
        if (p.truth[2 * j] && start <= at - 1) emit(start, at - 1);
        if (j < k && p.truth[2 * j + 1]) emit(at, at);
        start = at + 1;
      }
      if (p.truth[2 * k + 1]) emit(n - 1, n - 1);
    }
  }
}

class StageBuilder {
 public:
  StageBuilder(runtime::Program* p, int stage, const std::vector<KeyInfo>& keys,
               const TreeOptions& options, std::vector<TreeFinding>* findings)
      : p_(p),
        stage_(stage),
        keys_(keys),
        options_(options),
        findings_(findings),
        rules_(p->stages[stage]),
        tree_(p->trees[stage]),
        additive_(stage == static_cast<int>(StageId::kScore)) {}

  void Run() {
    if (rules_.empty()) return;
    infos_.resize(rules_.size());
    for (size_t r = 0; r < rules_.size(); ++r) Analyze(r);
    cutters_.resize(rules_.size());
    reached_.assign(rules_.size(), false);
    std::vector<int32_t> all(rules_.size());
    for (size_t r = 0; r < all.size(); ++r) all[r] = static_cast<int32_t>(r);
    resolved_.assign(keys_.size(), 0);
    const int32_t root = Build(all);
    Renumber(root);
    Stats();
    Report();
  }

 private:
  // --- Splitting rules into indexable parts and the rest -----------------

  int KeyOf(const Operand& o) const {
    const int slots = static_cast<int>(p_->attributes.size());
    switch (o.kind) {
      case Operand::Kind::kSlot:
        return keys_[o.slot].domain == Domain::kNone ? -1 : o.slot;
      case Operand::Kind::kScore:
        return slots;
      case Operand::Kind::kPriority:
        return slots + 1;
      case Operand::Kind::kSla:
        return slots + 2;
      default:
        return -1;
    }
  }

  bool Constant(const Operand& o, Domain d) const {
    return o.kind == Operand::Kind::kConstant && InDomain(o.constant, d);
  }

  // The one key `c` tests against constants only, or -1.
  int PureKey(const Cond& c) const {
    using K = Cond::Kind;
    switch (c.kind) {
      case K::kAnd:
      case K::kOr:
      case K::kNot: {
        int key = -1;
        for (const auto& child : c.children) {
          const int k = PureKey(*child);
          if (k < 0 || (key >= 0 && k != key)) return -1;
          key = k;
        }
        return key;
      }
      default:
        break;
    }
    const int key = KeyOf(c.lhs);
    if (key < 0) return -1;
    const Domain d = keys_[key].domain;
    switch (c.kind) {
      case K::kHas:
        return key;
      case K::kTruthy:
        return d == Domain::kBool ? key : -1;
      case K::kCompare:
        if (!Constant(c.rhs, d)) return -1;
        if (c.op == CompareOp::kEq || c.op == CompareOp::kNe) return key;
        if (Ordered(d) && (c.op == CompareOp::kLt || c.op == CompareOp::kLe ||
                           c.op == CompareOp::kGt || c.op == CompareOp::kGe))
          return key;
        return -1;
      case K::kInSet:
        for (const Value& v : c.set) {
          if (!InDomain(v, d)) return -1;
        }
        return key;
      case K::kBetween:
        return Ordered(d) && Constant(c.rhs, d) && Constant(c.rhs2, d) ? key
                                                                       : -1;
      default:
        return -1;
    }
  }

  static void Conjuncts(const Cond& c, std::vector<const Cond*>* out) {
    if (c.kind == Cond::Kind::kAnd) {
      for (const auto& child : c.children) Conjuncts(*child, out);
    } else {
      out->push_back(&c);
    }
  }

  // Tabulates `pred` over its own cells by testing its conditions on each
  // cell's representative: the meaning comes from runtime::Test itself.
  void Tabulate(Pred* pred) {
    const KeyInfo& key = keys_[pred->key];
    std::vector<Value> constants;
    for (const Cond* c : pred->conds) Constants(*c, &constants);
    pred->layout = MakeLayout(key, std::move(constants));
    runtime::BoundLead& lead = scratch_;
    if (lead.values.size() != p_->attributes.size()) {
      lead.values.resize(p_->attributes.size());
      lead.ids.assign(p_->attributes.size(), runtime::BoundLead::kMissing);
    }
    for (const Cell& cell : pred->layout.cells) {
      runtime::EvalContext c{*p_, lead,         absl::UnixEpoch(),
                             0,   std::nullopt, std::nullopt};
      switch (key.key.kind) {
        case TreeKey::Kind::kSlot:
          lead.values[key.key.slot] = cell.rep;
          break;
        case TreeKey::Kind::kScore:
          c.score = cell.rep ? std::get<int64_t>(*cell.rep) : 0;
          break;
        case TreeKey::Kind::kPriority:
          if (cell.rep) c.priority = std::get<int64_t>(*cell.rep);
          break;
        case TreeKey::Kind::kSla:
          if (cell.rep) c.sla = absl::Nanoseconds(std::get<int64_t>(*cell.rep));
          break;
      }
      bool holds = !cell.empty;
      for (const Cond* cond : pred->conds)
        holds = holds && runtime::Test(*cond, c);
      pred->truth.push_back(holds);
    }
    if (key.key.kind == TreeKey::Kind::kSlot) lead.values[key.key.slot].reset();
  }

  void Analyze(size_t r) {
    const Rule& rule = rules_[r];
    RuleInfo& info = infos_[r];
    if (stage_ == static_cast<int>(StageId::kAssign)) {
      info.can_fail = std::all_of(
          rule.owners.begin(), rule.owners.end(), [](const runtime::Owner& o) {
            return o.kind == runtime::Owner::Kind::kLookup;
          });
    }
    if (rule.when == nullptr) return;
    std::vector<const Cond*> parts;
    Conjuncts(*rule.when, &parts);
    for (const Cond* part : parts) {
      const int key = PureKey(*part);
      if (key < 0) {
        info.residual.push_back(part);
        continue;
      }
      auto it = std::find_if(info.preds.begin(), info.preds.end(),
                             [&](const Pred& p) { return p.key == key; });
      if (it == info.preds.end()) {
        info.preds.push_back(Pred{key, {}, {}, {}});
        it = info.preds.end() - 1;
      }
      it->conds.push_back(part);
    }
    std::sort(info.preds.begin(), info.preds.end(),
              [](const Pred& a, const Pred& b) { return a.key < b.key; });
    for (Pred& pred : info.preds) Tabulate(&pred);
  }

  bool Unresolved(int32_t r) const {
    for (const Pred& p : infos_[r].preds) {
      if (!resolved_[p.key]) return true;
    }
    return false;
  }

  // Decided by the path alone: nothing left to test, and an owner is sure.
  bool Terminal(int32_t r) const {
    return !Unresolved(r) && infos_[r].residual.empty() && !infos_[r].can_fail;
  }

  // --- Building ----------------------------------------------------------

  int32_t Build(std::vector<int32_t> rules) {
    if (!additive_) Truncate(&rules);
    if (size_ > options_.budget) over_budget_ = true;
    const int key = over_budget_ ? -1 : ChooseKey(rules);
    if (key < 0) return Leaf(rules);  // leaves are shared by content
    std::string memo_key(resolved_.begin(), resolved_.end());
    memo_key.append(reinterpret_cast<const char*>(rules.data()),
                    rules.size() * sizeof(int32_t));
    if (auto it = memo_.find(memo_key); it != memo_.end()) return it->second;
    const int32_t id = Split(rules, key);
    memo_.emplace(std::move(memo_key), id);
    return id;
  }

  // Drops the rules after the first one the path decides.
  void Truncate(std::vector<int32_t>* rules) {
    for (size_t i = 0; i < rules->size(); ++i) {
      const int32_t t = (*rules)[i];
      if (!Terminal(t)) continue;
      for (size_t j = i + 1; j < rules->size(); ++j) Cut(t, (*rules)[j]);
      rules->resize(i + 1);
      return;
    }
  }

  // The key to branch on: one the first undecided rule tests, the one most
  // of the rules here test.
  int ChooseKey(const std::vector<int32_t>& rules) const {
    const RuleInfo* head = nullptr;
    for (int32_t r : rules) {
      if (Unresolved(r)) {
        head = &infos_[r];
        break;
      }
    }
    if (head == nullptr) return -1;
    absl::flat_hash_map<int, int> count;
    for (int32_t r : rules) {
      for (const Pred& p : infos_[r].preds) {
        if (!resolved_[p.key]) ++count[p.key];
      }
    }
    int best = -1, best_count = -1;
    for (const Pred& p : head->preds) {
      if (resolved_[p.key]) continue;
      if (count[p.key] > best_count) {
        best = p.key;
        best_count = count[p.key];
      }
    }
    return best;
  }

  int32_t Split(const std::vector<int32_t>& rules, int key) {
    std::vector<Value> constants;
    for (int32_t r : rules) {
      if (const Pred* p = infos_[r].On(key)) {
        for (const Cond* c : p->conds) Constants(*c, &constants);
      }
    }
    const Layout layout = MakeLayout(keys_[key], std::move(constants));
    const size_t n = layout.cells.size();
    int64_t open = 0;
    for (const Cell& cell : layout.cells) open += cell.empty ? 0 : 1;
    // What the split would copy, before copying it: rules that leave the
    // key unconstrained go to every child.
    int64_t copies = 0;
    for (int32_t r : rules) {
      const Pred* p = infos_[r].On(key);
      if (p == nullptr) {
        copies += open;
      } else {
        TrueRanges(*p, layout, [&](int lo, int hi) { copies += hi - lo + 1; });
      }
    }
    if (size_ + copies > options_.budget) {
      over_budget_ = true;
      return Leaf(rules);
    }
    std::vector<std::vector<int32_t>> lists(n);
    for (int32_t r : rules) {
      const Pred* p = infos_[r].On(key);
      auto add = [&](int lo, int hi) {
        for (int c = lo; c <= hi; ++c) {
          if (!layout.cells[c].empty) lists[c].push_back(r);
        }
      };
      if (p == nullptr) {
        add(0, static_cast<int>(n) - 1);
      } else {
        TrueRanges(*p, layout, add);
      }
    }
    resolved_[key] = 1;
    std::vector<int32_t> children(n, -1);
    for (size_t c = 0; c < n; ++c) {
      if (layout.cells[c].empty) continue;
      path_.push_back({key, layout.cells[c]});
      children[c] = Build(std::move(lists[c]));
      path_.pop_back();
    }
    resolved_[key] = 0;
    int32_t any = -1;
    bool same = true;
    for (int32_t child : children) {
      if (child < 0) continue;
      if (any >= 0 && child != any) same = false;
      if (any < 0) any = child;
    }
    if (same) return any;
    for (int32_t& child : children) {
      if (child < 0) child = any;
    }
    return Inner(layout, key, std::move(children));
  }

  template <typename T>
  static void Thresholds(const Layout& layout, std::vector<T>* out) {
    for (const Value& t : layout.thresholds) out->push_back(std::get<T>(t));
  }

  int32_t Intern(int slot, const std::string& s) {
    auto& ids = p_->interned[slot];
    return ids.emplace(s, static_cast<int32_t>(ids.size())).first->second;
  }

  int32_t Inner(const Layout& layout, int key, std::vector<int32_t> children) {
    runtime::TreeNode node;
    node.key = keys_[key].key;
    switch (layout.domain) {
      case Domain::kString: {
        std::vector<std::pair<int32_t, int32_t>> arms;
        int32_t max_id = -1;
        for (size_t i = 0; i < layout.strings.size(); ++i) {
          const int32_t id = Intern(node.key.slot, layout.strings[i]);
          max_id = std::max(max_id, id);
          if (children[i + 2] != children[1])
            arms.push_back({id, children[i + 2]});
        }
        const size_t dense = static_cast<size_t>(max_id) + 3;
        if (dense <= 4 * arms.size() + 64) {
          node.kind = runtime::NodeKind::kStringIds;
          node.children.assign(dense, children[1]);
          node.children[0] = children[0];
          for (const auto& [id, child] : arms) node.children[id + 2] = child;
        } else {
          node.kind = runtime::NodeKind::kStringMap;
          node.children = {children[0], children[1]};
          for (const auto& [id, child] : arms) node.sparse[id] = child;
        }
        break;
      }
      case Domain::kBool:
        node.kind = runtime::NodeKind::kBool;
        node.children = std::move(children);
        break;
      case Domain::kInt:
        node.kind = runtime::NodeKind::kInts;
        Thresholds(layout, &node.ints);
        node.children = std::move(children);
        break;
      case Domain::kNumber:
        node.kind = runtime::NodeKind::kNumbers;
        Thresholds(layout, &node.numbers);
        node.children = std::move(children);
        break;
      case Domain::kTime:
        node.kind = runtime::NodeKind::kTimes;
        Thresholds(layout, &node.times);
        node.children = std::move(children);
        break;
      case Domain::kNone:
        break;
    }
    std::string sig = absl::StrCat(static_cast<int>(node.kind), ":", key, ":",
                                   absl::StrJoin(node.children, ","), ":");
    std::vector<std::pair<int32_t, int32_t>> sparse(node.sparse.begin(),
                                                    node.sparse.end());
    std::sort(sparse.begin(), sparse.end());
    for (const auto& [id, child] : sparse)
      absl::StrAppend(&sig, id, "=", child, ",");
    for (const Value& t : layout.thresholds)
      absl::StrAppend(&sig, runtime::DebugString(t), ";");
    size_ += static_cast<int64_t>(node.children.size() + node.sparse.size() +
                                  node.ints.size() + node.numbers.size() +
                                  node.times.size());
    return Store(std::move(sig), std::move(node));
  }

  int32_t Leaf(const std::vector<int32_t>& rules) {
    runtime::TreeNode node;
    node.kind = runtime::NodeKind::kLeaf;
    std::string sig = "leaf:";
    std::vector<runtime::LeafEntry> entries;
    std::vector<const Cond*> conds;
    for (int32_t r : rules) {
      runtime::LeafEntry e;
      e.rule = r;
      e.first_cond = static_cast<int32_t>(conds.size());
      for (const Pred& p : infos_[r].preds) {
        if (!resolved_[p.key])
          conds.insert(conds.end(), p.conds.begin(), p.conds.end());
      }
      conds.insert(conds.end(), infos_[r].residual.begin(),
                   infos_[r].residual.end());
      e.cond_count = static_cast<int32_t>(conds.size()) - e.first_cond;
      absl::StrAppend(&sig, r, "/", e.cond_count, ",");
      for (int32_t k = e.first_cond; k < e.first_cond + e.cond_count; ++k) {
        absl::StrAppend(&sig, reinterpret_cast<uintptr_t>(conds[k]), ",");
      }
      entries.push_back(e);
      reached_[r] = true;
    }
    if (!additive_ && (rules.empty() || !Terminal(rules.back())) &&
        !fall_through_) {
      fall_through_ = true;
      TreeFinding f;
      f.kind = TreeFinding::Kind::kFallThrough;
      f.stage = stage_;
      f.example = Example({});
      std::vector<std::string> texts;
      for (const Cond* c : conds) {
        if (texts.size() < 3) texts.push_back(absl::StrCat("`", c->text, "`"));
      }
      f.detail = absl::StrJoin(texts, ", ");
      findings_->push_back(std::move(f));
    }
    auto it = unique_.find(sig);
    if (it != unique_.end()) return it->second;
    node.first = static_cast<int32_t>(tree_.entries.size());
    node.count = static_cast<int32_t>(entries.size());
    for (runtime::LeafEntry& e : entries) {
      e.first_cond += static_cast<int32_t>(tree_.conds.size());
      tree_.entries.push_back(e);
    }
    tree_.conds.insert(tree_.conds.end(), conds.begin(), conds.end());
    size_ += static_cast<int64_t>(entries.size() + conds.size()) + 1;
    return Store(std::move(sig), std::move(node));
  }

  int32_t Store(std::string sig, runtime::TreeNode node) {
    auto [it, inserted] = unique_.emplace(
        std::move(sig), static_cast<int32_t>(tree_.nodes.size()));
    if (inserted) tree_.nodes.push_back(std::move(node));
    return it->second;
  }

  // --- What the construction reveals -------------------------------------

  // `t` takes every lead at this node, so `b` after it never decides here.
  void Cut(int32_t t, int32_t b) {
    if (cutters_[b].size() < 16) cutters_[b].insert(t);
    if (!seen_pairs_.insert({t, b}).second) return;
    if (overlaps_ >= 1000 || SameOutput(rules_[t], rules_[b])) return;
    const RuleInfo& tb = infos_[b];
    if (!tb.residual.empty()) return;  // can't tell where `b` matches
    if (Contains(t, b) || Contains(b, t)) return;
    // An example lead matching both: this node's path, then a value `b`
    // accepts for each key it tests that the path did not decide.
    std::vector<std::pair<int, Cell>> extra;
    for (const Pred& p : tb.preds) {
      if (resolved_[p.key]) continue;
      std::optional<Cell> cell;
      for (size_t c = 0; c < p.layout.cells.size() && !cell; ++c) {
        if (p.truth[c]) cell = p.layout.cells[c];
      }
      if (!cell) return;  // `b` matches nothing
      extra.push_back({p.key, *cell});
    }
    ++overlaps_;
    TreeFinding f;
    f.kind = TreeFinding::Kind::kOverlap;
    f.stage = stage_;
    f.rule = b;
    f.others = {t};
    f.example = Example(extra);
    findings_->push_back(std::move(f));
  }

  // Every lead `inner` matches, `outer` matches too (as far as the
  // indexable conditions tell; any other condition answers no).
  bool Contains(int32_t outer, int32_t inner) const {
    const RuleInfo& o = infos_[outer];
    const RuleInfo& i = infos_[inner];
    if (!o.residual.empty() || !i.residual.empty()) return false;
    for (const Pred& op : o.preds) {
      const Pred* ip = i.On(op.key);
      std::vector<Value> constants;
      for (const Cond* c : op.conds) Constants(*c, &constants);
      if (ip != nullptr) {
        for (const Cond* c : ip->conds) Constants(*c, &constants);
      }
      const Layout l = MakeLayout(keys_[op.key], std::move(constants));
      for (const Cell& cell : l.cells) {
        if (cell.empty) continue;
        if ((ip == nullptr || ip->At(cell.rep)) && !op.At(cell.rep))
          return false;
      }
    }
    return true;
  }

  static bool SameOutput(const Rule& a, const Rule& b) {
    if (a.owners.size() != b.owners.size()) return false;
    for (size_t i = 0; i < a.owners.size(); ++i) {
      const runtime::Owner &x = a.owners[i], &y = b.owners[i];
      if (x.kind != y.kind || x.name != y.name ||
          x.kind == runtime::Owner::Kind::kLookup)
        return false;
    }
    return a.label == b.label && a.sla == b.sla && a.channel == b.channel &&
           a.points == b.points && a.escalation == b.escalation;
  }

  std::string Render(int key, const Cell& cell) const {
    const KeyInfo& k = keys_[key];
    if (!cell.rep) return absl::StrCat("no ", k.name);
    const Value& v = *cell.rep;
    std::string value;
    if (k.key.kind == TreeKey::Kind::kPriority && k.labels != nullptr) {
      value = (*k.labels)[std::get<int64_t>(v)];
    } else if (k.key.kind == TreeKey::Kind::kSla) {
      value = absl::FormatDuration(absl::Nanoseconds(std::get<int64_t>(v)));
    } else if (k.enum_values != nullptr) {
      value = std::get<std::string>(v);
    } else {
      value = runtime::DebugString(v);
    }
    return absl::StrCat(k.name, " = ", value);
  }

  // The path to this node, plus `extra`, as a lead: "country = "US", ...".
  std::string Example(const std::vector<std::pair<int, Cell>>& extra) const {
    std::vector<std::pair<int, Cell>> all = path_;
    all.insert(all.end(), extra.begin(), extra.end());
    std::sort(all.begin(), all.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> parts;
    for (const auto& [key, cell] : all) parts.push_back(Render(key, cell));
    if (parts.empty()) return "any lead";
    return absl::StrJoin(parts, ", ");
  }

  void Report() {
    for (size_t r = 0; r < rules_.size(); ++r) {
      if (reached_[r]) continue;
      TreeFinding f;
      f.stage = stage_;
      f.rule = static_cast<int>(r);
      // A contradiction first: then no ordering of the rules would help.
      for (const Pred& p : infos_[r].preds) {
        if (std::none_of(p.truth.begin(), p.truth.end(),
                         [](char t) { return t; })) {
          f.kind = TreeFinding::Kind::kNeverMatches;
          f.detail = keys_[p.key].name;
        }
      }
      if (f.detail.empty() && !cutters_[r].empty()) {
        f.kind = TreeFinding::Kind::kNeverFires;
        f.others.assign(cutters_[r].begin(), cutters_[r].end());
        std::sort(f.others.begin(), f.others.end());
      } else if (f.detail.empty()) {
        f.kind = TreeFinding::Kind::kNeverMatches;
      }
      findings_->push_back(std::move(f));
    }
    if (over_budget_) {
      TreeFinding f;
      f.kind = TreeFinding::Kind::kOverBudget;
      f.stage = stage_;
      f.detail = absl::StrCat(options_.budget);
      findings_->push_back(std::move(f));
    }
  }

  // --- Finishing ---------------------------------------------------------

  // Numbers nodes in depth-first order from the root, so dumps read top
  // down.
  void Renumber(int32_t root) {
    std::vector<int32_t> order, id(tree_.nodes.size(), -1);
    std::vector<int32_t> stack = {root};
    while (!stack.empty()) {
      const int32_t n = stack.back();
      stack.pop_back();
      if (id[n] >= 0) continue;
      id[n] = static_cast<int32_t>(order.size());
      order.push_back(n);
      const runtime::TreeNode& node = tree_.nodes[n];
      std::vector<int32_t> next(node.children.rbegin(), node.children.rend());
      std::vector<std::pair<int32_t, int32_t>> sparse(node.sparse.begin(),
                                                      node.sparse.end());
      std::sort(sparse.rbegin(), sparse.rend());
      for (const auto& [sid, child] : sparse) next.push_back(child);
      for (int32_t c : next) {
        if (id[c] < 0) stack.push_back(c);
      }
    }
    std::vector<runtime::TreeNode> nodes;
    nodes.reserve(order.size());
    for (int32_t n : order) {
      runtime::TreeNode node = std::move(tree_.nodes[n]);
      for (int32_t& c : node.children) c = id[c];
      for (auto& [sid, child] : node.sparse) child = id[child];
      nodes.push_back(std::move(node));
    }
    tree_.nodes = std::move(nodes);
    tree_.root = 0;
  }

  void Stats() {
    runtime::TreeStats& s = tree_.stats;
    s.nodes = static_cast<int64_t>(tree_.nodes.size());
    s.over_budget = over_budget_;
    // The DAG is as deep as there are keys, so plain recursion is safe.
    std::vector<int64_t> tests(tree_.nodes.size(), -1);
    auto worst = [&](auto&& self, int32_t n) -> int64_t {
      if (tests[n] >= 0) return tests[n];
      const runtime::TreeNode& node = tree_.nodes[n];
      int64_t t = 0;
      if (node.kind == runtime::NodeKind::kLeaf) {
        for (int32_t e = node.first; e < node.first + node.count; ++e)
          t += tree_.entries[e].cond_count;
      } else {
        for (int32_t c : node.children) t = std::max(t, self(self, c));
        for (const auto& [sid, c] : node.sparse) t = std::max(t, self(self, c));
        ++t;
      }
      return tests[n] = t;
    };
    for (const runtime::TreeNode& node : tree_.nodes) {
      if (node.kind != runtime::NodeKind::kLeaf) continue;
      ++s.leaves;
      s.max_entries = std::max<int64_t>(s.max_entries, node.count);
    }
    tests[tree_.root] = worst(worst, tree_.root);
    s.max_tests = tests[tree_.root];
  }

  runtime::Program* p_;
  const int stage_;
  const std::vector<KeyInfo>& keys_;
  const TreeOptions& options_;
  std::vector<TreeFinding>* findings_;
  const std::vector<Rule>& rules_;
  runtime::DecisionTree& tree_;
  const bool additive_;

  std::vector<RuleInfo> infos_;
  runtime::BoundLead scratch_;  // Tabulate's lead, all values missing
  std::vector<char> resolved_;  // by key: decided on the path to this node
  std::vector<std::pair<int, Cell>> path_;
  absl::flat_hash_map<std::string, int32_t> memo_;    // (keys, rules) -> node
  absl::flat_hash_map<std::string, int32_t> unique_;  // node content -> node
  int64_t size_ = 0;
  bool over_budget_ = false;
  bool fall_through_ = false;
  std::vector<bool> reached_;
  std::vector<absl::flat_hash_set<int32_t>> cutters_;
  absl::flat_hash_set<std::pair<int32_t, int32_t>> seen_pairs_;
  int overlaps_ = 0;
};

Domain DomainOf(const runtime::Attribute& a) {
  switch (a.type) {
    case ValueType::kString:
      return Domain::kString;
    case ValueType::kInt:
      return Domain::kInt;
    case ValueType::kNumber:
      return Domain::kNumber;
    case ValueType::kTime:
      return Domain::kTime;
    case ValueType::kBool:
      return Domain::kBool;
    case ValueType::kStringList:
      return Domain::kNone;
  }
  return Domain::kNone;
}

// A stage whose last rule is an `otherwise` always sets its output.
bool AlwaysSet(const runtime::Program& p, StageId stage) {
  const std::vector<Rule>& rules = p.stages[static_cast<int>(stage)];
  return !rules.empty() && rules.back().when == nullptr;
}

}  // namespace

std::vector<TreeFinding> LowerToTrees(runtime::Program* program,
                                      const TreeOptions& options) {
  std::vector<KeyInfo> keys;
  for (size_t slot = 0; slot < program->attributes.size(); ++slot) {
    const runtime::Attribute& a = program->attributes[slot];
    KeyInfo k;
    k.key = {TreeKey::Kind::kSlot, static_cast<int32_t>(slot)};
    k.domain = DomainOf(a);
    k.name = a.name;
    k.can_be_missing = !a.required && !a.default_value.has_value();
    if (a.is_enum) k.enum_values = &a.enum_values;
    keys.push_back(std::move(k));
  }
  KeyInfo score;
  score.key.kind = TreeKey::Kind::kScore;
  score.domain = Domain::kInt;
  score.name = "score";
  score.can_be_missing = false;
  keys.push_back(score);
  KeyInfo priority;
  priority.key.kind = TreeKey::Kind::kPriority;
  priority.domain = Domain::kInt;
  priority.name = "priority";
  priority.can_be_missing = !AlwaysSet(*program, StageId::kPriority);
  priority.lo = 0;
  priority.hi = static_cast<int64_t>(program->labels.size()) - 1;
  priority.labels = &program->labels;
  keys.push_back(priority);
  KeyInfo sla;
  sla.key.kind = TreeKey::Kind::kSla;
  sla.domain = Domain::kInt;
  sla.name = "sla";
  sla.can_be_missing = !AlwaysSet(*program, StageId::kSla);
  sla.lo = 1;
  keys.push_back(sla);

  program->interned.assign(program->attributes.size(), {});
  std::vector<TreeFinding> findings;
  for (int s = 0; s < runtime::kStageCount; ++s) {
    StageBuilder(program, s, keys, options, &findings).Run();
  }
  return findings;
}

}  // namespace leadroute::compiler
