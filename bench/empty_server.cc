// The gRPC floor for the load generator: the LeadRouter service from the
// same proto, built with the same server options as `leadroute serve`, whose
// handlers answer at once with an empty response. Whatever leadroute does
// per call costs the difference between the two.
//
//   empty_server [--listen HOST:PORT] [--finish MODE]
//       logs "msg=listening addr=..." on stderr; SIGTERM/SIGINT stop it
//
// --finish says who answers a Route, to measure what a durable server's way
// of answering costs gRPC (docs/performance.md, "Answering from another
// thread"):
//   inline        the handler, at once (the default; leadroute's stateless
//                 Route)
//   thread        a thread of our own, in batches, as the commit log's
//                 writer answers durable calls (runtime/commit_log.h)
//   async-inline  the async API: completion queues polled by two threads of
//                 our own, which answer at once
//   async-thread  the async API, answered in batches by a thread of our own
// The async modes serve Route only (load_gen's Route scenarios).
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "bench/arena_allocator.h"
#include "leadroute/v1/leadroute.grpc.pb.h"

namespace {

// A thread that runs what it is given in batches: all that was added while
// it ran the last batch, as the commit log's writer answers the calls of
// one commit.
class Finisher {
 public:
  Finisher() : thread_([this] { Loop(); }) {}
  ~Finisher() { Stop(); }

  // Runs `f` on the thread, or at once once Stop has run.
  void Add(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_) {
        pending_.push_back(std::move(f));
        if (pending_.size() == 1) cv_.notify_one();
        return;
      }
    }
    f();
  }

  // Runs everything added so far and ends the thread.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    std::vector<std::function<void()>> batch;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
        if (pending_.empty()) return;
        batch.swap(pending_);
      }
      for (auto& f : batch) f();
      batch.clear();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::function<void()>> pending_;
  std::thread thread_;
};
Finisher* g_finisher = nullptr;

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
    if (g_finisher != nullptr) {
      g_finisher->Add([reactor] { reactor->Finish(grpc::Status::OK); });
      return reactor;
    }
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

// One Route call on the async API, its own completion tag: first for its
// arrival, then (`finishing`) for its answer having gone.
struct AsyncCall {
  grpc::ServerContext context;
  leadroute::v1::RouteRequest request;
  leadroute::v1::RouteResponse response;
  grpc::ServerAsyncResponseWriter<leadroute::v1::RouteResponse> responder{
      &context};
  bool finishing = false;
};

// Polls `cq` until it shuts down, keeping 64 calls requested; each call that
// arrives is answered at once or, `on_thread`, by g_finisher.
void AsyncLoop(leadroute::v1::LeadRouter::AsyncService* service,
               grpc::ServerCompletionQueue* cq, bool on_thread) {
  auto request = [&] {
    auto* call = new AsyncCall;
    service->RequestRoute(&call->context, &call->request, &call->responder, cq,
                          cq, call);
  };
  for (int i = 0; i < 64; ++i) request();
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) {
    auto* call = static_cast<AsyncCall*>(tag);
    if (call->finishing || !ok) {
      delete call;
      continue;
    }
    request();
    call->finishing = true;
    if (on_thread) {
      g_finisher->Add([call] {
        call->responder.Finish(call->response, grpc::Status::OK, call);
      });
    } else {
      call->responder.Finish(call->response, grpc::Status::OK, call);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::string finish = "inline";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--listen") == 0) listen = argv[++i];
    if (std::strcmp(argv[i], "--finish") == 0) finish = argv[++i];
  }
  if (finish != "inline" && finish != "thread" && finish != "async-inline" &&
      finish != "async-thread") {
    std::fprintf(stderr,
                 "empty_server: --finish is inline, thread, async-inline or "
                 "async-thread, not %s\n",
                 finish.c_str());
    return 2;
  }
  const bool async = finish.rfind("async", 0) == 0;
  std::unique_ptr<Finisher> finisher;
  if (finish == "thread" || finish == "async-thread") {
    finisher = std::make_unique<Finisher>();
    g_finisher = finisher.get();
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
  leadroute::v1::LeadRouter::AsyncService async_service;
  grpc::ServerBuilder builder;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs;
  if (async) {
    for (int i = 0; i < 2; ++i) cqs.push_back(builder.AddCompletionQueue());
  }
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(16 << 20);
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  if (async) {
    builder.RegisterService(&async_service);
  } else {
    builder.RegisterService(&service);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "empty_server: cannot listen on %s\n", listen.c_str());
    return 2;
  }
  std::vector<std::thread> pollers;
  for (auto& cq : cqs) {
    pollers.emplace_back(AsyncLoop, &async_service, cq.get(),
                         finish == "async-thread");
  }
  std::fprintf(stderr, "level=info msg=listening addr=127.0.0.1:%d\n", port);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server->Shutdown();
  // Every answer handed to the finisher given before the queues end; any
  // later one is given by the poller that hands it.
  if (finisher != nullptr) finisher->Stop();
  for (auto& cq : cqs) cq->Shutdown();
  for (auto& t : pollers) t.join();
  return 0;
}
