// The resolve_names pass; see passes.h.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/closest_match.h"
#include "compiler/pass_helpers.h"
#include "compiler/passes.h"

namespace leadroute::compiler {
namespace {

// Built-in functions usable in conditions and as lookup keys.
bool IsBuiltin(absl::string_view name) {
  return name == "domain" || name == "lower";
}

template <typename Map, typename T>
void Define(Map* map, absl::string_view what, const std::string& name,
            const Span& span, const T* decl, Diagnostics* diagnostics) {
  auto [it, inserted] = map->emplace(name, decl);
  if (!inserted) {
    diagnostics->Error(span, absl::StrCat("duplicate ", what, " `", name, "`"))
        .notes.push_back({it->second->name.span, "first defined here"});
  }
}

class Resolver {
 public:
  Resolver(Module* m, Diagnostics* d) : m_(m), d_(d) {}

  void Run() {
    DefineAll();
    CheckHeader();
    m_->ForEach<ast::Entity>([&](const ast::Entity& e) { Members(e); });
    for (ast::File& f : m_->files) {
      for (ast::Declaration& d : f.declarations) {
        if (auto* s = std::get_if<ast::Stage>(&d)) Stage(*s);
      }
    }
    m_->ForEach<ast::Test>([&](const ast::Test& t) {
      for (const ast::Expectation& e : t.expect) Target(e.value, nullptr);
    });
    m_->ForEach<ast::Escalation>([&](const ast::Escalation& e) {
      for (const ast::EscalationStep& step : e.steps) {
        for (const ast::Target& t : step.to) Target(t, nullptr);
      }
    });
  }

 private:
  void DefineAll() {
    m_->ForEach<ast::Schema>([&](const ast::Schema& s) {
      for (const ast::AttrDecl& a : s.attributes) {
        if (std::optional<OutputInfo> out = StageOutput(a.name.text)) {
          d_->Error(a.name.span,
                    absl::StrCat("`", a.name.text, "` is the output of the `",
                                 ast::StageName(out->stage),
                                 "` stage and cannot be a lead attribute"))
              .hint =
              absl::StrCat("name it differently, e.g. lead_", a.name.text);
          continue;
        }
        Define(&m_->attributes, "attribute", a.name.text, a.name.span, &a, d_);
      }
    });
    m_->ForEach<ast::Entity>([&](const ast::Entity& e) {
      switch (e.kind) {
        case ast::Entity::Kind::kRep:
          Define(&m_->reps, "rep", e.name.text, e.name.span, &e, d_);
          break;
        case ast::Entity::Kind::kTeam:
          Define(&m_->teams, "team", e.name.text, e.name.span, &e, d_);
          break;
        case ast::Entity::Kind::kQueue:
          Define(&m_->queues, "queue", e.name.text, e.name.span, &e, d_);
          break;
      }
    });
    m_->ForEach<ast::Table>([&](const ast::Table& t) {
      if (IsBuiltin(t.name.text)) {
        d_->Error(t.name.span,
                  absl::StrCat("`", t.name.text, "` is a built-in function"));
        return;
      }
      Define(&m_->tables, "table", t.name.text, t.name.span, &t, d_);
    });
    m_->ForEach<ast::Escalation>([&](const ast::Escalation& e) {
      Define(&m_->escalations, "escalation", e.name.text, e.name.span, &e, d_);
    });
    m_->ForEach<ast::Stage>([&](const ast::Stage& s) {
      auto [it, inserted] = m_->stages.emplace(s.kind, &s);
      if (!inserted) {
        d_->Error(s.kind_span,
                  absl::StrCat("second `", ast::StageName(s.kind), "` stage"))
            .notes.push_back({it->second->kind_span, "first defined here"});
      }
    });
    std::vector<const ast::Test*> tests;
    m_->ForEach<ast::Test>([&](const ast::Test& t) {
      for (const ast::Test* other : tests) {
        if (other->name.text == t.name.text) {
          d_->Error(t.name.span,
                    absl::StrCat("duplicate test \"", t.name.text, "\""))
              .notes.push_back({other->name.span, "first defined here"});
        }
      }
      tests.push_back(&t);
    });
    m_->tests = std::move(tests);
  }

