// The lowering pass; see lower_program.h. Names are bound here once: each
// attribute to a slot, each table to an index, each label to its rank.
#include "compiler/lower_program.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "compiler/passes.h"

namespace leadroute::compiler {
namespace {

using runtime::Value;
using runtime::ValueType;

runtime::ValueType RuntimeType(ast::Type t) {
  switch (t) {
    case ast::Type::kInt:
      return ValueType::kInt;
    case ast::Type::kNumber:
      return ValueType::kNumber;
    case ast::Type::kBool:
      return ValueType::kBool;
    case ast::Type::kTime:
      return ValueType::kTime;
    case ast::Type::kList:
      return ValueType::kStringList;
    default:
      return ValueType::kString;  // string, enum, rep, team
  }
}

// A literal as a value of `type` (the checker has made sure it fits).
Value ValueOf(const ast::Literal& l, ValueType type) {
  switch (l.kind) {
    case ast::Literal::Kind::kInt:
      if (type == ValueType::kNumber)
        return Value(static_cast<double>(l.int_value));
      return Value(l.int_value);
    case ast::Literal::Kind::kNumber:
      return Value(l.number_value);
    case ast::Literal::Kind::kBool:
      return Value(l.bool_value);
    case ast::Literal::Kind::kDuration:
      return Value(absl::ToInt64Nanoseconds(l.duration));
    case ast::Literal::Kind::kList: {
      std::vector<std::string> items;
      for (const ast::Literal& i : l.items) items.push_back(i.text);
      return Value(std::move(items));
    }
    case ast::Literal::Kind::kString:
      if (type == ValueType::kTime) {
        absl::Time t;
        std::string err;
        if (absl::ParseTime(absl::RFC3339_full, l.text, &t, &err))
          return Value(t);
      }
      return Value(l.text);
    case ast::Literal::Kind::kName:
      return Value(l.text);
  }
  return Value(l.text);
}

// "file:line" of `span`, as decisions and test reports name places.
std::string LocationOf(const SourceSet& sources, const Span& span) {
  LineCol at = sources.Position(span);
  return absl::StrCat(
      std::filesystem::path(sources.file(span.file).path()).filename().string(),
      ":", at.line);
}

class Lowerer {
 public:
  Lowerer(const Module& m, runtime::Program* p) : m_(m), p_(p) {}

  void Run() {
    p_->name = m_.header->name.text;
    p_->version = m_.header->version.text;
    for (const ast::Property& s : m_.header->properties) {
      if (s.name.text == "removed_reps") {
        p_->removed_reps =
            runtime::ParseRemovedReps(std::get<ast::Literal>(s.value).text);
      }
    }
    m_.ForEach<ast::Schema>([&](const ast::Schema& s) {
      for (const ast::AttrDecl& a : s.attributes) Attribute(a);
    });
    m_.ForEach<ast::Table>([&](const ast::Table& t) { Table(t); });
    // Reps first: teams refer to them by index.
    m_.ForEach<ast::Entity>([&](const ast::Entity& e) {
      if (e.kind == ast::Entity::Kind::kRep) Rep(e);
    });
    m_.ForEach<ast::Entity>([&](const ast::Entity& e) {
      if (e.kind == ast::Entity::Kind::kTeam) Team(e);
      if (e.kind == ast::Entity::Kind::kQueue &&
          std::find(p_->queues.begin(), p_->queues.end(), e.name.text) ==
              p_->queues.end()) {
        p_->queues.push_back(e.name.text);
      }
    });
    if (auto it = m_.stages.find(ast::StageKind::kPriority);
        it != m_.stages.end()) {
      for (const ast::Name& l : it->second->labels)
        p_->labels.push_back(l.text);
    }
    // After teams and reps, which their steps name; before the stages,
    // whose escalate rules name them.
    m_.ForEach<ast::Escalation>(
        [&](const ast::Escalation& e) { Escalation(e); });
    for (const auto& [kind, stage] : m_.stages) Stage(*stage);
  }

  int LabelRank(absl::string_view label) const {
    for (size_t i = 0; i < p_->labels.size(); ++i) {
      if (p_->labels[i] == label) return static_cast<int>(i);
    }
    return 0;
  }

