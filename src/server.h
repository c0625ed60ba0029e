// RouterServer: a running gRPC server with the LeadRouter service, the
// standard health service and reflection. RunServer() is what `leadroute
// serve` calls: start, wait for SIGTERM/SIGINT, drain, return.
#ifndef LEADROUTE_SRC_SERVER_H_
#define LEADROUTE_SRC_SERVER_H_

#include <grpcpp/server.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/policy.h"
#include "src/lead_router_service.h"

namespace leadroute {

struct ServerOptions {
  // host:port; port 0 picks a free one (see RouterServer::address()).
  std::string listen = "127.0.0.1:50051";
  // How long in-flight calls may run on after a stop is requested.
  absl::Duration grace = absl::Seconds(10);
};

class RouterServer {
 public:
  static absl::StatusOr<std::unique_ptr<RouterServer>> Start(
      const ServerOptions& options,
      std::shared_ptr<const runtime::Policy> policy);

  ~RouterServer();

  // The address actually bound, with the chosen port, e.g. 127.0.0.1:43017.
  const std::string& address() const { return address_; }
  int port() const { return port_; }

  // Routes every call that starts from now on with `policy`; see
  // LeadRouterService::SetPolicy.
  void SetPolicy(std::shared_ptr<const runtime::Policy> policy) {
    service_->SetPolicy(std::move(policy));
  }

  // Stops accepting calls, reports NOT_SERVING, lets in-flight calls finish
  // until `grace` has passed, then cancels what is left. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  RouterServer(std::unique_ptr<LeadRouterService> service)
      : service_(std::move(service)) {}

  std::unique_ptr<LeadRouterService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  int port_ = 0;
  bool stopped_ = false;
};

// Compiles the rules again for a reload: the new policy, or null (after
// reporting why) to keep the running one.
using ReloadFn = std::function<std::shared_ptr<const runtime::Policy>()>;

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (call it before
// any other thread starts, so they inherit the mask), starts the server,
// logs the address, and waits for signals: SIGHUP reloads through `reload`
// (when given) off the request path, SIGINT/SIGTERM drain and return the
// process exit code.
int RunServer(const ServerOptions& options,
              std::shared_ptr<const runtime::Policy> policy,
              ReloadFn reload = nullptr);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_H_