  void CheckHeader() {
    for (size_t f = 0; f < m_->files.size(); ++f) {
      for (const ast::Declaration& d : m_->files[f].declarations) {
        const auto* h = std::get_if<ast::RulesetHeader>(&d);
        if (h == nullptr) continue;
        if (f != 0) {
          d_->Error(h->span,
                    "`ruleset` belongs in the root file, not in an included "
                    "one");
        } else if (m_->header != nullptr) {
          d_->Error(h->span, "second `ruleset` declaration")
              .notes.push_back({m_->header->span, "first declared here"});
        } else {
          m_->header = h;
        }
      }
    }
    if (m_->header == nullptr && !m_->files.empty()) {
      d_->Error({m_->files[0].source, 0, 0},
                "missing `ruleset \"name\" version \"...\"` declaration")
          .hint = "every root rule file starts with its name and version";
    }
    if (m_->header != nullptr) {
      if (m_->header->name.text.empty()) {
        d_->Error(m_->header->name.span, "the ruleset's name is empty");
      }
      if (m_->header->version.text.empty()) {
        d_->Error(m_->header->version.span, "the ruleset's version is empty");
      }
      Settings(*m_->header);
    }
    if (!m_->files.empty() && !m_->stages.contains(ast::StageKind::kAssign) &&
        m_->header != nullptr) {
      d_->Error(m_->header->span, "no `assign` stage").hint =
          "every ruleset must say who gets the lead: add assign { ... }";
    }
  }

  // The ruleset's settings: removed_reps = keep | release | reassign.
  void Settings(const ast::RulesetHeader& h) {
    ErrorOnPropertiesSetTwice(h.properties, d_);
    for (const ast::Property& p : h.properties) {
      if (p.name.text != "removed_reps") {
        d_->Error(p.name.span,
                  absl::StrCat("unknown ruleset setting `", p.name.text, "`"))
            .hint = "a ruleset has one setting: removed_reps";
        continue;
      }
      const auto* v = std::get_if<ast::Literal>(&p.value);
      if (v == nullptr || v->kind != ast::Literal::Kind::kName ||
          !runtime::ParseRemovedReps(v->text)) {
        const std::string close =
            v == nullptr
                ? ""
                : ClosestMatch(v->text, {"keep", "release", "reassign"});
        d_->Error(p.value_span, "`removed_reps` is keep, release or reassign")
            .hint = close.empty()
                        ? "what a reload does with the open leads of reps it "
                          "removes: keep them, release them, or reassign "
                          "them within their teams"
                        : absl::StrCat("did you mean `", close, "`?");
      }
    }
  }

  void Members(const ast::Entity& e) {
    if (e.kind != ast::Entity::Kind::kTeam) return;
    for (const ast::Property& p : e.properties) {
      if (p.name.text != "members") continue;
      const auto* lit = std::get_if<ast::Literal>(&p.value);
      if (lit == nullptr || lit->kind != ast::Literal::Kind::kList) continue;
      for (const ast::Literal& item : lit->items) {
        if (item.kind == ast::Literal::Kind::kName &&
            !m_->reps.contains(item.text)) {
          d_->Error(item.span,
                    absl::StrCat("team `", e.name.text,
                                 "` lists undefined rep `", item.text, "`"))
              .hint = DidYouMean(item.text, m_->reps);
        }
      }
    }
  }

  void Target(const ast::Target& t, const ast::Stage* stage) {
    switch (t.kind) {
      case ast::Target::Kind::kRep:
        Lookup(m_->reps, "rep", t.name);
        break;
      case ast::Target::Kind::kTeam:
        Lookup(m_->teams, "team", t.name);
        break;
      case ast::Target::Kind::kQueue:
        Lookup(m_->queues, "queue", t.name);
        break;
      case ast::Target::Kind::kCall:
        Operand(t.call, stage);
        break;
      default:
        break;
    }
  }