 private:
  void Attribute(const ast::AttrDecl& a) {
    runtime::Attribute out;
    out.name = a.name.text;
    out.type = RuntimeType(a.type);
    out.is_enum = a.type == ast::Type::kEnum;
    for (const ast::Name& v : a.enum_values) out.enum_values.push_back(v.text);
    if (a.on_unknown) out.on_unknown = a.on_unknown->text;
    out.required = a.required;
    out.pii = a.pii;
    if (a.default_value)
      out.default_value = ValueOf(*a.default_value, out.type);
    const int slot = static_cast<int>(p_->attributes.size());
    p_->slots[out.name] = slot;
    if (out.type == runtime::ValueType::kString) {
      if (out.name == "email") p_->email_slot = slot;
      if (out.name == "source") p_->source_slot = slot;
    }
    p_->attributes.push_back(std::move(out));
  }

  // A file included twice is read once, so each name is declared once;
  // the guards below only keep lowering safe.
  void Rep(const ast::Entity& e) {
    if (p_->rep_index.contains(e.name.text)) return;
    runtime::Rep r;
    r.id = e.name.text;
    for (const ast::Property& prop : e.properties) {
      const std::string& name = prop.name.text;
      if (const auto* spans =
              std::get_if<std::vector<ast::HoursSpan>>(&prop.value)) {
        for (const ast::HoursSpan& h : *spans) {
          // A range may wrap past Sunday: sun-thu is sun, mon, ... thu.
          const int days = (h.last_day - h.first_day + 7) % 7 + 1;
          for (int i = 0; i < days; ++i) {
            const int day = (h.first_day + i) % 7;
            r.hours.emplace_back(day * 24 * 60 + h.start_minute,
                                 day * 24 * 60 + h.end_minute);
          }
        }
        std::sort(r.hours.begin(), r.hours.end());
        continue;
      }
      const ast::Literal& lit = std::get<ast::Literal>(prop.value);
      if (name == "name") r.display_name = lit.text;
      if (name == "email") r.email = lit.text;
      if (name == "timezone") absl::LoadTimeZone(lit.text, &r.timezone);
      if (name == "capacity") r.capacity = lit.int_value;
      if (name == "daily_cap") r.daily_cap = lit.int_value;
      if (name == "weekly_cap") r.weekly_cap = lit.int_value;
      if (name == "weight") r.weight = lit.int_value;
      if (name == "seniority") {
        for (size_t i = 0; i < std::size(runtime::kSeniorities); ++i) {
          if (lit.text == runtime::kSeniorities[i]) r.seniority = i;
        }
      }
      if (name == "skills" || name == "languages" || name == "holidays") {
        for (const ast::Literal& item : lit.items) {
          if (name == "skills") r.skills.push_back(item.text);
          if (name == "languages") r.languages.push_back(item.text);
          if (name == "holidays") {
            if (auto days = runtime::ParseDayRange(item.text)) {
              r.holidays.push_back(*days);
            }
          }
        }
        std::sort(r.holidays.begin(), r.holidays.end());
      }
    }
    p_->rep_index[r.id] = static_cast<int>(p_->reps.size());
    p_->reps.push_back(std::move(r));
  }

  void Team(const ast::Entity& e) {
    if (p_->team_index.contains(e.name.text)) return;
    runtime::Team t;
    t.name = e.name.text;
    for (const ast::Property& prop : e.properties) {
      const auto* lit = std::get_if<ast::Literal>(&prop.value);
      if (lit == nullptr) continue;
      if (prop.name.text == "members") {
        for (const ast::Literal& item : lit->items) {
          auto rep = p_->rep_index.find(item.text);
          if (rep != p_->rep_index.end()) t.members.push_back(rep->second);
        }
      }
      if (prop.name.text == "manager") {
        auto rep = p_->rep_index.find(lit->text);
        if (rep != p_->rep_index.end()) t.manager = rep->second;
      }
      if (prop.name.text == "sticky") {
        t.sticky = runtime::Sticky{
            lit->kind == ast::Literal::Kind::kDuration ? lit->duration
                                                       : absl::ZeroDuration(),
            false, LocationOf(m_.sources, prop.name.span),
            absl::StrCat("sticky = ", lit->text)};
      }
      if (prop.name.text == "strategy") {
        if (lit->text == "weighted") t.strategy = runtime::Strategy::kWeighted;
        if (lit->text == "least_loaded") {
          t.strategy = runtime::Strategy::kLeastLoaded;
        }
      }
    }
    p_->team_index[t.name] = static_cast<int>(p_->teams.size());
    p_->teams.push_back(std::move(t));
  }

