// The one place that converts between leadroute.v1 protos, gRPC statuses
// and runtime types (times: proto_time.h). Everything else in src/ speaks
// runtime types.
#ifndef LEADROUTE_SRC_WIRE_CONVERT_H_
#define LEADROUTE_SRC_WIRE_CONVERT_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "leadroute/v1/leadroute.pb.h"
#include "runtime/decision.h"
#include "runtime/kpi.h"
#include "runtime/lead.h"
#include "runtime/policy.h"
#include "runtime/rep_picker.h"
#include "src/wire/proto_time.h"

namespace leadroute {

// A proto lead as a runtime lead, through LeadReader (src/wire/lead_reader.h),
// with its checks: a Value with no member set is INVALID_ARGUMENT naming
// "attributes.<name>"; so is a lead whose id, names and values add up to
// more than `max_bytes` (naming its largest attribute, or "id").
absl::StatusOr<runtime::Lead> LeadFromProto(
    const v1::Lead& lead, size_t max_bytes = static_cast<size_t>(-1));

// Request options; `now` stands in for an unset received_at.
absl::StatusOr<runtime::DecideOptions> OptionsFromProto(
    const v1::RouteOptions& options, absl::Time now);

// The message RouteBatch's AppendDecision (src/wire/lead_reader.h) writes
// without building it; the two must agree.
void DecisionToProto(const runtime::Decision& decision, v1::Decision* out);
void ExplanationToProto(const runtime::Explanation& x, v1::Explanation* out);
v1::OwnerKind OwnerKindToProto(runtime::OwnerKind kind);
void AssignmentToProto(const runtime::Assignment& a, v1::Assignment* out);
void EventToProto(const runtime::LeadEvent& e, v1::AssignmentEvent* out);
runtime::KpiDimension DimensionFromProto(v1::StatsDimension d);
void StatsToProto(const runtime::KpiReport& report, v1::GetStatsResponse* out);
void RepLoadToProto(const runtime::RepLoad& load, v1::RepState* out);

// The call's status. A field error (base/field_error.h) also carries a
// google.rpc.Status with a google.rpc.BadRequest naming the field, prefixed
// with `field_prefix` to make it a path in the request ("lead.").
grpc::Status ToGrpcStatus(const absl::Status& status,
                          absl::string_view field_prefix = "");

}  // namespace leadroute

#endif  // LEADROUTE_SRC_WIRE_CONVERT_H_
