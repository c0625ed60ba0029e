// LeadRouterService: the gRPC adapter for leadroute.v1.LeadRouter (on a
// server with state, AsyncRoutes serves its Route on gRPC's async API:
// async_routes.h) and, through WriterService, leadroute.v1.Writer's
// RouteMany (several Route calls a follower sends the writer at once, each
// routed as Route). It
// checks the request against the service's limits, reads each lead with
// LeadReader (src/wire/lead_reader.h), binds it to a compiled ruleset's slots
// (or asks any other Policy), counts and logs the decision, and writes it back;
// it owns no routing logic. Each call takes the live ruleset once, at its
// start (a whole batch included), and finishes on it, so a reload never
// splits a call.
#ifndef LEADROUTE_SRC_SERVICE_LEAD_ROUTER_SERVICE_H_
#define LEADROUTE_SRC_SERVICE_LEAD_ROUTER_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "leadroute/v1/leadroute.grpc.pb.h"
#include "leadroute/v1/replica.grpc.pb.h"
#include "runtime/assigner.h"
#include "src/auth/authorizer.h"
#include "src/service/decision_ids.h"
#include "src/service/decision_log.h"
#include "src/service/lead_attributes.h"
#include "src/service/metrics.h"
#include "src/service/ruleset_registry.h"
#include "src/service/shadow.h"
#include "src/service/writer_link.h"

namespace leadroute {

struct ServiceLimits {
  int max_batch_leads = 10000;       // more: INVALID_ARGUMENT, "leads"
  size_t max_lead_bytes = 64 << 10;  // per lead; see LeadFromProto
  // Leads of one RouteBatch that ask for explain or why_not: each carries
  // its explanation back, many times the lead's own size.
  int max_explained_leads = 1000;
  // Bytes of one answer (--max-response-bytes): a RouteBatch whose answer
  // grows past it stops there with RESOURCE_EXHAUSTED, a ListLeads page
  // ends early, and gRPC refuses to send any larger message.
  size_t max_response_bytes = 32 << 20;
  // Names in options.why_not, and the bytes of each (fixed: a rule's name
  // is never longer).
  static constexpr int kMaxWhyNot = 16;
  static constexpr size_t kMaxRuleNameBytes = 256;
};

// Route and RouteBatch are raw methods: they read the request's bytes with
// LeadReader (src/wire/lead_reader.h) instead of having gRPC parse it into
// protobuf maps first, which cost more than routing the leads, and write
// the answer's bytes themselves (src/wire/decision_writer.h). So a lead has
// one form from the wire to the decision: its bytes, read once into the
// program's slots.
using LeadRouterBase = v1::LeadRouter::WithRawCallbackMethod_Route<
    v1::LeadRouter::WithRawCallbackMethod_RouteBatch<v1::LeadRouter::Service>>;

class LeadRouterService final : public LeadRouterBase {
 public:
  // `registry` and `metrics` must outlive the service; `log` may be null
  // (no decision log) or must outlive it too, and so must `link` (its
  // Assigner null: no state, a team is the owner; else a rep is picked and
  // every call is answered once its assignments are durable; on a replica
  // that is not the writer, every call is forwarded to it).
  // `auth` lets calls in and must outlive the service too.
  // `shadow` (may be null) is offered every lead routed, after its
  // decision (shadow.h).
  // `kept` says what of a lead's attributes the state store keeps for
  // replay (Assignment::logged), and outlives the service too.
  LeadRouterService(const RulesetRegistry* registry, ServerMetrics* metrics,
                    DecisionLog* log, const LeadAttributes* kept,
                    ServiceLimits limits, WriterLink* link,
                    const auth::Authorizer* auth, Shadow* shadow = nullptr)
      : registry_(registry),
        metrics_(metrics),
        log_(log),
        kept_(kept),
        limits_(limits),
        link_(link),
        auth_(auth),
        shadow_(shadow) {}

  // A serialised leadroute.v1.RouteRequest in, a serialised RouteResponse
  // out: RouteCall on the callback API (a server without state).
  grpc::ServerUnaryReactor* Route(grpc::CallbackServerContext* context,
                                  const grpc::ByteBuffer* request,
                                  grpc::ByteBuffer* response) override;

  // Route on either of gRPC's APIs (AsyncRoutes serves it on the async one
  // where there is state): sets `*response` and calls `finish`, once; here,
  // or, when the call waits for its assignment to be durable, on the
  // commit log's writer, or, forwarded, on a gRPC thread.
  void RouteCall(const grpc::ServerContextBase& context,
                 const grpc::ByteBuffer& request, grpc::ByteBuffer* response,
                 WriterLink::Finish finish);

  // A serialised leadroute.v1.RouteBatchRequest in, a serialised
  // RouteBatchResponse out.
  grpc::ServerUnaryReactor* RouteBatch(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;

  // leadroute.v1.Writer's RouteMany (replica.proto, served by WriterService
  // below): each of a follower's Route calls routed as Route routes it, with
  // its own answer or error; answered once all are durable.
  grpc::ServerUnaryReactor* RouteMany(grpc::CallbackServerContext* context,
                                      const v1::RouteManyRequest* request,
                                      v1::RouteManyResponse* response);

 private:
  // What routing one call's leads shares: the ruleset taken at its start
  // and the memory reused from lead to lead.
  struct CallState;

  // Routes the lead whose serialised bytes are `lead`; counts and logs it.
  // `id` is the number of its decision id in `call.ids`; the id it got is
  // `call.decision_id`. With an Assigner, raises `*durable` to the change
  // number to wait for before answering.
  absl::StatusOr<runtime::Decision> RouteOne(CallState& call,
                                             absl::string_view lead,
                                             uint64_t id, uint64_t* durable);
  // Routes `request`, a serialised RouteRequest, for a caller who may see
  // repeats or not: appends a serialised RouteResponse to `answer`, raises
  // `*durable` as RouteOne does, and sets the prefix the lead's field errors
  // take ("lead.").
  absl::Status RouteSerialised(absl::string_view request, bool sees_repeats,
                               std::string* answer, uint64_t* durable,
                               absl::string_view* field_prefix);
  // What AnswerWhenDurable runs as a call ends: counts it as `method`,
  // started at `start`, and clears `response` unless it succeeded.
  template <typename Response>
  auto Settle(ServerMetrics::Method method, int64_t start, Response* response) {
    return [this, method, start, response](const absl::Status& s) {
      if (!s.ok()) response->Clear();
      metrics_->CountCall(method, static_cast<int>(s.code()),
                          MonotonicNanos() - start);
    };
  }

  const RulesetRegistry* registry_;
  ServerMetrics* metrics_;
  DecisionLog* log_;
  const LeadAttributes* kept_;
  const ServiceLimits limits_;
  WriterLink* const link_;
  const auth::Authorizer* const auth_;
  Shadow* const shadow_;
  DecisionIds ids_;
};

// leadroute.v1.Writer, the calls replicas make on the writer: served beside
// LeadRouter by the same routing.
class WriterService final : public v1::Writer::CallbackService {
 public:
  // `router` must outlive the service.
  explicit WriterService(LeadRouterService* router) : router_(router) {}

  grpc::ServerUnaryReactor* RouteMany(
      grpc::CallbackServerContext* context, const v1::RouteManyRequest* request,
      v1::RouteManyResponse* response) override {
    return router_->RouteMany(context, request, response);
  }

 private:
  LeadRouterService* const router_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_LEAD_ROUTER_SERVICE_H_