  void Escalation(const ast::Escalation& e) {
    if (p_->escalation_index.contains(e.name.text)) return;
    runtime::Escalation out;
    out.name = e.name.text;
    for (const ast::EscalationStep& step : e.steps) {
      runtime::EscalationStep s;
      s.percent = static_cast<int>(step.percent);
      s.text = absl::StrCat("at ", step.percent, "% ");
      if (!step.reassign) {
        s.action = runtime::EscalationStep::Action::kNotify;
        s.notify_manager =
            step.notify_whom && step.notify_whom->text == "manager";
        absl::StrAppend(&s.text, "notify", step.notify_whom ? " " : "",
                        step.notify_whom ? step.notify_whom->text : "");
      } else {
        s.action = runtime::EscalationStep::Action::kReassign;
        absl::StrAppend(&s.text, "reassign to ");
        for (size_t i = 0; i < step.to.size(); ++i) {
          const ast::Target& t = step.to[i];
          absl::StrAppend(&s.text, i > 0 ? " else " : "", t.text);
          using EK = runtime::EscalationTarget::Kind;
          runtime::EscalationTarget target;
          target.name = t.name.text;
          switch (t.kind) {
            case ast::Target::Kind::kRep:
              target.kind = EK::kRep;
              target.index = p_->rep_index.at(t.name.text);
              break;
            case ast::Target::Kind::kTeam:
              target.kind = EK::kTeam;
              target.index = p_->team_index.at(t.name.text);
              break;
            case ast::Target::Kind::kQueue:
              target.kind = EK::kQueue;
              break;
            default:
              target.kind =
                  t.name.text == "manager" ? EK::kManager : EK::kNextRep;
          }
          s.to.push_back(std::move(target));
        }
      }
      out.steps.push_back(std::move(s));
    }
    std::stable_sort(
        out.steps.begin(), out.steps.end(),
        [](const runtime::EscalationStep& a, const runtime::EscalationStep& b) {
          return a.percent < b.percent;
        });
    for (const ast::Property& prop : e.properties) {
      const auto* lit = std::get_if<ast::Literal>(&prop.value);
      if (lit == nullptr) continue;
      if (prop.name.text == "max_hops") {
        out.max_hops = static_cast<int>(lit->int_value);
      }
      if (prop.name.text == "clock") {
        out.business_hours = lit->text == "business_hours";
      }
    }
    p_->escalation_index[out.name] = static_cast<int>(p_->escalations.size());
    p_->escalations.push_back(std::move(out));
  }

  void Table(const ast::Table& t) {
    if (table_ids_.contains(t.name.text)) return;
    runtime::Table out;
    out.name = t.name.text;
    out.ignore_case = ast::KeysIgnoreCase(t);
    auto rows = m_.table_rows.find(t.name.text);
    if (rows != m_.table_rows.end()) {
      for (const auto& [key, value] : rows->second.rows) {
        out.rows.emplace(out.RowKey(ValueOf(key, RuntimeType(t.key_type))),
                         ValueOf(value, RuntimeType(t.value_type)));
      }
    }
    table_ids_[t.name.text] = static_cast<int>(p_->tables.size());
    p_->tables.push_back(std::move(out));
  }

