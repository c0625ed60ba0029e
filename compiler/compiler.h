// The compiler's entry point: a .route file in, a checked Module and its
// diagnostics out. The order of passes is written out once, in compiler.cc.
#ifndef LEADROUTE_COMPILER_COMPILER_H_
#define LEADROUTE_COMPILER_COMPILER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "compiler/diagnostic.h"
#include "compiler/lower_to_tree.h"
#include "compiler/module.h"
#include "runtime/program.h"

namespace leadroute::compiler {

struct CheckResult {
  std::unique_ptr<Module> module;  // valid even when there are errors
  Diagnostics diagnostics;         // sorted by file and position
  // The compiled program with its decision trees; null when there are
  // errors.
  std::shared_ptr<const runtime::Program> program;
  bool ok() const { return !diagnostics.has_errors(); }
};

// Loads `path` and its includes, runs every checking pass and, when the
// rules have no errors, compiles them and reports what the decision trees
// reveal (shadowed rules, overlaps, leads no rule matches) as warnings. A
// Status error means the check could not run (the root file is
// unreadable); mistakes in the rules are diagnostics.
absl::StatusOr<CheckResult> Check(const std::string& path,
                                  const TreeOptions& options = {});

// The same for rule text held in memory (tests, fuzzing, ValidateRules);
// `path` names it in diagnostics and anchors relative includes.
CheckResult CheckText(const std::string& path, std::string text,
                      const TreeOptions& options = {});

// The same for a ruleset whose every file is in `files` (a ruleset
// published over RPC): `root` is one of them, and includes and CSV tables
// are looked up among them only, never on disk.
CheckResult CheckFiles(const std::string& root,
                       std::map<std::string, std::string> files,
                       const TreeOptions& options = {});

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_COMPILER_H_
