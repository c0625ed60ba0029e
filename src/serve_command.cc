// `leadroute serve`: check the rules, start the gRPC server, run until
// SIGTERM/SIGINT.
#include <iostream>
#include <memory>

#include "compiler/compiler.h"
#include "runtime/fixed_policy.h"
#include "src/commands.h"
#include "src/log.h"
#include "src/server.h"

namespace leadroute {

int ServeCommand(const ServeFlags& flags) {
  ServerOptions options;
  options.listen = flags.listen;
  options.grace = absl::Seconds(flags.grace_seconds);
  if (!flags.rules.empty()) {
    absl::StatusOr<compiler::CheckResult> checked =
        compiler::Check(flags.rules);
    if (!checked.ok()) {
      LogError("cannot read rules",
               {{"path", flags.rules},
                {"error", std::string(checked.status().message())}});
      return kExitUsageOrIo;
    }
    for (const compiler::Diagnostic& d : checked->diagnostics.all()) {
      std::cerr << compiler::RenderText(checked->module->sources, d);
    }
    if (!checked->ok()) {
      LogError(
          "rules have errors; not serving",
          {{"path", flags.rules},
           {"errors", std::to_string(checked->diagnostics.error_count())}});
      return kExitRulesOrInput;
    }
    LogInfo("rules checked",
            {{"path", flags.rules},
             {"ruleset", checked->module->header->name.text},
             {"version", checked->module->header->version.text}});
  }
  // The rule compiler does not lower rules to decision trees yet; until it
  // does, decisions come from the built-in policy.
  LogInfo("policy",
          {{"ruleset", "builtin"}, {"note", "decision trees not built yet"}});
  return RunServer(options, std::make_shared<runtime::FixedPolicy>());
}

}  // namespace leadroute
