// RulesAdminService: the gRPC adapter for leadroute.v1.RulesAdmin
// (ValidateRules, PublishRules, Rollback, GetStatus) over a
// RulesetRegistry. Compiling can take a while, so Validate and Publish run
// on a thread of their own, never on gRPC's callback threads, and only a
// few at once (WorkGate).
#ifndef LEADROUTE_SRC_SERVICE_RULES_ADMIN_SERVICE_H_
#define LEADROUTE_SRC_SERVICE_RULES_ADMIN_SERVICE_H_

#include <functional>
#include <map>
#include <string>

#include "leadroute/v1/leadroute.grpc.pb.h"
#include "src/auth/authorizer.h"
#include "src/service/metrics.h"
#include "src/service/ruleset_registry.h"
#include "src/service/shadow.h"
#include "src/service/work_gate.h"
#include "src/service/writer_link.h"

namespace leadroute {

// Wire forms of the registry's records (shared with tests and the CLI).
void RulesetInfoToProto(const Ruleset& r, bool live, v1::RulesetInfo* out);
void DiagnosticToProto(const RuleDiagnostic& d, v1::Diagnostic* out);
// GetStatus' shadow, when one runs.
void ShadowToProto(const Shadow::Status& s, v1::GetStatusResponse* out);

class RulesAdminService final : public v1::RulesAdmin::CallbackService {
 public:
  // All must outlive the service; `auth` lets calls in. On a replica that
  // is not the writer (`link`), PublishRules, Rollback and GetStatus are
  // forwarded to the writer, whose rulesets decide; ValidateRules is
  // answered here. `max_compiles`: ValidateRules/PublishRules compiling at
  // once (see WorkGate).
  // `shadow` (may be null: PublishRules' shadow and promote_shadow fail)
  // is where a shadow ruleset runs.
  RulesAdminService(RulesetRegistry* registry, ServerMetrics* metrics,
                    const auth::Authorizer* auth, const WriterLink* link,
                    int max_compiles = 2, Shadow* shadow = nullptr)
      : registry_(registry),
        link_(link),
        metrics_(metrics),
        auth_(auth),
        shadow_(shadow),
        gate_(max_compiles, "rule compiles", "--max-compiles") {}

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
  // Lets the call in (`role`), runs `compile` on the request's files (and
  // who asked) on a thread of its own, then counts and finishes the call
  // with the status it returns.
  grpc::ServerUnaryReactor* OffThread(
      grpc::CallbackServerContext* context, ServerMetrics::Method method,
      const auth::MethodRole& role,
      const google::protobuf::RepeatedPtrField<v1::RuleFile>& files,
      std::string root,
      std::function<grpc::Status(const std::map<std::string, std::string>&,
                                 const std::string&, const runtime::Actor&)>
          compile,
      bool files_required = true);
  // PublishRules with `shadow`: compiles `files` and runs them as the
  // shadow (none: stops it), audited as done `by` someone.
  grpc::Status PublishShadow(const std::map<std::string, std::string>& files,
                             const std::string& root, const runtime::Actor& by,
                             v1::PublishRulesResponse* response);

  // PublishRules with `activate`: schedules `files` to go live at its time
  // (none: cancels the schedule).
  grpc::Status PublishScheduled(
      const v1::PublishRulesRequest& request,
      const std::map<std::string, std::string>& files, const std::string& root,
      std::optional<runtime::RemovedReps> removed_reps,
      const runtime::Actor& by, v1::PublishRulesResponse* response);

  RulesetRegistry* registry_;
  const WriterLink* const link_;
  ServerMetrics* metrics_;
  const auth::Authorizer* auth_;
  Shadow* const shadow_;
  WorkGate gate_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_RULES_ADMIN_SERVICE_H_
