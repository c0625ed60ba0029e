// The check_stages pass; see passes.h.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/pass_helpers.h"
#include "compiler/passes.h"
#include "runtime/program.h"

namespace leadroute::compiler {
namespace {

using ast::StageKind;
using TK = ast::Target::Kind;

class StageChecker {
 public:
  StageChecker(const Module& m, Diagnostics* d) : m_(m), d_(d) {}

  void Check(const ast::Stage& s) {
    const std::string stage(ast::StageName(s.kind));
    Labels(s);
    absl::flat_hash_map<std::string, const ast::Rule*> named;
    const ast::Rule* otherwise = nullptr;
    for (const ast::Rule& r : s.rules) {
      if (otherwise != nullptr) {
        d_->Error(r.name.span, absl::StrCat("`", r.name.text,
                                            "` comes after `otherwise` and can "
                                            "never fire"))
            .notes.push_back({otherwise->name.span, "`otherwise` is here"});
      }
      if (r.is_otherwise) {
        if (s.kind == StageKind::kScore) {
          d_->Error(r.name.span,
                    "the score stage adds points and has no "
                    "`otherwise`")
              .hint = "leads that match no score rule score 0";
        }
        if (otherwise == nullptr) otherwise = &r;
      } else {
        auto [it, inserted] = named.emplace(r.name.text, &r);
        if (!inserted) {
          d_->Error(r.name.span, absl::StrCat("duplicate rule `", r.name.text,
                                              "` in the ", stage, " stage"))
              .notes.push_back({it->second->name.span, "first defined here"});
        }
      }
      Outcome(s, r);
    }
  }

 private:
  void Labels(const ast::Stage& s) {
    if (s.kind != StageKind::kPriority) {
      if (!s.labels.empty()) {
        d_->Error(s.labels_span, "`labels` belongs in the priority stage");
      }
      return;
    }
    if (s.labels.empty()) {
      d_->Error(s.kind_span, "the priority stage declares no labels").hint =
          "start it with labels urgent > high > normal > low (most "
          "urgent first)";
    }
    for (size_t i = 0; i < s.labels.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (s.labels[i].text == s.labels[j].text) {
          d_->Error(s.labels[i].span,
                    absl::StrCat("duplicate label `", s.labels[i].text, "`"));
        }
      }
    }
  }

  void Outcome(const ast::Stage& s, const ast::Rule& r) {
    if (r.outcome.size() > 1 && s.kind != StageKind::kAssign) {
      d_->Error(r.outcome[1].span, "only assign rules have `else` fallbacks");
    }
    for (size_t i = 0; i < r.outcome.size(); ++i) {
      const ast::Target& t = r.outcome[i];
      switch (s.kind) {
        case StageKind::kAssign:
          Assign(t);
          if (t.kind == TK::kQueue && i + 1 < r.outcome.size()) {
            d_->Error(r.outcome[i + 1].span,
                      "a queue always takes the lead: this fallback is never "
                      "used");
          }
          break;
        case StageKind::kScore:
          if (t.kind != TK::kPoints) {
            d_->Error(t.span, "a score rule adds or subtracts points").hint =
                "e.g. then +20 or then -10";
          }
          break;
        case StageKind::kPriority:
          Label(s, t);
          break;
        case StageKind::kSla:
          if (t.kind != TK::kDuration) {
            d_->Error(t.span, "an sla rule gives a duration").hint =
                "e.g. then 15m, 1h or 2d";
          } else if (t.duration <= absl::ZeroDuration()) {
            d_->Error(t.span, "an SLA must be longer than zero");
          }
          break;
        case StageKind::kChannel:
          if (t.kind != TK::kName) {
            d_->Error(t.span, "a channel rule names a channel").hint =
                "e.g. then phone, then email, then linkedin";
          }
          break;
        case StageKind::kEscalate:
          if (t.kind != TK::kName) {
            d_->Error(t.span, "an escalate rule names an escalation policy")
                .hint = "e.g. then standard, with escalation standard { ... }";
          } else if (!m_.escalations.contains(t.name.text)) {
            d_->Error(t.span,
                      absl::StrCat("undefined escalation `", t.name.text, "`"))
                .hint = DidYouMean(t.name.text, m_.escalations);
          }
          break;
      }
    }
    if (r.sticky) Sticky(s, r);
  }

  // `sticky D`, `sticky off`, `sticky D anywhere`: assign rules only.
  void Sticky(const ast::Stage& s, const ast::Rule& r) {
    const ast::Sticky& sticky = *r.sticky;
    if (s.kind != StageKind::kAssign) {
      d_->Error(sticky.span, "only assign rules say whether repeat leads stick")
          .hint = "move `" + sticky.text + "` to a rule of the assign stage";
      return;
    }
    if (sticky.off && sticky.anywhere) {
      d_->Error(sticky.span, "`sticky off anywhere` says two things").hint =
          "write `sticky off`, or a window such as `sticky 30d anywhere`";
      return;
    }
    if (!sticky.off && sticky.window <= absl::ZeroDuration()) {
      d_->Error(sticky.span, "a sticky window must be longer than zero").hint =
          "write `sticky off` to route repeat leads by the rules alone";
      return;
    }
    // Stickiness picks a member of a team the rule names; a rule of reps
    // and queues only has nobody to stick to, unless it says anywhere.
    const bool team = std::any_of(
        r.outcome.begin(), r.outcome.end(), [&](const ast::Target& t) {
          if (t.kind == TK::kTeam) return true;
          if (t.kind != TK::kCall) return false;
          auto it = m_.tables.find(t.call.name.text);
          return it != m_.tables.end() &&
                 it->second->value_type == ast::Type::kTeam;
        });
    if (!sticky.off && !sticky.anywhere && !team) {
      d_->Warning(sticky.span, "sticky_no_team",
                  absl::StrCat("`", sticky.text, "` does nothing: rule `",
                               r.name.text, "` names no team"))
          .hint =
          "a repeat lead sticks to a member of a team the rule names; add "
          "`anywhere` to send it to the last rep whoever they are";
    }
  }

