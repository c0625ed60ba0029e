// The check_escalations pass; see passes.h. An escalation is a list of
// steps (`at 80% notify`, `at 100% reassign to next_rep else queue q`) and
// two properties (max_hops, clock); this pass knows what each may say.
#include "absl/strings/str_cat.h"
#include "compiler/pass_helpers.h"
#include "compiler/passes.h"

namespace leadroute::compiler {
namespace {

using TK = ast::Target::Kind;

class EscalationChecker {
 public:
  EscalationChecker(const Module& m, Diagnostics* d) : m_(m), d_(d) {}

  void Check(const ast::Escalation& e) {
    if (e.steps.empty()) {
      d_->Error(e.name.span,
                absl::StrCat("escalation `", e.name.text, "` has no steps"))
          .hint = "add e.g. at 80% notify and at 100% reassign to next_rep";
    }
    for (const ast::EscalationStep& step : e.steps) Step(step);
    ErrorOnPropertiesSetTwice(e.properties, d_);
    for (const ast::Property& p : e.properties) Property(p);
    bool used = false;
    if (auto it = m_.stages.find(ast::StageKind::kEscalate);
        it != m_.stages.end()) {
      for (const ast::Rule& r : it->second->rules) {
        for (const ast::Target& t : r.outcome) {
          if (t.kind == TK::kName && t.name.text == e.name.text) used = true;
        }
      }
    }
    if (!used) {
      d_->Warning(e.name.span, "unused_escalation",
                  absl::StrCat("escalation `", e.name.text, "` is never used"))
          .hint = absl::StrCat("name it in an escalate rule: escalate { ",
                               "otherwise ", e.name.text, " }");
    }
  }

 private:
  void Step(const ast::EscalationStep& step) {
    if (step.percent < 1 || step.percent > 1000) {
      d_->Error(step.percent_span,
                "a step comes after 1% to 1000% of the SLA has passed");
    }
    if (!step.reassign) {
      if (step.notify_whom && step.notify_whom->text != "manager" &&
          step.notify_whom->text != "owner") {
        d_->Error(step.notify_whom->span, "notify the owner or the manager");
      }
      return;
    }
    for (size_t i = 0; i < step.to.size(); ++i) {
      const ast::Target& t = step.to[i];
      switch (t.kind) {
        case TK::kName:
          if (t.name.text != "next_rep" && t.name.text != "manager") {
            d_->Error(t.span, absl::StrCat("`", t.name.text,
                                           "` is not a place to escalate to"))
                .hint = DidYouMean(
                t.name.text, std::vector<std::string>{"next_rep", "manager"},
                "reassign to next_rep, manager, rep NAME, team NAME or "
                "queue NAME");
          }
          break;
        case TK::kTeam:
          if (!t.where.empty()) {
            d_->Error(t.where.front().span,
                      "`where` filters are for assign rules, not escalations");
          }
          break;
        case TK::kRep:
          break;
        case TK::kQueue:
          if (i + 1 < step.to.size()) {
            d_->Error(step.to[i + 1].span,
                      "a queue always takes the lead: this fallback is never "
                      "used");
          }
          break;
        default:
          d_->Error(t.span,
                    "reassign to next_rep, manager, rep NAME, team NAME or "
                    "queue NAME");
      }
    }
  }

  void Property(const ast::Property& p) {
    const auto* lit = std::get_if<ast::Literal>(&p.value);
    if (p.name.text == "max_hops") {
      if (lit == nullptr || lit->kind != ast::Literal::Kind::kInt ||
          lit->int_value < 0 || lit->int_value > 100) {
        d_->Error(p.value_span, "`max_hops` takes a whole number, 0 to 100");
      }
      return;
    }
    if (p.name.text == "clock") {
      if (lit == nullptr || lit->kind != ast::Literal::Kind::kName ||
          (lit->text != "business_hours" && lit->text != "wall")) {
        d_->Error(p.value_span,
                  "`clock` is business_hours (the SLA counts only while the "
                  "owner works) or wall");
      }
      return;
    }
    d_->Error(p.name.span,
              absl::StrCat("unknown escalation property `", p.name.text, "`"))
        .hint =
        DidYouMean(p.name.text, std::vector<std::string>{"max_hops", "clock"},
                   "properties: max_hops, clock");
  }

  const Module& m_;
  Diagnostics* d_;
};

}  // namespace

void CheckEscalations(const Module& module, Diagnostics* diagnostics) {
  EscalationChecker checker(module, diagnostics);
  module.ForEach<ast::Escalation>(
      [&](const ast::Escalation& e) { checker.Check(e); });
}

}  // namespace leadroute::compiler
