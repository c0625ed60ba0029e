// WriterLink: where a call that needs the state is answered. On a single
// server, and on the replica that is the writer (issue 22: replicas
// sharing a PostgreSQL database, docs/deployment.md "Several replicas"),
// by this process's Assigner. On every other replica the call is
// forwarded to the writer as it came: its request bytes and its deadline,
// and the writer's answer, or its error, goes back as is.
//
// A follower lets the call in first, with the method's role, as the writer
// would: an unauthenticated caller never reaches the writer through it.
// The writer then checks again: a caller with a bearer token is forwarded
// with that token; one let in by its client certificate is forwarded over
// this replica's own TLS identity (its --tls-cert) with
// `leadroute-on-behalf-of: NAME`, which the writer accepts from a
// principal with role "replica" only (authorizer.h). So no caller ever
// gets a replica's roles, and the audit names the caller, not the replica.
//
// Route calls are gathered (ForwardRoute): while `RouteGathering::in_flight`
// forwarded calls are under way, the Route calls that come meanwhile wait,
// and go on together in one RouteMany (replica.proto) as soon as one
// returns; each gets its own answer or error back, as a forwarded Route
// would. Calls are gathered only with others of the same caller. So under
// load the writer receives a few calls carrying many Routes, not one call
// each; one at a time, a Route goes on as it came, at once.
//
// The Assigner is set once, when this replica becomes the writer, and
// never unset (a writer that is taken over stops: RouterServer), so a
// handler may read it at any time.
#ifndef LEADROUTE_SRC_SERVICE_WRITER_LINK_H_
#define LEADROUTE_SRC_SERVICE_WRITER_LINK_H_

#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/assigner.h"
#include "src/auth/authorizer.h"

namespace leadroute {

// How a follower gathers Route calls for the writer (WriterLink).
struct RouteGathering {
  // Forwarded Route calls under way before more wait to go together: two,
  // so that one slow call never holds up every Route of the replica
  // (docs/performance.md measured 1, 2, 4, 8 and 16).
  int in_flight = 2;
  // Routes one RouteMany carries at most, and their bytes.
  int max_routes = 100;
  size_t max_bytes = size_t{4} << 20;
};

class WriterLink {
 public:
  // A single server's: never forwards.
  WriterLink();
  // A replica's: forwards until SetAssigner, over channels made with
  // `credentials`, the calls `auth` lets in (it outlives the link).
  WriterLink(std::shared_ptr<grpc::ChannelCredentials> credentials,
             const auth::Authorizer* auth,
             RouteGathering gathering = RouteGathering());
  ~WriterLink();

  // Null until this process answers stateful calls itself (always on a
  // server without state).
  runtime::Assigner* assigner() const {
    return assigner_.load(std::memory_order_acquire);
  }
  // Once: this process answers from now on.
  void SetAssigner(runtime::Assigner* assigner) {
    assigner_.store(assigner, std::memory_order_release);
  }
  // Whether this process is one of several replicas.
  bool replicated() const { return replicated_; }
  // Whether stateful calls are forwarded: a replica that is not the writer.
  bool forwarding() const { return replicated_ && assigner() == nullptr; }

  // Where WatchAssignments reads: the Assigner once there is one, else a
  // follower's tail of the shared database (set before serving, outliving
  // the link's calls); null on a server without state.
  void SetFollowerFeed(runtime::EventFeed* feed) { follower_feed_ = feed; }
  runtime::EventFeed* feed() const {
    runtime::Assigner* a = assigner();
    return a != nullptr ? a : follower_feed_;
  }

  // Where the writer answers (host:port; empty: unknown, calls fail
  // UNAVAILABLE).
  void SetWriter(const std::string& address);
  // Called (quickly, on a gRPC thread) when the writer could not be
  // reached, so that where it is gets read again at once: a new writer may
  // have taken over. Set before the first call.
  void OnWriterUnreachable(std::function<void()> hook) {
    on_unreachable_ = std::move(hook);
  }

