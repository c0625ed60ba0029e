// Forwarding a replica's stateful calls to the writer; see writer_link.h.
#include "src/service/writer_link.h"

#include <grpcpp/create_channel.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/wire/convert.h"

namespace leadroute {

void WriterLink::SetWriter(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (address == writer_) return;
  writer_ = address;
  stub_ = address.empty() ? nullptr
                          : std::make_shared<grpc::GenericStub>(
                                grpc::CreateChannel(address, credentials_));
}

std::shared_ptr<grpc::GenericStub> WriterLink::Stub() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stub_;
}

grpc::ServerUnaryReactor* WriterLink::Send(
    grpc::CallbackServerContext* context, const auth::MethodRole& method,
    grpc::ByteBuffer request, grpc::ByteBuffer* response,
    std::function<grpc::Status(const grpc::Status&)> done) const {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auth::Caller caller;
  if (absl::Status refused = auth_->Check(*context, method, &caller);
      !refused.ok()) {
    reactor->Finish(done(ToGrpcStatus(refused)));
    return reactor;
  }
  std::shared_ptr<grpc::GenericStub> stub = Stub();
  if (stub == nullptr) {
    // Through `done`, which frees what the call holds.
    reactor->Finish(done(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        "this replica is not the writer and no writer is known yet (one is "
        "being chosen); retry")));
    return reactor;
  }
  struct Call {
    grpc::ClientContext client;
    grpc::ByteBuffer request;
  };
  auto* call = new Call;
  call->request = std::move(request);
  call->client.set_deadline(context->deadline());
  // Who the caller is, for the writer to check again: its token, or, for
  // one let in by its certificate, its name under this replica's identity.
  const auto& metadata = context->client_metadata();
  if (auto token = metadata.find("authorization"); token != metadata.end()) {
    call->client.AddMetadata(
        "authorization",
        std::string(token->second.data(), token->second.size()));
  } else if (auth_->enabled()) {
    call->client.AddMetadata(auth::kOnBehalfOfKey, caller.name);
  }
  stub->UnaryCall(
      &call->client, std::string(method.method), grpc::StubOptions(),
      &call->request, response,
      [this, call, reactor, done = std::move(done)](grpc::Status s) {
        delete call;
        if (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
            on_unreachable_ != nullptr) {
          on_unreachable_();
        }
        reactor->Finish(done(s));
      });
  return reactor;
}

grpc::ServerUnaryReactor* WriterLink::Forward(
    grpc::CallbackServerContext* context, const auth::MethodRole& method,
    const grpc::ByteBuffer& request, grpc::ByteBuffer* response) const {
  return Send(context, method, request, response,
              [](const grpc::Status& s) { return s; });
}

grpc::ServerUnaryReactor* WriterLink::Forward(
    grpc::CallbackServerContext* context, const auth::MethodRole& method,
    const google::protobuf::Message& request,
    google::protobuf::Message* response) const {
  std::string bytes = request.SerializeAsString();
  grpc::Slice slice(std::move(bytes));
  auto* answer = new grpc::ByteBuffer;
  return Send(context, method, grpc::ByteBuffer(&slice, 1), answer,
              [answer, response](const grpc::Status& s) {
                grpc::Status out = s;
                if (s.ok()) {
                  grpc::Slice all;
                  if (!answer->DumpToSingleSlice(&all).ok() ||
                      !response->ParseFromArray(all.begin(),
                                                static_cast<int>(all.size()))) {
                    out = grpc::Status(grpc::StatusCode::INTERNAL,
                                       "the writer's answer did not parse");
                  }
                }
                delete answer;
                return out;
              });
}

}  // namespace leadroute