  // The runtime type an operand evaluates to, for typing the other side.
  ValueType TypeOfOperand(const ast::Operand& o) const {
    if (o.kind == ast::Operand::Kind::kAttribute) {
      if (auto it = m_.attributes.find(o.name.text);
          it != m_.attributes.end()) {
        return RuntimeType(it->second->type);
      }
      return ValueType::kInt;  // score, priority rank, sla nanoseconds
    }
    if (o.kind == ast::Operand::Kind::kCall) {
      if (auto it = m_.tables.find(o.name.text); it != m_.tables.end()) {
        return RuntimeType(it->second->value_type);
      }
      return ValueType::kString;
    }
    return ValueType::kString;
  }

  bool IsPriority(const ast::Operand& o) const {
    return o.kind == ast::Operand::Kind::kAttribute &&
           o.name.text == "priority" && !m_.attributes.contains("priority");
  }

  // `expect` types literals; priority labels become ranks.
  runtime::Operand Operand(const ast::Operand& o, ValueType expect,
                           bool priority) {
    runtime::Operand out;
    switch (o.kind) {
      case ast::Operand::Kind::kLiteral:
        out.kind = runtime::Operand::Kind::kConstant;
        out.constant = priority && o.literal.kind == ast::Literal::Kind::kName
                           ? Value(int64_t{LabelRank(o.literal.text)})
                           : ValueOf(o.literal, expect);
        return out;
      case ast::Operand::Kind::kAttribute:
        if (auto it = p_->slots.find(o.name.text); it != p_->slots.end()) {
          out.kind = runtime::Operand::Kind::kSlot;
          out.slot = it->second;
        } else if (o.name.text == "score") {
          out.kind = runtime::Operand::Kind::kScore;
        } else if (o.name.text == "priority") {
          out.kind = runtime::Operand::Kind::kPriority;
        } else {
          out.kind = runtime::Operand::Kind::kSla;
        }
        return out;
      case ast::Operand::Kind::kCall:
        out.arg = std::make_unique<runtime::Operand>(
            Operand(o.args[0], ValueType::kString, false));
        if (o.name.text == "domain") {
          out.kind = runtime::Operand::Kind::kDomain;
        } else if (o.name.text == "lower") {
          out.kind = runtime::Operand::Kind::kLower;
        } else {
          out.kind = runtime::Operand::Kind::kLookup;
          out.table = table_ids_.at(o.name.text);
        }
        return out;
    }
    return out;
  }

  static runtime::CompareOp Op(ast::CompareOp op, bool priority) {
    // Labels rank the most urgent first: "priority >= high" is rank <=
    // rank(high).
    switch (op) {
      case ast::CompareOp::kEq:
        return runtime::CompareOp::kEq;
      case ast::CompareOp::kNe:
        return runtime::CompareOp::kNe;
      case ast::CompareOp::kLt:
        return priority ? runtime::CompareOp::kGt : runtime::CompareOp::kLt;
      case ast::CompareOp::kLe:
        return priority ? runtime::CompareOp::kGe : runtime::CompareOp::kLe;
      case ast::CompareOp::kGt:
        return priority ? runtime::CompareOp::kLt : runtime::CompareOp::kGt;
      case ast::CompareOp::kGe:
        return priority ? runtime::CompareOp::kLe : runtime::CompareOp::kGe;
      case ast::CompareOp::kStartsWith:
        return runtime::CompareOp::kStartsWith;
      case ast::CompareOp::kEndsWith:
        return runtime::CompareOp::kEndsWith;
      case ast::CompareOp::kContains:
        return runtime::CompareOp::kContains;
    }
    return runtime::CompareOp::kEq;
  }

