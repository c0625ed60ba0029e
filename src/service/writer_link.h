// WriterLink: where a call that needs the state is answered. On a single
// server, and on the replica that is the writer (issue 22: replicas
// sharing a PostgreSQL database, docs/deployment.md "Several replicas"),
// by this process's Assigner. On every other replica the call is
// forwarded to the writer as it came: its request bytes, the caller's
// credentials (the `authorization` header) and its deadline, and the
// writer's answer, or its error, goes back as is. The writer checks the
// caller as it checks any; a follower adds nothing and decides nothing.
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
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/assigner.h"

namespace leadroute {

class WriterLink {
 public:
  // A single server's: never forwards.
  WriterLink() = default;
  // A replica's: forwards until SetAssigner, over channels made with
  // `credentials`.
  explicit WriterLink(std::shared_ptr<grpc::ChannelCredentials> credentials)
      : replicated_(true), credentials_(std::move(credentials)) {}

  // Null until this process answers stateful calls itself (always on a
  // server without state).
  runtime::Assigner* assigner() const {
    return assigner_.load(std::memory_order_acquire);
  }
  // Once: this process answers from now on.
  void SetAssigner(runtime::Assigner* assigner) {
    assigner_.store(assigner, std::memory_order_release);
  }
  // Whether stateful calls are forwarded: a replica that is not the writer.
  bool forwarding() const { return replicated_ && assigner() == nullptr; }

  // Where the writer answers (host:port; empty: unknown, calls fail
  // UNAVAILABLE).
  void SetWriter(const std::string& address);
  std::string writer() const;
  // Called (quickly, on a gRPC thread) when the writer could not be
  // reached, so that where it is gets read again at once: a new writer may
  // have taken over. Set before the first call.
  void OnWriterUnreachable(std::function<void()> hook) {
    on_unreachable_ = std::move(hook);
  }

  // Forwards the call `method` ("/leadroute.v1.Assignments/Reassign") with
  // `request`'s bytes; `response` gets the writer's answer's bytes.
  grpc::ServerUnaryReactor* Forward(grpc::CallbackServerContext* context,
                                    const char* method,
                                    const grpc::ByteBuffer& request,
                                    grpc::ByteBuffer* response) const;
  // The same for a handler given messages.
  grpc::ServerUnaryReactor* Forward(grpc::CallbackServerContext* context,
                                    const char* method,
                                    const google::protobuf::Message& request,
                                    google::protobuf::Message* response) const;

 private:
  // The stub to the writer, or null when it is unknown.
  std::shared_ptr<grpc::GenericStub> Stub() const;
  // Sends `request` and finishes the call with what `done` makes of the
  // answer's status (called exactly once, the call unsent too).
  grpc::ServerUnaryReactor* Send(
      grpc::CallbackServerContext* context, const char* method,
      grpc::ByteBuffer request, grpc::ByteBuffer* response,
      std::function<grpc::Status(const grpc::Status&)> done) const;

  const bool replicated_ = false;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::atomic<runtime::Assigner*> assigner_{nullptr};
  mutable std::mutex mu_;
  std::string writer_;
  std::shared_ptr<grpc::GenericStub> stub_;
  std::function<void()> on_unreachable_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_WRITER_LINK_H_
