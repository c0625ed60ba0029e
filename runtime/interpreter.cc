// The reference evaluator; see interpreter.h.
#include "runtime/interpreter.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/lead_error.h"
#include "runtime/status_macros.h"

namespace leadroute::runtime {
namespace {

struct Context {
  const Program& program;
  const BoundLead& lead;
  absl::Time now;
  int64_t score = 0;
  std::optional<int64_t> priority;
  std::optional<absl::Duration> sla;
};

std::optional<Value> Eval(const Operand& o, const Context& c) {
  switch (o.kind) {
    case Operand::Kind::kSlot:
      return c.lead[o.slot];
    case Operand::Kind::kConstant:
      return o.constant;
    case Operand::Kind::kScore:
      return Value(c.score);
    case Operand::Kind::kPriority:
      if (!c.priority) return std::nullopt;
      return Value(*c.priority);
    case Operand::Kind::kSla:
      if (!c.sla) return std::nullopt;
      return Value(absl::ToInt64Nanoseconds(*c.sla));
    case Operand::Kind::kDomain:
    case Operand::Kind::kLower: {
      std::optional<Value> arg = Eval(*o.arg, c);
      if (!arg || TypeOf(*arg) != ValueType::kString) return std::nullopt;
      std::string s = std::get<std::string>(*arg);
      if (o.kind == Operand::Kind::kDomain) {
        size_t at = s.rfind('@');
        if (at == std::string::npos || at + 1 == s.size()) return std::nullopt;
        s = s.substr(at + 1);
      }
      return Value(absl::AsciiStrToLower(s));
    }
    case Operand::Kind::kLookup: {
      std::optional<Value> key = Eval(*o.arg, c);
      if (!key) return std::nullopt;
      const Table& t = c.program.tables[o.table];
      auto it = t.rows.find(KeyText(*key));
      if (it == t.rows.end()) return std::nullopt;
      return it->second;
    }
  }
  return std::nullopt;
}

bool IsNumber(const Value& v) {
  return TypeOf(v) == ValueType::kInt || TypeOf(v) == ValueType::kNumber;
}
double AsDouble(const Value& v) {
  return TypeOf(v) == ValueType::kInt
             ? static_cast<double>(std::get<int64_t>(v))
             : std::get<double>(v);
}

// -1, 0, 1; nullopt when the two values have no order between them.
std::optional<int> Order(const Value& a, const Value& b) {
  if (TypeOf(a) == ValueType::kInt && TypeOf(b) == ValueType::kInt) {
    int64_t x = std::get<int64_t>(a), y = std::get<int64_t>(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (IsNumber(a) && IsNumber(b)) {
    double x = AsDouble(a), y = AsDouble(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (TypeOf(a) != TypeOf(b)) return std::nullopt;
  switch (TypeOf(a)) {
    case ValueType::kString: {
      int r = std::get<std::string>(a).compare(std::get<std::string>(b));
      return r < 0 ? -1 : r > 0 ? 1 : 0;
    }
    case ValueType::kTime: {
      absl::Time x = std::get<absl::Time>(a), y = std::get<absl::Time>(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case ValueType::kBool:
      return static_cast<int>(std::get<bool>(a)) -
             static_cast<int>(std::get<bool>(b));
    default:
      return std::nullopt;
  }
}

bool Equal(const Value& a, const Value& b) {
  std::optional<int> o = Order(a, b);
  return o.has_value() && *o == 0;
}

bool Compare(const Value& a, CompareOp op, const Value& b) {
  switch (op) {
    case CompareOp::kEq:
      return Equal(a, b);
    case CompareOp::kNe:
      return !Equal(a, b);
    case CompareOp::kStartsWith:
    case CompareOp::kEndsWith:
    case CompareOp::kContains: {
      if (TypeOf(b) != ValueType::kString) return false;
      const std::string& needle = std::get<std::string>(b);
      if (TypeOf(a) == ValueType::kStringList) {
        if (op != CompareOp::kContains) return false;
        for (const std::string& item : std::get<std::vector<std::string>>(a)) {
          if (item == needle) return true;
        }
        return false;
      }
      if (TypeOf(a) != ValueType::kString) return false;
      const std::string& s = std::get<std::string>(a);
      if (op == CompareOp::kStartsWith) return absl::StartsWith(s, needle);
      if (op == CompareOp::kEndsWith) return absl::EndsWith(s, needle);
      return absl::StrContains(s, needle);
    }
    default: {
      std::optional<int> o = Order(a, b);
      if (!o) return false;
      switch (op) {
        case CompareOp::kLt:
          return *o < 0;
        case CompareOp::kLe:
          return *o <= 0;
        case CompareOp::kGt:
          return *o > 0;
        case CompareOp::kGe:
          return *o >= 0;
        default:
          return false;
      }
    }
  }
}

bool Test(const Cond& cond, const Context& c) {
  switch (cond.kind) {
    case Cond::Kind::kAnd:
      for (const auto& child : cond.children) {
        if (!Test(*child, c)) return false;
      }
      return true;
    case Cond::Kind::kOr:
      for (const auto& child : cond.children) {
        if (Test(*child, c)) return true;
      }
      return false;
    case Cond::Kind::kNot:
      return !Test(*cond.children[0], c);
    case Cond::Kind::kHas:
      return c.lead[cond.lhs.slot].has_value();
    default:
      break;
  }
  std::optional<Value> lhs = Eval(cond.lhs, c);
  if (!lhs) return false;
  switch (cond.kind) {
    case Cond::Kind::kCompare: {
      std::optional<Value> rhs = Eval(cond.rhs, c);
      return rhs && Compare(*lhs, cond.op, *rhs);
    }
    case Cond::Kind::kInSet: {
      bool found = false;
      for (const Value& v : cond.set) found = found || Equal(*lhs, v);
      return found != cond.negated;
    }
    case Cond::Kind::kInTable: {
      bool found = c.program.tables[cond.table].rows.contains(KeyText(*lhs));
      return found != cond.negated;
    }
    case Cond::Kind::kBetween: {
      std::optional<Value> lo = Eval(cond.rhs, c);
      std::optional<Value> hi = Eval(cond.rhs2, c);
      return lo && hi && Compare(*lhs, CompareOp::kGe, *lo) &&
             Compare(*lhs, CompareOp::kLe, *hi);
    }
    case Cond::Kind::kWithin:
      return TypeOf(*lhs) == ValueType::kTime &&
             std::get<absl::Time>(*lhs) >= c.now - cond.within;
    case Cond::Kind::kTruthy:
      return TypeOf(*lhs) == ValueType::kBool && std::get<bool>(*lhs);
    default:
      return false;
  }
}

// The conditions that made `cond` true, as written: every part of an
// `and`, the first true part of an `or`, a leaf itself.
void Decisive(const Cond& cond, const Context& c,
              std::vector<std::string>* out) {
  switch (cond.kind) {
    case Cond::Kind::kAnd:
      for (const auto& child : cond.children) Decisive(*child, c, out);
      return;
    case Cond::Kind::kOr:
      for (const auto& child : cond.children) {
        if (Test(*child, c)) {
          Decisive(*child, c, out);
          return;
        }
      }
      return;
    default:
      out->push_back(cond.text);
  }
}

// The first part of `cond` that is false, and why. Requires !Test(cond).
std::pair<std::string, std::string> FirstFailure(const Cond& cond,
                                                 const Context& c) {
  if (cond.kind == Cond::Kind::kAnd) {
    for (const auto& child : cond.children) {
      if (!Test(*child, c)) return FirstFailure(*child, c);
    }
  }
  std::string reason = absl::StrCat(cond.text, " is false");
  if (cond.kind != Cond::Kind::kAnd && cond.kind != Cond::Kind::kOr &&
      cond.kind != Cond::Kind::kNot) {
    std::optional<Value> lhs = Eval(cond.lhs, c);
    if (cond.kind == Cond::Kind::kHas || !lhs) {
      absl::StrAppend(&reason, ": ", cond.lhs_text, " has no value");
    } else {
      absl::StrAppend(&reason, ": ", cond.lhs_text, " is ", DebugString(*lhs));
    }
  }
  return {cond.text, reason};
}

bool Matches(const Rule& r, const Context& c) {
  return r.when == nullptr || Test(*r.when, c);
}

RuleRef Ref(StageId stage, const Rule& r) {
  return {StageIdName(stage), r.name, r.location};
}

// The owner a rule's outcome gives, trying fallbacks in order.
bool ChooseOwner(const Rule& r, const Context& c, Decision* d) {
  for (const Owner& o : r.owners) {
    switch (o.kind) {
      case Owner::Kind::kRep:
        d->owner = o.name;
        d->owner_kind = OwnerKind::kRep;
        return true;
      case Owner::Kind::kTeam:
        d->owner = d->team = o.name;
        d->owner_kind = OwnerKind::kTeam;
        return true;
      case Owner::Kind::kQueue:
        d->owner = o.name;
        d->owner_kind = OwnerKind::kQueue;
        return true;
      case Owner::Kind::kLookup: {
        std::optional<Value> key = Eval(o.key, c);
        if (!key) break;
        const Table& t = c.program.tables[o.table];
        auto it = t.rows.find(KeyText(*key));
        if (it == t.rows.end()) break;
        d->owner = std::get<std::string>(it->second);
        d->owner_kind =
            o.lookup_gives_team ? OwnerKind::kTeam : OwnerKind::kRep;
        if (o.lookup_gives_team) d->team = d->owner;
        return true;
      }
    }
  }
  return false;
}

// Why rule `name` (or "stage/name") did not decide. Outputs of earlier
// stages are taken from the finished decision, as the rule saw them.
Alternative WhyNot(const std::string& name, const Context& c,
                   const Decision& d) {
  std::string stage_name, rule_name = name;
  if (size_t slash = name.find('/'); slash != std::string::npos) {
    stage_name = name.substr(0, slash);
    rule_name = name.substr(slash + 1);
  }
  for (int s = 0; s < kStageCount; ++s) {
    const StageId stage = static_cast<StageId>(s);
    if (!stage_name.empty() && stage_name != StageIdName(stage)) continue;
    for (const Rule& r : c.program.stages[s]) {
      if (r.name != rule_name) continue;
      Alternative a{Ref(stage, r), "", ""};
      if (!Matches(r, c)) {
        std::tie(a.failed_condition, a.reason) = FirstFailure(*r.when, c);
        return a;
      }
      Decision scratch;
      if (stage == StageId::kAssign && !ChooseOwner(r, c, &scratch)) {
        a.reason = "it matched, but none of its owners could be looked up";
        return a;
      }
      std::string winner;
      for (const RuleRef& ref : d.decided_by) {
        if (ref.stage == StageIdName(stage)) winner = ref.rule;
      }
      a.reason = stage == StageId::kScore ? "it matched and added its points"
                 : winner == r.name       ? "it is the rule that decided"
                                    : absl::StrCat("it matched, but `", winner,
                                                   "` comes first and decided");
      return a;
    }
  }
  return {{stage_name, rule_name, ""},
          "",
          absl::StrCat("no rule named `", name, "`")};
}

}  // namespace

absl::StatusOr<BoundLead> Interpreter::Bind(const Lead& lead) const {
  if (lead.id.empty()) return InvalidLeadField("id", "must not be empty");
  const Program& p = *program_;
  BoundLead bound(p.attributes.size());
  for (const auto& [name, value] : lead.attributes) {
    auto slot = p.slots.find(name);
    if (slot == p.slots.end()) continue;  // not read by these rules
    const Attribute& a = p.attributes[slot->second];
    const std::string field = absl::StrCat("attributes.", name);
    Value v = value;
    if (a.type == ValueType::kNumber && TypeOf(v) == ValueType::kInt) {
      v = static_cast<double>(std::get<int64_t>(v));
    }
    if (TypeOf(v) != a.type) {
      return InvalidLeadField(
          field, absl::StrCat("expected ",
                              a.is_enum ? "enum (string)" : TypeName(a.type),
                              ", got ", TypeName(TypeOf(value))));
    }
    if (a.is_enum) {
      const std::string& s = std::get<std::string>(v);
      if (std::find(a.enum_values.begin(), a.enum_values.end(), s) ==
          a.enum_values.end()) {
        return InvalidLeadField(
            field, absl::StrCat("\"", s, "\" is not one of the enum's values"));
      }
    }
    bound[slot->second] = std::move(v);
  }
  for (size_t i = 0; i < bound.size(); ++i) {
    if (bound[i]) continue;
    const Attribute& a = p.attributes[i];
    if (a.required) {
      return InvalidLeadField(absl::StrCat("attributes.", a.name), "required");
    }
    bound[i] = a.default_value;
  }
  return bound;
}

absl::StatusOr<Decision> Interpreter::Decide(
    const Lead& lead, const DecideOptions& options) const {
  ASSIGN_OR_RETURN(const BoundLead bound, Bind(lead));
  const Program& p = *program_;
  Context c{p, bound, options.received_at, 0, std::nullopt, std::nullopt};
  Decision d;
  d.lead_id = lead.id;
  d.ruleset_name = p.name;
  d.ruleset_version = p.version;
  d.respond_by = options.received_at;

  if (options.explain) d.explanation.emplace();
  // Records the rule that decided `stage`, with its reasons when asked.
  auto decided = [&](StageId stage, const Rule& r) {
    d.decided_by.push_back(Ref(stage, r));
    if (!d.explanation) return;
    StageExplanation e{StageIdName(stage), Ref(stage, r), {}};
    if (r.when) Decisive(*r.when, c, &e.conditions);
    d.explanation->stages.push_back(std::move(e));
  };
  for (const Rule& r : p.stages[static_cast<int>(StageId::kScore)]) {
    if (Matches(r, c)) {
      c.score += r.points;
      decided(StageId::kScore, r);
    }
  }
  d.score = c.score;
  for (const Rule& r : p.stages[static_cast<int>(StageId::kAssign)]) {
    if (Matches(r, c) && ChooseOwner(r, c, &d)) {
      decided(StageId::kAssign, r);
      break;
    }
  }
  for (const Rule& r : p.stages[static_cast<int>(StageId::kPriority)]) {
    if (Matches(r, c)) {
      c.priority = r.label;
      d.priority = {p.labels[r.label], r.label};
      decided(StageId::kPriority, r);
      break;
    }
  }
  for (const Rule& r : p.stages[static_cast<int>(StageId::kSla)]) {
    if (Matches(r, c)) {
      c.sla = r.sla;
      d.sla = r.sla;
      d.respond_by = options.received_at + r.sla;
      decided(StageId::kSla, r);
      break;
    }
  }
  for (const Rule& r : p.stages[static_cast<int>(StageId::kChannel)]) {
    if (Matches(r, c)) {
      d.channel = r.channel;
      decided(StageId::kChannel, r);
      break;
    }
  }
  if (d.explanation) {
    for (const std::string& name : options.why_not) {
      d.explanation->alternatives.push_back(WhyNot(name, c, d));
    }
  }
  return d;
}

}  // namespace leadroute::runtime
