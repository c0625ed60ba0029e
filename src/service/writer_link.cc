// Forwarding a replica's stateful calls to the writer; see writer_link.h.
#include "src/service/writer_link.h"

#include <grpcpp/create_channel.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "leadroute/v1/replica.pb.h"
#include "src/wire/convert.h"
#include "src/wire/decision_writer.h"

namespace leadroute {

WriterLink::WriterLink() = default;

WriterLink::WriterLink(std::shared_ptr<grpc::ChannelCredentials> credentials,
                       const auth::Authorizer* auth, RouteGathering gathering)
    : replicated_(true),
      credentials_(std::move(credentials)),
      auth_(auth),
      gathering_(gathering) {}

WriterLink::~WriterLink() = default;

grpc::Status WriterLink::FromWriter(grpc::Status status) const {
  // A writer that stops (fenced by a new one, or shut down) cancels the
  // calls it was answering. The change may have been made or not; a retry
  // (by lead id, for a Route) is safe and finds it either way.
  if (status.error_code() == grpc::StatusCode::CANCELLED) {
    status = grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        absl::StrCat("the writer stopped while answering (",
                     status.error_message(),
                     "); retry: the change may have been made already"));
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      on_unreachable_ != nullptr) {
    on_unreachable_();
  }
  return status;
}

void WriterLink::SetWriter(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (address == writer_) return;
  writer_ = address;
  // A new writer may serve RouteMany where the last did not.
  no_route_many_.store(false, std::memory_order_relaxed);
  stub_ = address.empty() ? nullptr
                          : std::make_shared<grpc::GenericStub>(
                                grpc::CreateChannel(address, credentials_));
}

std::shared_ptr<grpc::GenericStub> WriterLink::Stub() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stub_;
}

bool WriterLink::Admit(
    const grpc::ServerContextBase& context, const auth::MethodRole& method,
    const Finish& refuse, std::shared_ptr<grpc::GenericStub>* stub,
    std::pair<std::string, std::string>* caller_metadata) const {
  auth::Caller caller;
  if (absl::Status refused = auth_->Check(context, method, &caller);
      !refused.ok()) {
    refuse(ToGrpcStatus(refused));
    return false;
  }
  *stub = Stub();
  if (*stub == nullptr) {
    refuse(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        "this replica is not the writer and no writer is known yet (one is "
        "being chosen); retry"));
    return false;
  }
  // Who the caller is, for the writer to check again: its token, or, for
  // one let in by its certificate, its name under this replica's identity.
  const auto& metadata = context.client_metadata();
  if (auto token = metadata.find("authorization"); token != metadata.end()) {
    *caller_metadata = {"authorization", std::string(token->second.data(),
                                                     token->second.size())};
  } else if (auth_->enabled()) {
    *caller_metadata = {auth::kOnBehalfOfKey, caller.name};
  }
  return true;
}

grpc::ServerUnaryReactor* WriterLink::Send(
    grpc::CallbackServerContext* context, const auth::MethodRole& method,
    grpc::ByteBuffer request, grpc::ByteBuffer* response,
    std::function<grpc::Status(const grpc::Status&)> done) const {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::shared_ptr<grpc::GenericStub> stub;
  std::pair<std::string, std::string> caller;
  // Through `done`, which frees what the call holds.
  if (!Admit(
          *context, method,
          [reactor, &done](const grpc::Status& s) { reactor->Finish(done(s)); },
          &stub, &caller)) {
    return reactor;
  }
  struct Call {
    grpc::ClientContext client;
    grpc::ByteBuffer request;
  };
  auto* call = new Call;
  call->request = std::move(request);
  call->client.set_deadline(context->deadline());
  if (!caller.first.empty()) {
    call->client.AddMetadata(caller.first, caller.second);
  }
  stub->UnaryCall(
      &call->client, std::string(method.method), grpc::StubOptions(),
      &call->request, response,
      [this, call, reactor, done = std::move(done)](grpc::Status s) {
        delete call;
        s = FromWriter(std::move(s));
        reactor->Finish(done(s));
      });
  return reactor;
}

struct WriterLink::Waiting {
  Finish finish;
  grpc::ByteBuffer* response;
  grpc::ByteBuffer request;  // the Route's bytes (shared, not copied)
  size_t bytes;
  std::chrono::system_clock::time_point deadline;
  std::shared_ptr<grpc::GenericStub> stub;
  std::pair<std::string, std::string> caller;  // metadata; may be empty
};

void WriterLink::ForwardRoute(const grpc::ServerContextBase& context,
                              const grpc::ByteBuffer& request,
                              grpc::ByteBuffer* response, Finish finish) {
  auto w = std::make_unique<Waiting>();
  if (!Admit(context, auth::kRoute, finish, &w->stub, &w->caller)) return;
  w->finish = std::move(finish);
  w->response = response;
  w->request = request;
  w->bytes = request.Length();
  w->deadline = context.deadline();
  {
    std::lock_guard<std::mutex> lock(waiting_mu_);
    waiting_.push_back(std::move(w));
  }
  SendWaiting();
}

