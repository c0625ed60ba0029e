// LeadRouterService: the gRPC adapter for leadroute.v1.LeadRouter. It
// converts the wire request, asks the Policy, and converts back; it owns no
// routing logic. The Policy can be replaced while calls run (a reload): each
// call takes the live one once, at its start, and finishes on it.
#ifndef LEADROUTE_SRC_LEAD_ROUTER_SERVICE_H_
#define LEADROUTE_SRC_LEAD_ROUTER_SERVICE_H_

#include <atomic>
#include <memory>

#include "leadroute/v1/leadroute.grpc.pb.h"
#include "runtime/policy.h"

namespace leadroute {

class LeadRouterService final : public v1::LeadRouter::CallbackService {
 public:
  explicit LeadRouterService(std::shared_ptr<const runtime::Policy> policy)
      : policy_(std::move(policy)) {}

  // Makes `policy` the live one, atomically: calls that started before keep
  // the one they took; the old one is freed when the last of them ends.
  void SetPolicy(std::shared_ptr<const runtime::Policy> policy) {
    policy_.store(std::move(policy));
  }

  grpc::ServerUnaryReactor* Route(grpc::CallbackServerContext* context,
                                  const v1::RouteRequest* request,
                                  v1::RouteResponse* response) override;

  grpc::ServerUnaryReactor* RouteBatch(
      grpc::CallbackServerContext* context,
      const v1::RouteBatchRequest* request,
      v1::RouteBatchResponse* response) override;

 private:
  std::atomic<std::shared_ptr<const runtime::Policy>> policy_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_LEAD_ROUTER_SERVICE_H_
