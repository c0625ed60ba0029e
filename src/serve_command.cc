// `leadroute serve`: start the gRPC server and run until SIGTERM/SIGINT.
#include <filesystem>
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
  if (!flags.rules.empty() && !std::filesystem::exists(flags.rules)) {
    LogError("rules not found", {{"path", flags.rules}});
    return kExitUsageOrIo;
  }
  LogInfo("policy", {{"ruleset", "builtin"},
                     {"note", "rule compiler not built yet; --rules unused"}});
  return RunServer(options, std::make_shared<runtime::FixedPolicy>());
}

}  // namespace leadroute