  // Lets the call to `method` in and forwards it with `request`'s bytes;
  // `response` gets the writer's answer's bytes.
  grpc::ServerUnaryReactor* Forward(grpc::CallbackServerContext* context,
                                    const auth::MethodRole& method,
                                    const grpc::ByteBuffer& request,
                                    grpc::ByteBuffer* response) const;
  // Ends a call with its status, once (the answer set before, when OK).
  using Finish = std::function<void(const grpc::Status&)>;
  // Forward for Route, on either of gRPC's APIs: lets the call in, and
  // sends it on alone, or with others of the same caller that wait
  // meanwhile (see above); `response` gets the writer's answer, then
  // `finish` is called, on this thread or a gRPC one.
  void ForwardRoute(const grpc::ServerContextBase& context,
                    const grpc::ByteBuffer& request, grpc::ByteBuffer* response,
                    Finish finish);
  // RouteMany calls made, and the Routes they carried, since start.
  uint64_t gathered_calls() const { return gathered_calls_.load(); }
  uint64_t gathered_routes() const { return gathered_routes_.load(); }

  // The same for a handler given messages.
  grpc::ServerUnaryReactor* Forward(grpc::CallbackServerContext* context,
                                    const auth::MethodRole& method,
                                    const google::protobuf::Message& request,
                                    google::protobuf::Message* response) const;

 private:
  // The stub to the writer, or null when it is unknown.
  std::shared_ptr<grpc::GenericStub> Stub() const;
  // Sends `request` and finishes the call with what `done` makes of the
  // answer's status (called exactly once, the call unsent too).
  grpc::ServerUnaryReactor* Send(
      grpc::CallbackServerContext* context, const auth::MethodRole& method,
      grpc::ByteBuffer request, grpc::ByteBuffer* response,
      std::function<grpc::Status(const grpc::Status&)> done) const;
  // Lets the call to `method` in; on refusal, or with no writer known,
  // ends it with `refuse` and returns false. Else sets the stub and the
  // metadata naming the caller to the writer.
  bool Admit(const grpc::ServerContextBase& context,
             const auth::MethodRole& method, const Finish& refuse,
             std::shared_ptr<grpc::GenericStub>* stub,
             std::pair<std::string, std::string>* caller) const;

  // A Route call let in, waiting to go to the writer.
  struct Waiting;
  // Sends waiting Route calls while fewer than `in_flight` are under way:
  // the first waiting, with those of the same caller behind it.
  void SendWaiting();
  // Sends `routes` (one or more, the same caller's) in one call.
  void SendRoutes(std::vector<std::unique_ptr<Waiting>> routes);
  // One forwarded call is done: the next may go.
  void Returned();
  // A forwarded call's status as the follower's caller hears it: a writer
  // that stopped while answering (CANCELLED, which the caller never asked
  // for) is UNAVAILABLE, as an unreachable one is; either says so
  // (on_unreachable_).
  grpc::Status FromWriter(grpc::Status status) const;

  const bool replicated_ = false;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const auth::Authorizer* const auth_ = nullptr;
  std::atomic<runtime::Assigner*> assigner_{nullptr};
  runtime::EventFeed* follower_feed_ = nullptr;
  mutable std::mutex mu_;
  std::string writer_;
  std::shared_ptr<grpc::GenericStub> stub_;
  std::function<void()> on_unreachable_;

  const RouteGathering gathering_;
  std::mutex waiting_mu_;
  std::deque<std::unique_ptr<Waiting>> waiting_;
  int in_flight_ = 0;  // forwarded Route and RouteMany calls under way
  // Set when the writer does not serve RouteMany (an older version, in a
  // rolling upgrade): Routes go on one by one until the writer changes.
  std::atomic<bool> no_route_many_{false};
  std::atomic<uint64_t> gathered_calls_{0};
  std::atomic<uint64_t> gathered_routes_{0};
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_WRITER_LINK_H_
