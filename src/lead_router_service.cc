// Route and RouteBatch as unary callback handlers; see the header.
#include "src/lead_router_service.h"

#include "absl/time/clock.h"
#include "runtime/lead_error.h"
#include "runtime/status_macros.h"
#include "src/convert.h"

namespace leadroute {
namespace {

absl::StatusOr<runtime::Decision> RouteOne(const runtime::Policy& policy,
                                           const v1::Lead& proto_lead,
                                           const runtime::DecideOptions& opts) {
  ASSIGN_OR_RETURN(runtime::Lead lead, LeadFromProto(proto_lead));
  return policy.Decide(lead, opts);
}

}  // namespace

grpc::ServerUnaryReactor* LeadRouterService::Route(
    grpc::CallbackServerContext* context, const v1::RouteRequest* request,
    v1::RouteResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status;
  absl::string_view field_prefix;  // lead errors name fields in the lead
  if (!request->has_lead()) {
    status = runtime::InvalidLeadField("lead", "required");
  } else if (absl::StatusOr<runtime::DecideOptions> opts =
                 OptionsFromProto(request->options(), absl::Now());
             !opts.ok()) {
    status = opts.status();
  } else if (absl::StatusOr<runtime::Decision> decision =
                 RouteOne(*policy_.load(), request->lead(), *opts);
             !decision.ok()) {
    status = decision.status();
    field_prefix = "lead.";
  } else {
    DecisionToProto(*decision, response->mutable_decision());
  }
  reactor->Finish(ToGrpcStatus(status, field_prefix));
  return reactor;
}

grpc::ServerUnaryReactor* LeadRouterService::RouteBatch(
    grpc::CallbackServerContext* context, const v1::RouteBatchRequest* request,
    v1::RouteBatchResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<runtime::DecideOptions> opts =
      OptionsFromProto(request->options(), absl::Now());
  if (!opts.ok()) {
    reactor->Finish(ToGrpcStatus(opts.status()));
    return reactor;
  }
  // One policy for the whole batch, even if a reload happens meanwhile.
  const std::shared_ptr<const runtime::Policy> policy = policy_.load();
  response->mutable_results()->Reserve(request->leads_size());
  for (const v1::Lead& lead : request->leads()) {
    v1::RouteResult* result = response->add_results();
    absl::StatusOr<runtime::Decision> decision = RouteOne(*policy, lead, *opts);
    if (decision.ok()) {
      DecisionToProto(*decision, result->mutable_decision());
    } else {
      ErrorToProto(decision.status(), lead.id(), result->mutable_error());
    }
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace leadroute
