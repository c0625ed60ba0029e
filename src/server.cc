// Server lifecycle; see server.h.
#include "src/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "src/log.h"

namespace leadroute {
namespace {

constexpr char kServiceName[] = "leadroute.v1.LeadRouter";

// "host:port" with the port replaced by the one actually bound.
std::string BoundAddress(const std::string& listen, int port) {
  size_t colon = listen.rfind(':');
  std::string host =
      colon == std::string::npos ? listen : listen.substr(0, colon);
  return absl::StrCat(host, ":", port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RouterServer>> RouterServer::Start(
    const ServerOptions& options,
    std::shared_ptr<const runtime::Policy> policy) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<RouterServer> server(
      new RouterServer(std::make_unique<LeadRouterService>(std::move(policy))));
  grpc::ServerBuilder builder;
  // gRPC turns on SO_REUSEPORT by default; a second server on a busy port
  // must fail loudly instead of silently sharing its traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use, or not a host:port?)"));
  }
  server->address_ = BoundAddress(options.listen, server->port_);
  server->server_->GetHealthCheckService()->SetServingStatus(kServiceName,
                                                             true);
  return server;
}

RouterServer::~RouterServer() { Shutdown(absl::ZeroDuration()); }

void RouterServer::Shutdown(absl::Duration grace) {
  if (stopped_ || server_ == nullptr) return;
  stopped_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

int RunServer(const ServerOptions& options,
              std::shared_ptr<const runtime::Policy> policy, ReloadFn reload) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<RouterServer>> server =
      RouterServer::Start(options, std::move(policy));
  if (!server.ok()) {
    LogError("cannot start server",
             {{"error", std::string(server.status().message())}});
    return 2;
  }
  LogInfo("listening", {{"addr", (*server)->address()}});

  int signal_number = 0;
  while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGHUP) {
    if (reload == nullptr) {
      LogInfo("reload ignored", {{"reason", "no --rules to reload"}});
      continue;
    }
    // Compiled here, in the signal thread: calls keep being answered by the
    // running rules until the new ones are ready.
    if (std::shared_ptr<const runtime::Policy> next = reload()) {
      (*server)->SetPolicy(std::move(next));
      LogInfo("reloaded");
    } else {
      LogError("reload failed; still serving the previous rules");
    }
  }
  LogInfo("stopping", {{"signal", strsignal(signal_number)},
                       {"grace", absl::FormatDuration(options.grace)}});
  (*server)->Shutdown(options.grace);
  LogInfo("stopped");
  return 0;
}

}  // namespace leadroute
