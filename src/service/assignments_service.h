// AssignmentsService: the gRPC adapter for leadroute.v1.Assignments over the
// server's Assigner (runtime/assigner.h): look a lead up, release, close or
// reassign it, set a rep's status, list reps with their load, record first
// contact and outcomes, and stream what happens to leads. Each change is
// answered once it is durable.
#ifndef LEADROUTE_SRC_SERVICE_ASSIGNMENTS_SERVICE_H_
#define LEADROUTE_SRC_SERVICE_ASSIGNMENTS_SERVICE_H_

#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "runtime/assigner.h"
#include "src/auth/authorizer.h"
#include "src/service/event_stream.h"
#include "src/service/metrics.h"
#include "src/service/ruleset_registry.h"
#include "src/service/work_gate.h"
#include "src/service/writer_link.h"

namespace leadroute {

// WatchAssignments streams open at once: in all, and from one host (the
// peer's address without its port). More: RESOURCE_EXHAUSTED naming the
// flag.
struct WatchLimits {
  int max_streams = 64;   // --max-watchers
  int max_per_peer = 16;  // --max-watchers-per-peer
  // Unsent live events a stream holds before it drops them and reads on
  // from the store (EventStream).
  size_t max_buffered_bytes = 8 << 20;  // --watch-buffer-bytes
};

class AssignmentsService final : public v1::Assignments::CallbackService {
 public:
  // All must outlive the service; `link`'s Assigner is null on a server
  // without state, where every call is FAILED_PRECONDITION, and on a
  // replica that is not the writer, which forwards every call to it
  // (WatchAssignments excepted: UNAVAILABLE there). `auth` lets calls in.
  AssignmentsService(const RulesetRegistry* registry, WriterLink* link,
                     ServerMetrics* metrics, const auth::Authorizer* auth,
                     WatchLimits stream_limits = {},
                     size_t max_response_bytes = 32 << 20,
                     int max_stats_scans = 2)
      : registry_(registry),
        link_(link),
        metrics_(metrics),
        auth_(auth),
        stream_limits_(stream_limits),
        max_response_bytes_(max_response_bytes),
        stats_gate_(max_stats_scans, "KPI scans (GetStats)",
                    "--max-stats-scans") {}

  grpc::ServerUnaryReactor* GetAssignment(
      grpc::CallbackServerContext* context,
      const v1::GetAssignmentRequest* request,
      v1::GetAssignmentResponse* response) override;
  grpc::ServerUnaryReactor* ReleaseLead(
      grpc::CallbackServerContext* context,
      const v1::ReleaseLeadRequest* request,
      v1::ReleaseLeadResponse* response) override;
  grpc::ServerUnaryReactor* CloseLead(grpc::CallbackServerContext* context,
                                      const v1::CloseLeadRequest* request,
                                      v1::CloseLeadResponse* response) override;
  grpc::ServerUnaryReactor* Reassign(grpc::CallbackServerContext* context,
                                     const v1::ReassignRequest* request,
                                     v1::ReassignResponse* response) override;
  grpc::ServerUnaryReactor* SetRepStatus(
      grpc::CallbackServerContext* context,
      const v1::SetRepStatusRequest* request,
      v1::SetRepStatusResponse* response) override;
  grpc::ServerUnaryReactor* ListReps(grpc::CallbackServerContext* context,
                                     const v1::ListRepsRequest* request,
                                     v1::ListRepsResponse* response) override;
  grpc::ServerUnaryReactor* RecordContact(
      grpc::CallbackServerContext* context,
      const v1::RecordContactRequest* request,
      v1::RecordContactResponse* response) override;
  grpc::ServerUnaryReactor* RecordOutcome(
      grpc::CallbackServerContext* context,
      const v1::RecordOutcomeRequest* request,
      v1::RecordOutcomeResponse* response) override;
  grpc::ServerWriteReactor<v1::AssignmentEvent>* WatchAssignments(
      grpc::CallbackServerContext* context,
      const v1::WatchAssignmentsRequest* request) override;

  grpc::ServerUnaryReactor* ListLeads(grpc::CallbackServerContext* context,
                                      const v1::ListLeadsRequest* request,
                                      v1::ListLeadsResponse* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override;

  // GetStats' window when the request gives no `from`.
  static constexpr absl::Duration kDefaultStatsWindow = absl::Hours(24 * 7);
  // The longest GetStats window (more: INVALID_ARGUMENT naming `from`).
  static constexpr absl::Duration kMaxStatsWindow = absl::Hours(24 * 366);

  // Ends every open WatchAssignments stream (UNAVAILABLE: reconnect), so a
  // stopping server need not wait out its grace period for them.
  void StopStreams();

 private:
  // Finishes the call with `status` now, or, when `seq` is set and the
  // status OK, once change `seq` is durable; counts it either way.
  grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                   ServerMetrics::Method method, int64_t start,
                                   absl::Status status, uint64_t seq = 0);
  // ReleaseLead (close: false) and CloseLead: `out` is the response's
  // assignment.
  grpc::ServerUnaryReactor* EndLead(grpc::CallbackServerContext* context,
                                    ServerMetrics::Method method,
                                    const auth::MethodRole& role,
                                    const google::protobuf::Message& request,
                                    const std::string& lead_id,
                                    const std::string& reason, bool close,
                                    v1::Assignment* out);
  // The live ruleset's program, or FAILED_PRECONDITION.
  absl::StatusOr<std::shared_ptr<const Ruleset>> LiveProgram() const;

  // RecordContact (outcome kContacted) and RecordOutcome.
  grpc::ServerUnaryReactor* Report(
      grpc::CallbackServerContext* context, ServerMetrics::Method method,
      const auth::MethodRole& role, const google::protobuf::Message& request,
      const std::string& lead_id, runtime::Outcome outcome,
      const std::string& channel, const google::protobuf::Timestamp* at,
      v1::Assignment* out);

  const RulesetRegistry* registry_;
  // The Assigner, once there is one (writer_link.h).
  runtime::Assigner* assigner() const { return link_->assigner(); }

  WriterLink* const link_;
  ServerMetrics* metrics_;
  const auth::Authorizer* auth_;

  // Open streams. Recursive: a stream finished by StopStreams may be done
  // (and remove itself) on the same thread.
  std::recursive_mutex streams_mu_;
  absl::flat_hash_map<EventStream*, std::string> streams_;  // to its host
  const WatchLimits stream_limits_;
  const size_t max_response_bytes_;  // a ListLeads page's, at most
  // GetStats reads every lead of its window: on a thread of its own, never
  // one of gRPC's callback threads, a few at once.
  WorkGate stats_gate_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_ASSIGNMENTS_SERVICE_H_