void WriterLink::SendWaiting() {
  for (;;) {
    std::vector<std::unique_ptr<Waiting>> routes;
    {
      std::lock_guard<std::mutex> lock(waiting_mu_);
      if (waiting_.empty() || in_flight_ >= gathering_.in_flight) return;
      ++in_flight_;
      // The first waiting, and those of the same caller and stub behind it
      // (in the order they came), within the limits.
      routes.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
      const Waiting& first = *routes.front();
      size_t bytes = first.bytes;
      const bool many = !no_route_many_.load(std::memory_order_relaxed);
      for (auto it = waiting_.begin();
           many && it != waiting_.end() &&
           static_cast<int>(routes.size()) < gathering_.max_routes;) {
        Waiting& w = **it;
        if (w.caller != first.caller || w.stub != first.stub ||
            bytes + w.bytes > gathering_.max_bytes) {
          ++it;
          continue;
        }
        bytes += w.bytes;
        routes.push_back(std::move(*it));
        it = waiting_.erase(it);
      }
    }
    SendRoutes(std::move(routes));
  }
}

void WriterLink::Returned() {
  {
    std::lock_guard<std::mutex> lock(waiting_mu_);
    --in_flight_;
  }
  SendWaiting();
}

void WriterLink::SendRoutes(std::vector<std::unique_ptr<Waiting>> routes) {
  const Waiting& first = *routes.front();
  auto client = std::make_shared<grpc::ClientContext>();
  if (!first.caller.first.empty()) {
    client->AddMetadata(first.caller.first, first.caller.second);
  }
  std::shared_ptr<grpc::GenericStub> stub = first.stub;
  if (routes.size() == 1) {
    // Alone: on as it came.
    client->set_deadline(first.deadline);
    auto* w = routes.front().release();
    stub->UnaryCall(client.get(), std::string(auth::kRoute.method),
                    grpc::StubOptions(), &w->request, w->response,
                    [this, client, w](grpc::Status s) {
                      s = FromWriter(std::move(s));
                      w->finish(s);
                      delete w;
                      Returned();
                    });
    return;
  }
  // Together: the call may last until the last of their deadlines (each
  // client's own still ends its call on time).
  std::chrono::system_clock::time_point deadline = first.deadline;
  // A RouteManyRequest written straight from the Routes' bytes, each
  // copied once (RouteManyRequest.routes is field 1).
  std::string serialised;
  for (const std::unique_ptr<Waiting>& w : routes) {
    deadline = std::max(deadline, w->deadline);
    grpc::Slice slice;
    if (w->request.TrySingleSlice(&slice).ok() ||
        w->request.DumpToSingleSlice(&slice).ok()) {
      AppendField(
          1,
          absl::string_view(reinterpret_cast<const char*>(slice.begin()),
                            slice.size()),
          &serialised);
    } else {
      // A request gRPC cannot flatten (not seen): sent empty, the writer
      // refuses it as a Route without its lead.
      AppendField(1, "", &serialised);
    }
  }
  client->set_deadline(deadline);
  grpc::Slice slice(std::move(serialised));
  auto request = std::make_shared<grpc::ByteBuffer>(&slice, 1);
  auto answer = std::make_shared<grpc::ByteBuffer>();
  auto shared = std::make_shared<std::vector<std::unique_ptr<Waiting>>>(
      std::move(routes));
  gathered_calls_.fetch_add(1, std::memory_order_relaxed);
  gathered_routes_.fetch_add(shared->size(), std::memory_order_relaxed);
  stub->UnaryCall(
      client.get(), std::string(auth::kRouteMany.method), grpc::StubOptions(),
      request.get(), answer.get(),
      [this, client, request, answer, shared](grpc::Status s) {
        std::vector<std::unique_ptr<Waiting>>& routes = *shared;
        if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
          // A writer that predates RouteMany: each goes on alone, and so
          // do the next until the writer changes.
          no_route_many_.store(true, std::memory_order_relaxed);
          for (std::unique_ptr<Waiting>& w : routes) {
            {
              std::lock_guard<std::mutex> lock(waiting_mu_);
              ++in_flight_;
            }
            std::vector<std::unique_ptr<Waiting>> alone;
            alone.push_back(std::move(w));
            SendRoutes(std::move(alone));
          }
          Returned();
          return;
        }
        v1::RouteManyResponse many;
        grpc::Slice all;
        if (s.ok() &&
            (!answer->DumpToSingleSlice(&all).ok() ||
             !many.ParseFromArray(all.begin(), static_cast<int>(all.size())) ||
             many.results_size() != static_cast<int>(routes.size()))) {
          s = grpc::Status(grpc::StatusCode::INTERNAL,
                           "the writer's answer to RouteMany did not parse");
        }
        s = FromWriter(std::move(s));
        for (size_t i = 0; i < routes.size(); ++i) {
          Waiting& w = *routes[i];
          if (!s.ok()) {
            w.finish(s);
            continue;
          }
          v1::RouteManyResult& result =
              *many.mutable_results(static_cast<int>(i));
          if (result.code() == 0) {
            grpc::Slice bytes(std::move(*result.mutable_response()));
            *w.response = grpc::ByteBuffer(&bytes, 1);
            w.finish(grpc::Status::OK);
          } else {
            w.finish(grpc::Status(static_cast<grpc::StatusCode>(result.code()),
                                  result.message(), result.details()));
          }
        }
        routes.clear();
        Returned();
      });
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