  template <typename Map>
  void Lookup(const Map& map, absl::string_view what, const ast::Name& name) {
    if (map.contains(name.text)) return;
    d_->Error(name.span, absl::StrCat("undefined ", what, " `", name.text, "`"))
        .hint = DidYouMean(name.text, map);
  }

  void Stage(ast::Stage& s) {
    for (ast::Rule& r : s.rules) {
      if (r.when != nullptr) Expr(*r.when, &s);
      for (const ast::Target& t : r.outcome) Target(t, &s);
    }
  }

  void Expr(ast::Expr& e, const ast::Stage* stage) {
    for (auto& c : e.children) Expr(*c, stage);
    if (e.kind == ast::Expr::Kind::kAnd || e.kind == ast::Expr::Kind::kOr ||
        e.kind == ast::Expr::Kind::kNot) {
      return;
    }
    Operand(e.lhs, stage);
    if (e.kind == ast::Expr::Kind::kCompare ||
        e.kind == ast::Expr::Kind::kBetween) {
      Value(&e.rhs, stage);
    }
    if (e.kind == ast::Expr::Kind::kBetween) Value(e.rhs2.get(), stage);
    if (e.set_table.has_value()) Lookup(m_->tables, "table", *e.set_table);
  }

  // The right-hand side of a comparison: a bare name that is no attribute
  // is a symbol (an enum value or a priority label) for check_types to
  // judge against the left-hand side.
  void Value(ast::Operand* o, const ast::Stage* stage) {
    if (o->kind == ast::Operand::Kind::kAttribute &&
        !m_->attributes.contains(o->name.text) &&
        !StageOutput(o->name.text).has_value()) {
      o->kind = ast::Operand::Kind::kLiteral;
      o->literal.kind = ast::Literal::Kind::kName;
      o->literal.text = o->name.text;
      o->literal.span = o->name.span;
      return;
    }
    Operand(*o, stage);
  }

  void Operand(const ast::Operand& o, const ast::Stage* stage) {
    switch (o.kind) {
      case ast::Operand::Kind::kLiteral:
        return;
      case ast::Operand::Kind::kCall:
        if (!IsBuiltin(o.name.text) && !m_->tables.contains(o.name.text)) {
          std::string hint = DidYouMean(o.name.text, m_->tables);
          d_->Error(o.name.span, absl::StrCat("undefined function or table `",
                                              o.name.text, "`"))
              .hint =
              hint.empty() ? "built-in functions: domain(), lower()" : hint;
        }
        for (const ast::Operand& a : o.args) Operand(a, stage);
        return;
      case ast::Operand::Kind::kAttribute:
        break;
    }
    if (m_->attributes.contains(o.name.text)) return;
    if (std::optional<OutputInfo> out = StageOutput(o.name.text)) {
      if (stage != nullptr && out->stage >= stage->kind) {
        d_->Error(o.name.span,
                  absl::StrCat("`", o.name.text, "` is decided by the `",
                               ast::StageName(out->stage),
                               "` stage, which runs after `",
                               ast::StageName(stage->kind), "`"))
            .hint =
            "stages run in the order score, assign, priority, sla, channel, "
            "escalate; a stage reads only earlier stages' outputs";
      } else if (!m_->stages.contains(out->stage)) {
        d_->Error(o.name.span,
                  absl::StrCat("`", o.name.text, "` is read but there is no `",
                               ast::StageName(out->stage), "` stage"));
      }
      return;
    }
    d_->Error(o.name.span,
              absl::StrCat("undefined attribute `", o.name.text, "`"))
        .hint = DidYouMean(o.name.text, m_->attributes);
  }

  Module* m_;
  Diagnostics* d_;
};

}  // namespace

void ResolveNames(Module* module, Diagnostics* diagnostics) {
  Resolver(module, diagnostics).Run();
}

}  // namespace leadroute::compiler