  void Assign(const ast::Target& t) {
    switch (t.kind) {
      case TK::kTeam:
        for (const ast::MemberTest& m : t.where) MemberTest(m);
        return;
      case TK::kRep:
      case TK::kQueue:
        return;
      case TK::kCall: {
        auto it = m_.tables.find(t.call.name.text);
        if (it == m_.tables.end()) {
          if (t.call.name.text == "domain" || t.call.name.text == "lower") {
            d_->Error(t.span, "a built-in function gives text, not an owner");
          }
          return;
        }
        const ast::Type v = it->second->value_type;
        if (v != ast::Type::kRep && v != ast::Type::kTeam) {
          d_->Error(t.span, absl::StrCat("table `", t.call.name.text,
                                         "` gives ", ast::TypeName(v),
                                         " values, not reps or teams"))
              .notes.push_back(
                  {it->second->value_type_span, "value type declared here"});
        }
        return;
      }
      case TK::kName: {
        Diagnostic& d = d_->Error(t.span, absl::StrCat("say what `", t.text,
                                                       "` is: rep, team or "
                                                       "queue"));
        if (m_.reps.contains(t.text)) d.hint = absl::StrCat("rep ", t.text);
        if (m_.teams.contains(t.text)) d.hint = absl::StrCat("team ", t.text);
        if (m_.queues.contains(t.text)) d.hint = absl::StrCat("queue ", t.text);
        return;
      }
      default:
        d_->Error(t.span,
                  "an assign rule names an owner: rep NAME, team NAME, "
                  "queue NAME or a table lookup");
    }
  }

  // One test of `team NAME where ...`: seniority against a level; skills
  // or languages containing a string or a string attribute of the lead.
  void MemberTest(const ast::MemberTest& m) {
    const std::string& property = m.property.text;
    if (property == "seniority") {
      if (m.op == ast::CompareOp::kContains) {
        d_->Error(m.op_span, "seniority is a level: compare it").hint =
            "e.g. seniority >= senior";
      }
      const std::vector<std::string> levels(std::begin(runtime::kSeniorities),
                                            std::end(runtime::kSeniorities));
      if (m.value.kind != ast::Operand::Kind::kAttribute ||
          std::find(levels.begin(), levels.end(), m.value.name.text) ==
              levels.end()) {
        d_->Error(m.value.span, "expected a seniority level").hint = DidYouMean(
            m.value.kind == ast::Operand::Kind::kAttribute
                ? m.value.name.text
                : m.value.literal.text,
            levels, absl::StrCat("one of: ", absl::StrJoin(levels, ", ")));
      }
      return;
    }
    if (property != "skills" && property != "languages") {
      d_->Error(m.property.span,
                absl::StrCat("a team's members can be chosen by seniority, "
                             "skills or languages, not `",
                             property, "`"))
          .hint = DidYouMean(property, std::vector<std::string>{
                                           "seniority", "skills", "languages"});
      return;
    }
    if (m.op != ast::CompareOp::kContains) {
      d_->Error(m.op_span, absl::StrCat(property, " is a list: use `contains`"))
          .hint = absl::StrCat("e.g. ", property, " contains \"",
                               property == "skills" ? "payments" : "fr", "\"");
    }
    if (m.value.kind == ast::Operand::Kind::kLiteral) {
      if (m.value.literal.kind != ast::Literal::Kind::kString) {
        d_->Error(m.value.span, "expected a quoted string or an attribute");
      }
      return;
    }
    auto it = m_.attributes.find(m.value.name.text);
    if (it == m_.attributes.end()) {
      d_->Error(m.value.span,
                absl::StrCat("unknown attribute `", m.value.name.text, "`"))
          .hint = DidYouMean(m.value.name.text, m_.attributes);
    } else if (it->second->type != ast::Type::kString &&
               it->second->type != ast::Type::kEnum) {
      d_->Error(m.value.span,
                absl::StrCat("`", m.value.name.text, "` is ",
                             TypeArticle(it->second->type), ", not a string"))
          .notes.push_back({it->second->span, "declared here"});
    }
  }

  void Label(const ast::Stage& s, const ast::Target& t) {
    if (t.kind != TK::kName) {
      d_->Error(t.span, "a priority rule gives a label").hint =
          "e.g. then urgent";
      return;
    }
    if (s.labels.empty()) return;  // reported once in Labels()
    std::vector<std::string> names;
    for (const ast::Name& l : s.labels) {
      if (l.text == t.name.text) return;
      names.push_back(l.text);
    }
    d_->Error(t.span, absl::StrCat("`", t.name.text,
                                   "` is not a declared "
                                   "priority label"))
        .hint =
        DidYouMean(t.name.text, names, "add it to the stage's `labels`");
  }

  const Module& m_;
  Diagnostics* d_;
};

}  // namespace

void CheckStages(const Module& module, Diagnostics* diagnostics) {
  StageChecker checker(module, diagnostics);
  module.ForEach<ast::Stage>([&](const ast::Stage& s) { checker.Check(s); });
}

}  // namespace leadroute::compiler
