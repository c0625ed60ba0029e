// CompileRules; see compile_rules.h.
#include "src/cli/compile_rules.h"

#include <iostream>

#include "src/cli/commands.h"

namespace leadroute {

Compiled CompileRules(const std::string& path, bool only_rulesets,
                      bool show_warnings) {
  Compiled out;
  absl::StatusOr<compiler::CheckResult> r = compiler::Check(path);
  if (!r.ok()) {
    std::cerr << "leadroute: " << r.status().message() << "\n";
    out.exit_code = kExitUsageOrIo;
    return out;
  }
  if (only_rulesets && r->module->header == nullptr) return out;
  out.checked = std::make_unique<compiler::CheckResult>(*std::move(r));
  for (const compiler::Diagnostic& d : out.checked->diagnostics.all()) {
    if (d.severity == compiler::Severity::kWarning && !show_warnings) continue;
    std::cerr << compiler::RenderText(out.checked->module->sources, d);
  }
  if (!out.checked->ok()) out.exit_code = kExitRulesOrInput;
  return out;
}

}  // namespace leadroute
