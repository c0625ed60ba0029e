// The compiler's entry point: a .route file in, a checked Module and its
// diagnostics out. The order of passes is written out once, in compiler.cc.
#ifndef LEADROUTE_COMPILER_COMPILER_H_
#define LEADROUTE_COMPILER_COMPILER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "compiler/diagnostic.h"
#include "compiler/module.h"

namespace leadroute::compiler {

struct CheckResult {
  std::unique_ptr<Module> module;  // valid even when there are errors
  Diagnostics diagnostics;         // sorted by file and position
  bool ok() const { return !diagnostics.has_errors(); }
};

// Loads `path` and its includes and runs every checking pass. A Status
// error means the check could not run (the root file is unreadable);
// mistakes in the rules are diagnostics.
absl::StatusOr<CheckResult> Check(const std::string& path);

// The same for rule text held in memory (tests, fuzzing, ValidateRules);
// `path` names it in diagnostics and anchors relative includes.
CheckResult CheckText(const std::string& path, std::string text);

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_COMPILER_H_