  std::unique_ptr<runtime::Cond> Cond(const ast::Expr& e) {
    auto c = std::make_unique<runtime::Cond>();
    c->text = std::string(m_.sources.Text(e.span));
    c->lhs_text = std::string(m_.sources.Text(e.lhs.span));
    using K = ast::Expr::Kind;
    using RK = runtime::Cond::Kind;
    const bool priority = IsPriority(e.lhs);
    const ValueType lhs_type = TypeOfOperand(e.lhs);
    switch (e.kind) {
      case K::kAnd:
      case K::kOr:
      case K::kNot:
        c->kind = e.kind == K::kAnd  ? RK::kAnd
                  : e.kind == K::kOr ? RK::kOr
                                     : RK::kNot;
        for (const auto& child : e.children)
          c->children.push_back(Cond(*child));
        return c;
      case K::kHas:
        c->kind = RK::kHas;
        c->lhs = Operand(e.lhs, lhs_type, false);
        return c;
      case K::kTruthy:
        c->kind = RK::kTruthy;
        break;
      case K::kCompare: {
        c->kind = RK::kCompare;
        // A literal on the left compares the same with the sides swapped.
        const bool swap = e.lhs.kind == ast::Operand::Kind::kLiteral &&
                          e.rhs.kind != ast::Operand::Kind::kLiteral;
        const ast::Operand& l = swap ? e.rhs : e.lhs;
        const ast::Operand& r = swap ? e.lhs : e.rhs;
        const bool prio = IsPriority(l);
        ast::CompareOp op = e.op;
        if (swap) {
          if (op == ast::CompareOp::kLt)
            op = ast::CompareOp::kGt;
          else if (op == ast::CompareOp::kGt)
            op = ast::CompareOp::kLt;
          else if (op == ast::CompareOp::kLe)
            op = ast::CompareOp::kGe;
          else if (op == ast::CompareOp::kGe)
            op = ast::CompareOp::kLe;
        }
        c->op = Op(op, prio);
        const ValueType t = TypeOfOperand(l);
        c->lhs = Operand(l, t, prio);
        c->rhs = Operand(
            r, t == ValueType::kStringList ? ValueType::kString : t, prio);
        return c;
      }
      case K::kIn:
      case K::kNotIn:
        c->negated = e.kind == K::kNotIn;
        if (e.set_table) {
          c->kind = RK::kInTable;
          c->table = table_ids_.at(e.set_table->text);
        } else {
          c->kind = RK::kInSet;
          for (const ast::Literal& item : e.set_items) {
            c->set.push_back(priority && item.kind == ast::Literal::Kind::kName
                                 ? Value(int64_t{LabelRank(item.text)})
                                 : ValueOf(item, lhs_type));
          }
        }
        break;
      case K::kBetween:
        c->kind = RK::kBetween;
        c->rhs = Operand(e.rhs, lhs_type, priority);
        c->rhs2 = Operand(*e.rhs2, lhs_type, priority);
        if (priority) std::swap(c->rhs, c->rhs2);
        break;
      case K::kWithin:
        c->kind = RK::kWithin;
        c->within = e.duration;
        break;
    }
    c->lhs = Operand(e.lhs, lhs_type, priority);
    return c;
  }

  void Stage(const ast::Stage& s) {
    const int id = static_cast<int>(s.kind);  // same order as runtime::StageId
    for (const ast::Rule& r : s.rules) {
      runtime::Rule out;
      out.name = r.name.text;
      out.location = LocationOf(m_.sources, r.name.span);
      if (r.when) out.when = Cond(*r.when);
      for (const ast::Target& t : r.outcome) {
        switch (s.kind) {
          case ast::StageKind::kScore:
            out.points = t.number;
            break;
          case ast::StageKind::kAssign:
            out.owners.push_back(Owner(t));
            break;
          case ast::StageKind::kPriority:
            out.label = LabelRank(t.name.text);
            break;
          case ast::StageKind::kSla:
            out.sla = t.duration;
            break;
          case ast::StageKind::kChannel:
            out.channel = t.name.text;
            break;
          case ast::StageKind::kEscalate:
            out.escalation = p_->escalation_index.at(t.name.text);
            break;
        }
      }
      if (r.sticky && s.kind == ast::StageKind::kAssign) {
        out.sticky = runtime::Sticky{
            r.sticky->off ? absl::ZeroDuration() : r.sticky->window,
            r.sticky->anywhere, LocationOf(m_.sources, r.sticky->span),
            r.sticky->text};
      }
      p_->stages[id].push_back(std::move(out));
    }
  }

