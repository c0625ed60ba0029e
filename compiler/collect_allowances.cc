// The collect_allowances pass; see passes.h. It runs first, so that every
// later pass's warnings meet the allowances of the rules they are about.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/closest_match.h"
#include "compiler/passes.h"

namespace leadroute::compiler {
namespace {

std::vector<std::string> AllowableCodes() {
  std::vector<std::string> out;
  for (const FindingKind& k : kFindings) {
    if (k.allowable) out.push_back(k.code);
  }
  return out;
}

// The allowance `a` for `scope`, or nothing after an error.
void Collect(const ast::Allow& a, Span scope, bool at_rule,
             Diagnostics* diagnostics) {
  Allowance out;
  out.scope = scope;
  out.clause = a.span;
  out.reason = a.reason.text;
  bool ok = true;
  for (const ast::Name& code : a.codes) {
    const FindingKind* kind = FindFinding(code.text);
    if (kind == nullptr) {
      const std::vector<std::string> codes = AllowableCodes();
      const std::string close = ClosestMatch(code.text, codes);
      diagnostics
          ->Error(code.span,
                  absl::StrCat("`", code.text, "` is not a finding of check"))
          .hint = close.empty()
                      ? absl::StrCat("one of: ", absl::StrJoin(codes, ", "))
                      : absl::StrCat("did you mean `", close, "`?");
      ok = false;
    } else if (!kind->allowable) {
      diagnostics
          ->Error(code.span,
                  absl::StrCat("`", code.text, "` cannot be allowed"))
          .hint = "it points at something to delete: delete it instead";
      ok = false;
    } else if (at_rule && !kind->rule_level) {
      diagnostics
          ->Error(code.span, absl::StrCat("`", code.text,
                                          "` is about a whole stage, not "
                                          "one rule"))
          .hint = absl::StrCat("write `allow ", code.text,
                               " \"...\"` at the top of the stage");
      ok = false;
    } else {
      out.codes.push_back(code.text);
    }
  }
  if (absl::StripAsciiWhitespace(a.reason.text).empty()) {
    diagnostics->Error(a.reason.span, "an `allow` needs a reason").hint =
        "say why the finding is intended, e.g. \"a priority ladder: first "
        "match wins\"";
    ok = false;
  }
  if (ok) diagnostics->Allow(std::move(out));
}

}  // namespace

void CollectAllowances(const Module& module, Diagnostics* diagnostics) {
  module.ForEach<ast::Stage>([&](const ast::Stage& stage) {
    for (const ast::Allow& a : stage.allows) {
      Collect(a, stage.span, /*at_rule=*/false, diagnostics);
    }
    for (const ast::Rule& r : stage.rules) {
      if (r.allow) Collect(*r.allow, r.span, /*at_rule=*/true, diagnostics);
    }
  });
}

}  // namespace leadroute::compiler
