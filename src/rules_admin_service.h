// RulesAdminService: the gRPC adapter for leadroute.v1.RulesAdmin
// (ValidateRules, PublishRules, Rollback, GetStatus) over a
// RulesetRegistry. Compiling can take a while, so Validate and Publish run
// on a thread of their own, never on gRPC's callback threads.
#ifndef LEADROUTE_SRC_RULES_ADMIN_SERVICE_H_
#define LEADROUTE_SRC_RULES_ADMIN_SERVICE_H_

#include "leadroute/v1/leadroute.grpc.pb.h"
#include "src/metrics.h"
#include "src/ruleset_registry.h"

namespace leadroute {

// Wire forms of the registry's records (shared with tests and the CLI).
void RulesetInfoToProto(const Ruleset& r, bool live, v1::RulesetInfo* out);
void DiagnosticToProto(const RuleDiagnostic& d, v1::Diagnostic* out);

class RulesAdminService final : public v1::RulesAdmin::CallbackService {
 public:
  // Both must outlive the service.
  RulesAdminService(RulesetRegistry* registry, ServerMetrics* metrics)
      : registry_(registry), metrics_(metrics) {}

  grpc::ServerUnaryReactor* ValidateRules(
      grpc::CallbackServerContext* context,
      const v1::ValidateRulesRequest* request,
      v1::ValidateRulesResponse* response) override;
  grpc::ServerUnaryReactor* PublishRules(
      grpc::CallbackServerContext* context,
      const v1::PublishRulesRequest* request,
      v1::PublishRulesResponse* response) override;
  grpc::ServerUnaryReactor* Rollback(grpc::CallbackServerContext* context,
                                     const v1::RollbackRequest* request,
                                     v1::RollbackResponse* response) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const v1::GetStatusRequest* request,
                                      v1::GetStatusResponse* response) override;

 private:
  RulesetRegistry* registry_;
  ServerMetrics* metrics_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_RULES_ADMIN_SERVICE_H_
