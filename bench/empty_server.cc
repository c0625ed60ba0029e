// The gRPC floor for the load generator: the LeadRouter service from the
// same proto, built with the same server options as `leadroute serve`, whose
// handlers answer at once with an empty response. Whatever leadroute does
// per call costs the difference between the two.
//
//   empty_server [--listen HOST:PORT]   logs "msg=listening addr=..." on
//                                       stderr; SIGTERM/SIGINT stop it
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "absl/synchronization/mutex.h"
#include "bench/arena_allocator.h"
#include "leadroute/v1/leadroute.grpc.pb.h"

namespace {

class EmptyRouter final : public leadroute::v1::LeadRouter::CallbackService {
 public:
  // Messages on arenas, as leadroute's service has them.
  EmptyRouter() {
    SetMessageAllocatorFor_Route(&route_messages_);
    SetMessageAllocatorFor_RouteBatch(&batch_messages_);
  }

 private:
  leadroute::ArenaAllocator<leadroute::v1::RouteRequest,
                            leadroute::v1::RouteResponse>
      route_messages_;
  leadroute::ArenaAllocator<leadroute::v1::RouteBatchRequest,
                            leadroute::v1::RouteBatchResponse>
      batch_messages_;

  grpc::ServerUnaryReactor* Route(grpc::CallbackServerContext* context,
                                  const leadroute::v1::RouteRequest*,
                                  leadroute::v1::RouteResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* RouteBatch(
      grpc::CallbackServerContext* context,
      const leadroute::v1::RouteBatchRequest*,
      leadroute::v1::RouteBatchResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--listen") == 0) listen = argv[++i];
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // As src/server/server.cc builds it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  EmptyRouter service;
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(16 << 20);
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "empty_server: cannot listen on %s\n", listen.c_str());
    return 2;
  }
  std::fprintf(stderr, "level=info msg=listening addr=127.0.0.1:%d\n", port);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server->Shutdown();
  return 0;
}
