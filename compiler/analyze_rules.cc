// The analyze_rules pass: what lower_to_tree found, as warnings at the
// rules concerned; see passes.h.
#include "absl/strings/str_cat.h"
#include "compiler/passes.h"

namespace leadroute::compiler {
namespace {

// Only ever a named rule: `otherwise` contains every lead, so it neither
// overlaps others nor contradicts itself, and never-fires has its own text.
std::string RuleName(const ast::Rule& r) {
  return absl::StrCat("rule `", r.name.text, "`");
}

}  // namespace

void AnalyzeRules(const Module& module,
                  const std::vector<TreeFinding>& findings,
                  Diagnostics* diagnostics) {
  constexpr int kMaxOverlaps = 10;  // per stage; the rest are summarised
  int overlaps[runtime::kStageCount] = {};
  int hidden[runtime::kStageCount] = {};
  for (const TreeFinding& f : findings) {
    auto it = module.stages.find(static_cast<ast::StageKind>(f.stage));
    if (it == module.stages.end()) continue;
    const ast::Stage& stage = *it->second;
    const std::string stage_name(ast::StageName(stage.kind));
    const ast::Rule* rule = f.rule >= 0 ? &stage.rules[f.rule] : nullptr;
    switch (f.kind) {
      case TreeFinding::Kind::kNeverFires: {
        Diagnostic& d =
            rule->is_otherwise
                ? diagnostics->Warning(
                      rule->name.span, "never_fires",
                      "`otherwise` is never used: the rules above it take "
                      "every lead")
                : diagnostics->Warning(
                      rule->name.span, "never_fires",
                      absl::StrCat(RuleName(*rule),
                                   " can never fire: earlier rules take "
                                   "every lead it matches"));
        for (int other : f.others) {
          const ast::Rule& o = stage.rules[other];
          d.notes.push_back(
              {o.name.span,
               absl::StrCat("`", o.name.text, "` takes some of them")});
        }
        if (!rule->is_otherwise) {
          d.hint = "move it above them, narrow them, or delete it";
        }
        break;
      }
      case TreeFinding::Kind::kNeverMatches:
        diagnostics->Warning(
            rule->name.span, "never_matches",
            f.detail.empty()
                ? absl::StrCat(RuleName(*rule),
                               " can never match: its conditions contradict "
                               "each other")
                : absl::StrCat(RuleName(*rule),
                               " can never match: no value of `", f.detail,
                               "` satisfies its conditions"));
        break;
      case TreeFinding::Kind::kOverlap: {
        // An accepted overlap is recorded, and does not count towards the
        // ones shown.
        if (!diagnostics->IsAllowed(rule->name.span, "overlap") &&
            overlaps[f.stage]++ >= kMaxOverlaps) {
          ++hidden[f.stage];
          break;
        }
        const ast::Rule& first = stage.rules[f.others[0]];
        Diagnostic& d = diagnostics->Warning(
            rule->name.span, "overlap",
            absl::StrCat(RuleName(*rule), " overlaps `", first.name.text,
                         "` with a different outcome, and order decides: `",
                         first.name.text, "` takes leads like ", f.example));
        d.notes.push_back(
            {first.name.span, absl::StrCat("`", first.name.text, "` is here")});
        d.hint =
            "if that is intended, make one rule exclude the other's leads, "
            "put the more specific rule first, or accept it with `allow "
            "overlap \"why\"` after the rule (or at the top of the stage)";
        break;
      }
      case TreeFinding::Kind::kFallThrough: {
        // A lead that no escalate rule picks simply has no escalation.
        if (stage.kind == ast::StageKind::kEscalate) break;
        std::string message =
            absl::StrCat("some leads match no rule of the ", stage_name,
                         " stage, e.g. ", f.example);
        if (!f.detail.empty())
          absl::StrAppend(&message, " when ", f.detail, " fail");
        Diagnostic& d =
            diagnostics->Warning(stage.kind_span, "fall_through", message);
        d.hint = absl::StrCat(
            "such leads get no ",
            stage.kind == ast::StageKind::kAssign ? "owner" : stage_name,
            "; end the stage with `otherwise ...`");
        break;
      }
      case TreeFinding::Kind::kOverBudget:
        diagnostics
            ->Warning(stage.kind_span, "tree_budget",
                      absl::StrCat("the ", stage_name,
                                   " stage's decision tree reached its size "
                                   "budget (",
                                   f.detail,
                                   "); some leads are matched by trying "
                                   "rules one by one"))
            .hint =
            "rules that leave attributes unconstrained are copied into "
            "every branch; `leadroute check --stats` shows each stage's nodes "
            "and leaves";
        break;
    }
  }
  for (int s = 0; s < runtime::kStageCount; ++s) {
    if (hidden[s] == 0) continue;
    const ast::Stage& stage = *module.stages.at(static_cast<ast::StageKind>(s));
    diagnostics->Warning(stage.kind_span, "overlap",
                         absl::StrCat(hidden[s],
                                      " more overlapping rule pairs in this "
                                      "stage are not shown"));
  }
}

}  // namespace leadroute::compiler
