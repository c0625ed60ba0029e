// The pipeline: load (parse every file) -> collect_allowances ->
// resolve_names -> load_tables ->
// check_entities -> check_escalations -> check_types -> check_stages ->
// check_tests, then, for rules without errors, lower_program ->
// lower_to_tree -> analyze_rules.
#include "compiler/compiler.h"

#include "compiler/load_files.h"
#include "compiler/lower_program.h"
#include "compiler/parse.h"
#include "compiler/passes.h"

namespace leadroute::compiler {
namespace {

void RunPasses(CheckResult* result, const TreeOptions& options) {
  Module* m = result->module.get();
  Diagnostics* d = &result->diagnostics;
  CollectAllowances(*m, d);
  ResolveNames(m, d);
  LoadTables(m, d);
  CheckEntities(*m, d);
  CheckEscalations(*m, d);
  CheckTypes(*m, d);
  CheckStages(*m, d);
  CheckTests(*m, d);
  if (!d->has_errors()) {
    Lowered lowered = LowerModule(*m, options);
    AnalyzeRules(*m, lowered.findings, d);
    result->program = std::move(lowered.program);
    // Only now has every pass spoken: with errors, the analysis never ran.
    d->ReportUnusedAllowances();
  }
  d->Sort();
}

}  // namespace

absl::StatusOr<CheckResult> Check(const std::string& path,
                                  const TreeOptions& options) {
  CheckResult result;
  result.module = std::make_unique<Module>();
  if (absl::Status s =
          LoadFiles(path, result.module.get(), &result.diagnostics);
      !s.ok()) {
    return s;
  }
  RunPasses(&result, options);
  return result;
}

CheckResult CheckText(const std::string& path, std::string text,
                      const TreeOptions& options) {
  CheckResult result;
  result.module = std::make_unique<Module>();
  LoadText(path, std::move(text), result.module.get(), &result.diagnostics);
  RunPasses(&result, options);
  return result;
}

CheckResult CheckFiles(const std::string& root,
                       std::map<std::string, std::string> files,
                       const TreeOptions& options) {
  const MemoryReader reader(std::move(files));
  CheckResult result;
  result.module = std::make_unique<Module>();
  result.module->reader = &reader;
  std::string text;
  if (absl::Status s = reader.Read(root, &text); !s.ok()) {
    result.diagnostics.Error(Span{}, std::string(s.message()));
  } else {
    LoadText(root, std::move(text), result.module.get(), &result.diagnostics);
    RunPasses(&result, options);
  }
  result.module->reader = nullptr;  // `reader` ends here
  return result;
}

}  // namespace leadroute::compiler
