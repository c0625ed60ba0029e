// Route on gRPC's async API; see the header.
#include "src/service/async_routes.h"

#include <algorithm>
#include <utility>

namespace leadroute {

struct AsyncRoutes::Call {
  grpc::ServerContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  grpc::ServerAsyncResponseWriter<grpc::ByteBuffer> responder{&context};
  bool arrived = false;
};

AsyncRoutes::AsyncRoutes(LeadRouterService* router,
                         grpc::ServerBuilder* builder, int pollers)
    : router_(router) {
  builder->RegisterService(this);
  for (int i = 0; i < std::max(1, pollers); ++i) {
    queues_.push_back(builder->AddCompletionQueue());
  }
}

AsyncRoutes::~AsyncRoutes() { Stop(); }

int AsyncRoutes::DefaultPollers() {
  return std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
}

void AsyncRoutes::Start() {
  // Requested here, not by the pollers: a Stop right after Start must not
  // find a queue ended under a poller about to request.
  for (auto& queue : queues_) {
    for (int i = 0; i < kRequested; ++i) Request(queue.get());
  }
  for (auto& queue : queues_) {
    pollers_.emplace_back([this, cq = queue.get()] { Poll(cq); });
  }
}

void AsyncRoutes::Request(grpc::ServerCompletionQueue* cq) {
  auto* call = new Call;
  RequestRoute(&call->context, &call->request, &call->responder, cq, cq, call);
}

void AsyncRoutes::Poll(grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    auto* call = static_cast<Call*>(tag);
    if (call->arrived) {
      // Answered (or, `!ok`, ended by the client or a shutdown first).
      delete call;
      std::lock_guard<std::mutex> lock(mu_);
      if (--open_ == 0) let_go_.notify_all();
      continue;
    }
    if (!ok) {
      // The server shuts down: a request no call will take.
      delete call;
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) {
        // Come in as the server stopped, which has cancelled it: let go
        // unanswered, and nothing more requested of an ending queue.
        delete call;
        continue;
      }
      ++open_;
      Request(cq);
    }
    call->arrived = true;
    router_->RouteCall(call->context, call->request, &call->response,
                       [call](const grpc::Status& status) {
                         call->responder.Finish(call->response, status, call);
                       });
  }
}

void AsyncRoutes::Stop() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    // Every answer given before the queues end: a Finish after would be
    // an error. The commit log answers each waiting call, or fails it.
    let_go_.wait(lock, [&] { return open_ == 0; });
  }
  for (auto& queue : queues_) queue->Shutdown();
  for (std::thread& t : pollers_) t.join();
  if (pollers_.empty()) {
    // Never started (the server did not), so nothing was requested; gRPC
    // still wants each queue drained before it goes.
    void* tag = nullptr;
    bool ok = false;
    for (auto& queue : queues_) {
      while (queue->Next(&tag, &ok)) {
      }
    }
  }
}

}  // namespace leadroute
