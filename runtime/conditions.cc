// The meaning of a condition; see conditions.h.
#include "runtime/conditions.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace leadroute::runtime {
namespace {

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

}  // namespace

std::optional<std::string> DomainOf(absl::string_view text) {
  const size_t at = text.rfind('@');
  if (at == absl::string_view::npos || at + 1 == text.size()) {
    return std::nullopt;
  }
  return absl::AsciiStrToLower(text.substr(at + 1));
}

std::optional<Value> Eval(const Operand& o, const EvalContext& c) {
  switch (o.kind) {
    case Operand::Kind::kSlot:
      return c.lead.values[o.slot];
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
      const std::string& s = std::get<std::string>(*arg);
      if (o.kind == Operand::Kind::kDomain) {
        std::optional<std::string> domain = DomainOf(s);
        if (!domain) return std::nullopt;
        return Value(*std::move(domain));
      }
      return Value(absl::AsciiStrToLower(s));
    }
    case Operand::Kind::kLookup: {
      std::optional<Value> key = Eval(*o.arg, c);
      if (!key) return std::nullopt;
      const Value* value = c.program.tables[o.table].Find(*key);
      if (value == nullptr) return std::nullopt;
      return *value;
    }
  }
  return std::nullopt;
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

bool Test(const Cond& cond, const EvalContext& c) {
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
      return c.lead.values[cond.lhs.slot].has_value();
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
      bool found = c.program.tables[cond.table].Find(*lhs) != nullptr;
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

void Decisive(const Cond& cond, const EvalContext& c,
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

namespace {

// The values `cond` read, each once: `country is "DE"`, `email has no value`.
void ValuesRead(const Cond& cond, const EvalContext& c,
                std::vector<std::string>* out) {
  if (cond.kind == Cond::Kind::kAnd || cond.kind == Cond::Kind::kOr ||
      cond.kind == Cond::Kind::kNot) {
    for (const auto& child : cond.children) ValuesRead(*child, c, out);
    return;
  }
  std::optional<Value> lhs = Eval(cond.lhs, c);
  std::string note =
      !lhs ? absl::StrCat(cond.lhs_text, " has no value")
           : absl::StrCat(cond.lhs_text, " is ", DebugString(*lhs));
  if (std::find(out->begin(), out->end(), note) == out->end()) {
    out->push_back(std::move(note));
  }
}

}  // namespace

std::pair<std::string, std::string> FirstFailure(const Cond& cond,
                                                 const EvalContext& c) {
  if (cond.kind == Cond::Kind::kAnd) {
    for (const auto& child : cond.children) {
      if (!Test(*child, c)) return FirstFailure(*child, c);
    }
  }
  // An `or` (every branch false) or a `not`: every value it read.
  std::vector<std::string> values;
  ValuesRead(cond, c, &values);
  std::string reason = absl::StrCat(cond.text, " is false");
  if (!values.empty()) {
    absl::StrAppend(&reason, ": ", absl::StrJoin(values, ", "));
  }
  return {cond.text, reason};
}

bool Matches(const Rule& r, const EvalContext& c) {
  return r.when == nullptr || Test(*r.when, c);
}

bool ChooseOwner(const Rule& r, const EvalContext& c, Decision* d) {
  d->candidates.clear();
  for (const Owner& o : r.owners) {
    Candidate next;
    switch (o.kind) {
      case Owner::Kind::kRep:
        next = {OwnerKind::kRep, o.name, o.target, {}};
        break;
      case Owner::Kind::kTeam:
        next = {OwnerKind::kTeam, o.name, o.target, {}};
        for (const MemberTest& m : o.where) {
          MemberCheck check{m.property, m.op, m.level, std::nullopt, m.text};
          if (m.property != MemberProperty::kSeniority) {
            std::optional<Value> v = Eval(m.value, c);
            if (const auto* text =
                    v ? std::get_if<std::string>(&*v) : nullptr) {
              check.value = *text;
            }
          }
          next.where.push_back(std::move(check));
        }
        break;
      case Owner::Kind::kQueue:
        next = {OwnerKind::kQueue, o.name, -1, {}};
        break;
      case Owner::Kind::kLookup: {
        std::optional<Value> key = Eval(o.key, c);
        if (!key) continue;
        const Value* value = c.program.tables[o.table].Find(*key);
        if (value == nullptr) continue;
        const std::string& name = std::get<std::string>(*value);
        const auto& index =
            o.lookup_gives_team ? c.program.team_index : c.program.rep_index;
        auto found = index.find(name);
        next = {o.lookup_gives_team ? OwnerKind::kTeam : OwnerKind::kRep,
                name,
                found == index.end() ? -1 : found->second,
                {}};
        break;
      }
    }
    d->candidates.push_back(std::move(next));
  }
  if (d->candidates.empty()) return false;
  const Candidate& first = d->candidates.front();
  d->owner = first.name;
  d->owner_kind = first.kind;
  d->team = first.kind == OwnerKind::kTeam ? first.name : "";
  return true;
}

}  // namespace leadroute::runtime
