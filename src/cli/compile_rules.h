// The rules the local subcommands (`eval`, `test`, `replay`) run: checked
// and lowered, diagnostics printed on stderr, stopping on errors.
#ifndef LEADROUTE_SRC_CLI_COMPILE_RULES_H_
#define LEADROUTE_SRC_CLI_COMPILE_RULES_H_

#include <memory>
#include <string>

#include "compiler/compiler.h"
#include "runtime/program.h"

namespace leadroute {

struct Compiled {
  std::unique_ptr<compiler::CheckResult> checked;
  int exit_code = 0;  // kExitOk, or why not (commands.h)
  const std::shared_ptr<const runtime::Program>& program() const {
    return checked->program;
  }
};

// With `only_rulesets`, a file without a `ruleset` declaration (a part
// others include) gives no rules (`checked` null) and prints nothing.
Compiled CompileRules(const std::string& path, bool only_rulesets = false,
                      bool show_warnings = true);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_CLI_COMPILE_RULES_H_
