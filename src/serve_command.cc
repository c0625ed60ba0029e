// `leadroute serve`: check the rules, start the gRPC server, run until
// SIGTERM/SIGINT.
#include <memory>

#include "runtime/fixed_policy.h"
#include "src/commands.h"
#include "src/log.h"
#include "src/server.h"

namespace leadroute {

int ServeCommand(const ServeFlags& flags) {
  ServerOptions options;
  options.listen = flags.listen;
  options.grace = absl::Seconds(flags.grace_seconds);
  std::shared_ptr<const runtime::Policy> policy;
  if (flags.rules.empty()) {
    LogInfo("policy", {{"ruleset", "builtin"},
                       {"note", "no --rules: the built-in demo policy"}});
    policy = std::make_shared<runtime::FixedPolicy>();
  } else {
    int exit_code = kExitOk;
    policy = CompilePolicy(flags.rules, &exit_code);
    if (policy == nullptr) {
      LogError(exit_code == kExitUsageOrIo ? "cannot read rules"
                                           : "rules have errors; not serving",
               {{"path", flags.rules}});
      return exit_code;
    }
    LogInfo("rules compiled", {{"path", flags.rules}});
  }
  ReloadFn reload;
  if (!flags.rules.empty()) {
    reload = [path = flags.rules]() -> std::shared_ptr<const runtime::Policy> {
      int exit_code = kExitOk;
      std::shared_ptr<const runtime::Policy> next =
          CompilePolicy(path, &exit_code);
      if (next != nullptr) LogInfo("rules compiled", {{"path", path}});
      return next;
    };
  }
  return RunServer(options, std::move(policy), std::move(reload));
}

}  // namespace leadroute