  runtime::Owner Owner(const ast::Target& t) {
    runtime::Owner o;
    o.name = t.name.text;
    switch (t.kind) {
      case ast::Target::Kind::kRep:
        o.kind = runtime::Owner::Kind::kRep;
        o.target = p_->rep_index.at(o.name);
        break;
      case ast::Target::Kind::kTeam:
        o.kind = runtime::Owner::Kind::kTeam;
        o.target = p_->team_index.at(o.name);
        for (const ast::MemberTest& m : t.where) o.where.push_back(Member(m));
        break;
      case ast::Target::Kind::kQueue:
        o.kind = runtime::Owner::Kind::kQueue;
        break;
      default: {
        o.kind = runtime::Owner::Kind::kLookup;
        o.table = table_ids_.at(t.call.name.text);
        o.key = Operand(t.call.args[0], ValueType::kString, false);
        o.lookup_gives_team =
            m_.tables.at(t.call.name.text)->value_type == ast::Type::kTeam;
      }
    }
    return o;
  }

  runtime::MemberTest Member(const ast::MemberTest& m) {
    runtime::MemberTest out;
    out.text = std::string(m_.sources.Text(m.span));
    out.op = Op(m.op, false);
    if (m.property.text == "seniority") {
      out.property = runtime::MemberProperty::kSeniority;
      for (size_t i = 0; i < std::size(runtime::kSeniorities); ++i) {
        if (m.value.name.text == runtime::kSeniorities[i]) out.level = i;
      }
    } else {
      out.property = m.property.text == "skills"
                         ? runtime::MemberProperty::kSkills
                         : runtime::MemberProperty::kLanguages;
      out.value = Operand(m.value, ValueType::kString, false);
    }
    return out;
  }

  const Module& m_;
  runtime::Program* p_;
  absl::flat_hash_map<std::string, int> table_ids_;
};

}  // namespace

Lowered LowerModule(const Module& module, const TreeOptions& options) {
  auto program = std::make_shared<runtime::Program>();
  Lowerer(module, program.get()).Run();
  program->read = runtime::SlotsRead(*program);
  Lowered out;
  out.findings = LowerToTrees(program.get(), options);
  out.program = std::move(program);
  return out;
}

std::vector<TestCase> LowerTests(const Module& module) {
  std::vector<TestCase> out;
  for (const ast::Test* t : module.tests) {
    TestCase tc;
    tc.name = t->name.text;
    tc.location = LocationOf(module.sources, t->name.span);
    tc.lead.id = absl::StrCat("test:", t->name.text);
    for (const ast::Property& p : t->lead) {
      auto it = module.attributes.find(p.name.text);
      const auto* lit = std::get_if<ast::Literal>(&p.value);
      if (it == module.attributes.end() || lit == nullptr) continue;
      tc.lead.attributes[p.name.text] =
          ValueOf(*lit, RuntimeType(it->second->type));
    }
    if (t->at) {
      absl::Time at;
      std::string err;
      if (absl::ParseTime(absl::RFC3339_full, t->at->text, &at, &err))
        tc.at = at;
    }
    if (t->given) {
      TestCase::Given& given = tc.given.emplace();
      for (const ast::Given& g : *t->given) {
        switch (g.kind) {
          case ast::Given::Kind::kStatus:
            given.status.emplace_back(
                g.entity.text,
                g.value.text == "away"  ? runtime::Availability::kAway
                : g.value.text == "ooo" ? runtime::Availability::kOutOfOffice
                                        : runtime::Availability::kAvailable);
            break;
          case ast::Given::Kind::kOpen:
            given.open.emplace_back(g.entity.text, g.open.int_value);
            break;
          case ast::Given::Kind::kLast:
            given.last.emplace_back(g.entity.text, g.value.text);
            break;
        }
      }
    }
    for (const ast::Expectation& e : t->expect) {
      TestCase::Expect x;
      x.output = e.output.text;
      x.location = LocationOf(module.sources, e.span);
      x.want = x.output == "skipped"
                   ? e.value.text
                   : std::string(module.sources.Text(e.value.span));
      if (e.value.kind == ast::Target::Kind::kPoints)
        x.want = absl::StrCat(e.value.number);
      x.sla = e.value.duration;
      tc.expect.push_back(std::move(x));
    }
    out.push_back(std::move(tc));
  }
  return out;
}

}  // namespace leadroute::compiler
