// The pipeline: load (parse every file) -> resolve_names -> load_tables ->
// check_entities -> check_types -> check_stages -> check_tests.
#include "compiler/compiler.h"

#include "compiler/load_files.h"
#include "compiler/parse.h"
#include "compiler/passes.h"

namespace leadroute::compiler {
namespace {

void RunPasses(CheckResult* result) {
  Module* m = result->module.get();
  Diagnostics* d = &result->diagnostics;
  ResolveNames(m, d);
  LoadTables(m, d);
  CheckEntities(*m, d);
  CheckTypes(*m, d);
  CheckStages(*m, d);
  CheckTests(*m, d);
  d->Sort();
}

}  // namespace

absl::StatusOr<CheckResult> Check(const std::string& path) {
  CheckResult result;
  result.module = std::make_unique<Module>();
  if (absl::Status s =
          LoadFiles(path, result.module.get(), &result.diagnostics);
      !s.ok()) {
    return s;
  }
  RunPasses(&result);
  return result;
}

CheckResult CheckText(const std::string& path, std::string text) {
  CheckResult result;
  result.module = std::make_unique<Module>();
  LoadText(path, std::move(text), result.module.get(), &result.diagnostics);
  RunPasses(&result);
  return result;
}

}  // namespace leadroute::compiler
