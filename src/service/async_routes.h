// AsyncRoutes: LeadRouter's Route on gRPC's async API, for a server with
// state; RouteBatch stays on the callback API (LeadRouterService).
//
// A durable Route is answered by the commit log's writer once its
// assignment is on disk (answer.h). On the callback API an answer given
// from a thread that is not gRPC's costs gRPC a hand-off to its own
// executor; on the async API it is queued where our threads poll anyway
// (docs/performance.md, "Route on the async API": about 5 µs of server CPU
// a durable Route). So here completion queues, each polled by a thread of our
// own, take each Route in, route it with LeadRouterService::RouteCall on that
// thread, and let it go once its answer has gone, whoever gave it.
//
// Use: construct before ServerBuilder::BuildAndStart (it registers itself
// and adds its queues), Start once the server runs, Stop once
// Server::Shutdown has returned (and the destructor stops too).
#ifndef LEADROUTE_SRC_SERVICE_ASYNC_ROUTES_H_
#define LEADROUTE_SRC_SERVICE_ASYNC_ROUTES_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "leadroute/v1/leadroute.grpc.pb.h"
#include "src/service/lead_router_service.h"

namespace leadroute {

using AsyncRoutesBase = v1::LeadRouter::WithRawMethod_Route<
    v1::LeadRouter::WithRawCallbackMethod_RouteBatch<v1::LeadRouter::Service>>;

class AsyncRoutes final : public AsyncRoutesBase {
 public:
  // Calls each queue keeps requested: Routes taken in without waiting for
  // a poller to ask for the next.
  static constexpr int kRequested = 64;

  // `router` routes and outlives this. `pollers` threads, each with its
  // queue.
  AsyncRoutes(LeadRouterService* router, grpc::ServerBuilder* builder,
              int pollers);
  ~AsyncRoutes() override;
  AsyncRoutes(const AsyncRoutes&) = delete;
  AsyncRoutes& operator=(const AsyncRoutes&) = delete;

  // One poller per core, two at least.
  static int DefaultPollers();

  // Starts polling; once, after BuildAndStart.
  void Start();
  // Waits until every Route taken in has been answered and let go, then
  // ends the queues and their threads. Call after Server::Shutdown; again
  // does nothing.
  void Stop();

  grpc::ServerUnaryReactor* RouteBatch(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override {
    return router_->RouteBatch(context, request, response);
  }

 private:
  // One Route call, its own tag on its queue: first for its arrival, then
  // (`arrived`) for its answer having gone.
  struct Call;
  void Request(grpc::ServerCompletionQueue* cq);
  void Poll(grpc::ServerCompletionQueue* cq);

  LeadRouterService* const router_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> pollers_;
  std::mutex mu_;
  std::condition_variable let_go_;
  // Under mu_: Stop has begun (nothing is requested after), and the calls
  // taken in and not yet let go.
  bool stopped_ = false;
  int64_t open_ = 0;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_ASYNC_ROUTES_H_
