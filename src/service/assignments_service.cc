// The Assignments handlers; see the header.
#include "src/service/assignments_service.h"

#include <algorithm>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/closest_match.h"
#include "base/field_error.h"
#include "runtime/clock.h"
#include "runtime/kpi.h"
#include "src/service/actor.h"
#include "src/service/answer.h"
#include "src/service/request_strings.h"
#include "src/wire/convert.h"

namespace leadroute {
namespace {

// Why `rep` is not a rep of `live`: a rep an earlier ruleset had (and the
// open leads they still hold), or a name never seen (with a did-you-mean).
std::string NotARep(const RulesetRegistry& registry,
                    const runtime::Assigner& assigner, const Ruleset& live,
                    const std::string& rep) {
  std::string out = absl::StrCat(
      "\"", rep, "\" is not a rep of the live ruleset (\"", live.name, "\" ",
      live.version, ", revision ", live.revision, ")");
  int64_t had_by = 0;
  for (const auto& r : registry.snapshot().retained) {
    if (r->program != nullptr && r->program->rep_index.contains(rep)) {
      had_by = std::max(had_by, r->revision);
    }
  }
  const int64_t open = assigner.OpenLeadsOf(rep);
  if (had_by > 0) {
    absl::StrAppend(&out, ": revision ", had_by,
                    " had them; they were removed from the rules, so there "
                    "is no status to set");
  } else if (open == 0) {
    std::vector<std::string> reps;
    for (const runtime::Rep& r : live.program->reps) reps.push_back(r.id);
    if (std::string close = ClosestMatch(rep, reps); !close.empty()) {
      absl::StrAppend(&out, "; did you mean \"", close, "\"?");
    }
  }
  if (open > 0) {
    absl::StrAppend(&out, "; they still hold ", open,
                    open == 1 ? " open lead" : " open leads",
                    " (leads list --owner ", rep,
                    "; move them with leads reassign, or publish with "
                    "removed_reps = reassign)");
  }
  return out;
}

absl::Status NoState() {
  return absl::FailedPreconditionError(
      "this server keeps no state: start it with --data-dir");
}

// A WatchAssignments stream that ends at once with an error.
class RefusedStream final
    : public grpc::ServerWriteReactor<v1::AssignmentEvent> {
 public:
  explicit RefusedStream(const absl::Status& s) { Finish(ToGrpcStatus(s)); }
  void OnDone() override { delete this; }
};

absl::Status RequireLeadId(const std::string& id) {
  return id.empty() ? InvalidFieldError("lead_id", "required")
                    : absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* AssignmentsService::Finish(
    grpc::CallbackServerContext* context, ServerMetrics::Method method,
    int64_t start, absl::Status status, uint64_t seq) {
  return AnswerWhenDurable(context, assigner(), status, seq,
                           [this, method, start](const absl::Status& s) {
                             metrics_->CountCall(method,
                                                 static_cast<int>(s.code()),
                                                 MonotonicNanos() - start);
                           });
}

absl::StatusOr<std::shared_ptr<const Ruleset>> AssignmentsService::LiveProgram()
    const {
  std::shared_ptr<const Ruleset> live =
      registry_->LiveAt(registry_->clock().Now());
  if (live == nullptr || live->program == nullptr) {
    return absl::FailedPreconditionError(
        "the live ruleset is the built-in one, which has no reps or teams");
  }
  return live;
}

grpc::ServerUnaryReactor* AssignmentsService::GetAssignment(
    grpc::CallbackServerContext* context,
    const v1::GetAssignmentRequest* request,
    v1::GetAssignmentResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kGetAssignment, *request, response);
  }
  const int64_t start = MonotonicNanos();
  absl::Status status = auth_->Check(*context, auth::kGetAssignment, nullptr);
  if (status.ok()) status = CheckRequestStrings(*request);
  if (status.ok()) {
    status =
        assigner() == nullptr ? NoState() : RequireLeadId(request->lead_id());
  }
  if (status.ok()) {
    absl::StatusOr<runtime::Assignment> a = assigner()->Get(request->lead_id());
    if (a.ok()) {
      AssignmentToProto(*a, response->mutable_assignment());
    } else {
      status = a.status();
    }
  }
  return Finish(context, ServerMetrics::kGetAssignment, start, status);
}

grpc::ServerUnaryReactor* AssignmentsService::ListLeads(
    grpc::CallbackServerContext* context, const v1::ListLeadsRequest* request,
    v1::ListLeadsResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kListLeads, *request, response);
  }
  constexpr int kDefaultPage = 100;
  constexpr int kMaxPage = 1000;
  constexpr size_t kMaxToken = 1024;
  constexpr size_t kMaxOwner = 256;  // longer than any rule name people write
  const int64_t start = MonotonicNanos();
  absl::Status status = auth_->Check(*context, auth::kListLeads, nullptr);
  if (status.ok()) status = CheckRequestStrings(*request);
  if (status.ok() && assigner() == nullptr) status = NoState();
  if (status.ok() && request->owner().size() > kMaxOwner) {
    status = InvalidFieldError(
        "owner",
        absl::StrCat(request->owner().size(), " bytes; at most ", kMaxOwner));
  }
  const int size =
      request->page_size() == 0 ? kDefaultPage : request->page_size();
  if (status.ok() && (size < 0 || size > kMaxPage)) {
    status = InvalidFieldError(
        "page_size", absl::StrCat(request->page_size(), " is not in 1..",
                                  kMaxPage, " (0 means ", kDefaultPage, ")"));
  }
  // The token is the last lead id of the page before, prefixed so that a
  // token from another call is told apart.
  std::string after;
  if (status.ok() && !request->page_token().empty()) {
    if (request->page_token().size() > kMaxToken ||
        !absl::StartsWith(request->page_token(), "after:")) {
      status = InvalidFieldError("page_token",
                                 "not a next_page_token from ListLeads");
    } else {
      after = request->page_token().substr(6);
    }
  }
  std::optional<runtime::LeadStatus> wanted;
  if (status.ok() && request->status() != v1::LEAD_STATUS_UNSPECIFIED) {
    if (!v1::LeadStatus_IsValid(request->status())) {
      status = InvalidFieldError("status", "not a LeadStatus");
    } else {
      wanted = static_cast<runtime::LeadStatus>(request->status() - 1);
    }
  }
  if (status.ok()) {
    absl::StatusOr<std::vector<runtime::Assignment>> page =
        assigner()->committed().ListAssignments(request->owner(), wanted, after,
                                                size + 1);
    status = page.status();
    if (page.ok()) {
      bool more = static_cast<int>(page->size()) > size;
      if (more) page->pop_back();
      // The page ends early rather than pass --max-response-bytes (with
      // room for the token); the next one goes on from there.
      const size_t budget = max_response_bytes_ - 2 * kMaxToken;
      size_t bytes = 0;
      for (const runtime::Assignment& a : *page) {
        v1::Assignment* lead = response->add_leads();
        AssignmentToProto(a, lead);
        bytes += lead->ByteSizeLong() + 8;  // + its tag and length
        if (bytes > budget && response->leads_size() > 1) {
          response->mutable_leads()->RemoveLast();
          more = true;
          break;
        }
      }
      if (more) {
        response->set_next_page_token(absl::StrCat(
            "after:", response->leads(response->leads_size() - 1).lead_id()));
      }
    }
  }
  return Finish(context, ServerMetrics::kListLeads, start, status);
}

grpc::ServerUnaryReactor* AssignmentsService::EndLead(
    grpc::CallbackServerContext* context, ServerMetrics::Method method,
    const auth::MethodRole& role, const google::protobuf::Message& request,
    const std::string& lead_id, const std::string& reason, bool close,
    v1::Assignment* out) {
  const int64_t start = MonotonicNanos();
  auth::Caller caller;
  absl::Status status = auth_->Check(*context, role, &caller);
  if (status.ok()) status = CheckRequestStrings(request);
  if (status.ok()) {
    status = assigner() == nullptr ? NoState() : RequireLeadId(lead_id);
  }
  uint64_t seq = 0;
  if (status.ok()) {
    const runtime::Actor by = ActorOf(caller, *context);
    absl::StatusOr<runtime::Assigner::Changed> changed =
        close ? assigner()->Close(lead_id, reason, by)
              : assigner()->Release(lead_id, reason, by);
    status = changed.status();
    if (changed.ok()) {
      AssignmentToProto(changed->assignment, out);
      seq = changed->seq;
    }
  }
  return Finish(context, method, start, status, seq);
}

grpc::ServerUnaryReactor* AssignmentsService::ReleaseLead(
    grpc::CallbackServerContext* context, const v1::ReleaseLeadRequest* request,
    v1::ReleaseLeadResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kReleaseLead, *request, response);
  }
  return EndLead(context, ServerMetrics::kReleaseLead, auth::kReleaseLead,
                 *request, request->lead_id(), request->reason(),
                 /*close=*/false, response->mutable_assignment());
}

grpc::ServerUnaryReactor* AssignmentsService::CloseLead(
    grpc::CallbackServerContext* context, const v1::CloseLeadRequest* request,
    v1::CloseLeadResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kCloseLead, *request, response);
  }
  return EndLead(context, ServerMetrics::kCloseLead, auth::kCloseLead, *request,
                 request->lead_id(), request->reason(), /*close=*/true,
                 response->mutable_assignment());
}

grpc::ServerUnaryReactor* AssignmentsService::Reassign(
    grpc::CallbackServerContext* context, const v1::ReassignRequest* request,
    v1::ReassignResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kReassign, *request, response);
  }
  const int64_t start = MonotonicNanos();
  auth::Caller caller;
  absl::Status status = auth_->Check(*context, auth::kReassign, &caller);
  if (status.ok()) status = CheckRequestStrings(*request);
  if (status.ok()) {
    status =
        assigner() == nullptr ? NoState() : RequireLeadId(request->lead_id());
  }
  absl::StatusOr<std::shared_ptr<const Ruleset>> live = LiveProgram();
  if (status.ok()) status = live.status();
  uint64_t seq = 0;
  if (status.ok()) {
    const runtime::Program& p = *(*live)->program;
    runtime::Candidate to;
    auto index_of = [](const absl::flat_hash_map<std::string, int>& index,
                       const std::string& name) {
      auto it = index.find(name);
      return it == index.end() ? -1 : it->second;
    };
    switch (request->to_case()) {
      case v1::ReassignRequest::kRep:
        to = {runtime::OwnerKind::kRep,
              request->rep(),
              index_of(p.rep_index, request->rep()),
              {}};
        break;
      case v1::ReassignRequest::kTeam:
        to = {runtime::OwnerKind::kTeam,
              request->team(),
              index_of(p.team_index, request->team()),
              {}};
        break;
      case v1::ReassignRequest::kQueue:
        to = {runtime::OwnerKind::kQueue, request->queue(), -1, {}};
        if (std::find(p.queues.begin(), p.queues.end(), request->queue()) ==
            p.queues.end()) {
          status = InvalidFieldError(
              "queue", absl::StrCat("\"", request->queue(),
                                    "\" is not a queue of the live ruleset"));
        }
        break;
      case v1::ReassignRequest::TO_NOT_SET:
        status = InvalidFieldError("to", "name a rep, team or queue");
        break;
    }
    if (status.ok() && to.kind != runtime::OwnerKind::kQueue && to.index < 0) {
      const char* field = to.kind == runtime::OwnerKind::kRep ? "rep" : "team";
      status =
          InvalidFieldError(field, absl::StrCat("\"", to.name, "\" is not a ",
                                                field, " of the live ruleset"));
    }
    if (status.ok()) {
      absl::StatusOr<runtime::Assigner::Changed> changed =
          assigner()->Reassign(p, request->lead_id(), to, request->reason(),
                               ActorOf(caller, *context));
      status = changed.status();
      if (changed.ok()) {
        AssignmentToProto(changed->assignment, response->mutable_assignment());
        seq = changed->seq;
      }
    }
  }
  return Finish(context, ServerMetrics::kReassign, start, status, seq);
}

grpc::ServerUnaryReactor* AssignmentsService::SetRepStatus(
    grpc::CallbackServerContext* context,
    const v1::SetRepStatusRequest* request,
    v1::SetRepStatusResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kSetRepStatus, *request, response);
  }
  const int64_t start = MonotonicNanos();
  auth::Caller caller;
  absl::Status status = auth_->Check(*context, auth::kSetRepStatus, &caller);
  if (status.ok()) status = CheckRequestStrings(*request);
  if (status.ok() && assigner() == nullptr) status = NoState();
  absl::StatusOr<std::shared_ptr<const Ruleset>> live = LiveProgram();
  if (status.ok()) status = live.status();
  runtime::RepStatus s;
  s.rep = request->rep();
  s.note = request->note();
  if (status.ok() && !(*live)->program->rep_index.contains(s.rep)) {
    status = InvalidFieldError(
        "rep", s.rep.empty() ? "required"
                             : NotARep(*registry_, *assigner(), **live, s.rep));
  }
  if (status.ok()) {
    switch (request->availability()) {
      case v1::REP_AVAILABILITY_AVAILABLE:
        s.availability = runtime::Availability::kAvailable;
        break;
      case v1::REP_AVAILABILITY_AWAY:
        s.availability = runtime::Availability::kAway;
        break;
      case v1::REP_AVAILABILITY_OUT_OF_OFFICE:
        s.availability = runtime::Availability::kOutOfOffice;
        if (!request->has_until()) {
          status = InvalidFieldError(
              "until", "required for out of office: when is the rep back?");
        }
        break;
      default:
        status = InvalidFieldError(
            "availability", "required: AVAILABLE, AWAY or OUT_OF_OFFICE");
    }
  }
  if (status.ok() && request->has_until() &&
      s.availability != runtime::Availability::kAvailable) {
    absl::StatusOr<absl::Time> until = TimeFromProto(request->until());
    const absl::Time now = assigner()->clock().Now();
    if (until.ok() && *until <= now) {
      status = InvalidFieldError(
          "until", absl::StrCat(runtime::Rfc3339Seconds(*until),
                                " has passed (the server's time is ",
                                runtime::Rfc3339Seconds(now),
                                "): the rep would be available at once; send "
                                "AVAILABLE, or when they are back"));
    } else if (until.ok()) {
      s.until = *until;
    } else {
      status = InvalidFieldError("until", until.status().message());
    }
  }
  uint64_t seq = 0;
  if (status.ok()) {
    absl::StatusOr<uint64_t> changed =
        assigner()->SetRepStatus(s, ActorOf(caller, *context));
    status = changed.status();
    if (changed.ok()) {
      seq = *changed;
      for (const runtime::RepLoad& load :
           assigner()->Loads(*(*live)->program)) {
        if (load.rep == s.rep) RepLoadToProto(load, response->mutable_rep());
      }
    }
  }
  return Finish(context, ServerMetrics::kSetRepStatus, start, status, seq);
}

grpc::ServerUnaryReactor* AssignmentsService::ListReps(
    grpc::CallbackServerContext* context, const v1::ListRepsRequest* request,
    v1::ListRepsResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kListReps, *request, response);
  }
  const int64_t start = MonotonicNanos();
  absl::Status status = auth_->Check(*context, auth::kListReps, nullptr);
  if (status.ok() && assigner() == nullptr) status = NoState();
  absl::StatusOr<std::shared_ptr<const Ruleset>> live = LiveProgram();
  if (status.ok()) status = live.status();
  if (status.ok()) {
    for (const runtime::RepLoad& load : assigner()->Loads(*(*live)->program)) {
      RepLoadToProto(load, response->add_reps());
    }
  }
  return Finish(context, ServerMetrics::kListReps, start, status);
}

}  // namespace leadroute

namespace leadroute {

grpc::ServerUnaryReactor* AssignmentsService::Report(
    grpc::CallbackServerContext* context, ServerMetrics::Method method,
    const auth::MethodRole& role, const google::protobuf::Message& request,
    const std::string& lead_id, runtime::Outcome outcome,
    const std::string& channel, const google::protobuf::Timestamp* at,
    v1::Assignment* out) {
  const int64_t start = MonotonicNanos();
  auth::Caller caller;
  absl::Status status = auth_->Check(*context, role, &caller);
  if (status.ok()) status = CheckRequestStrings(request);
  if (status.ok()) {
    status = assigner() == nullptr ? NoState() : RequireLeadId(lead_id);
  }
  std::optional<absl::Time> when;
  if (status.ok() && at != nullptr) {
    absl::StatusOr<absl::Time> t = TimeFromProto(*at);
    if (t.ok()) {
      when = *t;
    } else {
      status = InvalidFieldError("at", t.status().message());
    }
  }
  uint64_t seq = 0;
  if (status.ok()) {
    absl::StatusOr<runtime::Assigner::Changed> changed =
        outcome == runtime::Outcome::kContacted
            ? assigner()->RecordContact(lead_id, channel, when,
                                        ActorOf(caller, *context))
            : assigner()->RecordOutcome(lead_id, outcome, when,
                                        ActorOf(caller, *context));
    status = changed.status();
    if (changed.ok()) {
      AssignmentToProto(changed->assignment, out);
      seq = changed->seq;
    }
  }
  return Finish(context, method, start, status, seq);
}

grpc::ServerUnaryReactor* AssignmentsService::RecordContact(
    grpc::CallbackServerContext* context,
    const v1::RecordContactRequest* request,
    v1::RecordContactResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kRecordContact, *request, response);
  }
  return Report(context, ServerMetrics::kRecordContact, auth::kRecordContact,
                *request, request->lead_id(), runtime::Outcome::kContacted,
                request->channel(),
                request->has_at() ? &request->at() : nullptr,
                response->mutable_assignment());
}

grpc::ServerUnaryReactor* AssignmentsService::RecordOutcome(
    grpc::CallbackServerContext* context,
    const v1::RecordOutcomeRequest* request,
    v1::RecordOutcomeResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kRecordOutcome, *request, response);
  }
  const int outcome = request->outcome();
  if (outcome <= 0 || outcome >= runtime::kOutcomeCount) {
    absl::Status status = auth_->Check(*context, auth::kRecordOutcome, nullptr);
    if (status.ok()) {
      status = InvalidFieldError(
          "outcome",
          "required: CONTACTED, QUALIFIED, OPPORTUNITY, WON or LOST");
    }
    return Finish(context, ServerMetrics::kRecordOutcome, MonotonicNanos(),
                  status);
  }
  return Report(context, ServerMetrics::kRecordOutcome, auth::kRecordOutcome,
                *request, request->lead_id(),
                static_cast<runtime::Outcome>(outcome), "",
                request->has_at() ? &request->at() : nullptr,
                response->mutable_assignment());
}

grpc::ServerWriteReactor<v1::AssignmentEvent>*
AssignmentsService::WatchAssignments(
    grpc::CallbackServerContext* context,
    const v1::WatchAssignmentsRequest* request) {
  const int64_t start = MonotonicNanos();
  absl::Status refused =
      auth_->Check(*context, auth::kWatchAssignments, nullptr);
  // The writer's own events, or, on another replica, the shared database's.
  runtime::EventFeed* feed = link_->feed();
  if (refused.ok() && feed == nullptr) refused = NoState();
  if (refused.ok() && request->after_event_id() > 0) {
    // Resuming inside what retention deleted would skip events silently.
    absl::StatusOr<uint64_t> pruned = feed->committed().PrunedThrough();
    if (!pruned.ok()) {
      refused = pruned.status();
    } else if (request->after_event_id() < *pruned) {
      refused = absl::OutOfRangeError(absl::StrCat(
          "after_event_id: events up to id ", *pruned,
          " were deleted by --event-retention, so events after ",
          request->after_event_id(),
          " cannot all be replayed; resync the leads (GetAssignment) and "
          "resume after ",
          *pruned));
    }
  }
  if (!refused.ok()) {
    metrics_->CountCall(ServerMetrics::kWatchAssignments,
                        static_cast<int>(refused.code()),
                        MonotonicNanos() - start);
    return new RefusedStream(refused);
  }
  std::lock_guard<std::recursive_mutex> lock(streams_mu_);
  // The peer without its port ("ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7").
  std::string host = context->peer();
  if (const size_t colon = host.rfind(':');
      colon != std::string::npos && colon > host.find(':')) {
    host.resize(colon);
  }
  int from_host = 0;
  for (const auto& [open, open_host] : streams_) from_host += open_host == host;
  absl::Status full;
  if (static_cast<int>(streams_.size()) >= stream_limits_.max_streams) {
    full = absl::ResourceExhaustedError(absl::StrCat(
        streams_.size(),
        " WatchAssignments streams are open, the most this server takes "
        "(--max-watchers ",
        stream_limits_.max_streams, ")"));
  } else if (from_host >= stream_limits_.max_per_peer) {
    full = absl::ResourceExhaustedError(absl::StrCat(
        from_host, " WatchAssignments streams are open from ", host,
        ", the most one host may hold (--max-watchers-per-peer ",
        stream_limits_.max_per_peer, ")"));
  }
  if (!full.ok()) {
    metrics_->CountCall(ServerMetrics::kWatchAssignments,
                        static_cast<int>(full.code()),
                        MonotonicNanos() - start);
    return new RefusedStream(full);
  }
  auto* stream = new EventStream(
      feed, request->after_event_id(), stream_limits_.max_buffered_bytes,
      [this, start](EventStream* done) {
        metrics_->CountCall(ServerMetrics::kWatchAssignments, 0,
                            MonotonicNanos() - start);
        std::lock_guard<std::recursive_mutex> lock(streams_mu_);
        streams_.erase(done);
      });
  streams_.emplace(stream, std::move(host));
  return stream;
}

grpc::ServerUnaryReactor* AssignmentsService::GetStats(
    grpc::CallbackServerContext* context, const v1::GetStatsRequest* request,
    v1::GetStatsResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kGetStats, *request, response);
  }
  const int64_t start = MonotonicNanos();
  absl::Status status = auth_->Check(*context, auth::kGetStats, nullptr);
  if (status.ok() && assigner() == nullptr) status = NoState();
  absl::Time to, from;
  // A request's time `field`, or `fallback` when unset.
  auto when = [&](const char* field, bool set,
                  const google::protobuf::Timestamp& t, absl::Time fallback) {
    if (!status.ok() || !set) return fallback;
    absl::StatusOr<absl::Time> parsed = TimeFromProto(t);
    if (!parsed.ok()) {
      status = InvalidFieldError(field, parsed.status().message());
    }
    return parsed.value_or(fallback);
  };
  if (status.ok()) {
    to =
        when("to", request->has_to(), request->to(), assigner()->clock().Now());
    from = when("from", request->has_from(), request->from(),
                to - kDefaultStatsWindow);
    if (status.ok() && from >= to) {
      status = InvalidFieldError(
          "from", absl::StrCat("must be before `to` (",
                               runtime::Rfc3339Seconds(to), ")"));
    }
    // The scan reads every lead of the window: a year is the most a call
    // may ask for (a longer view is several calls).
    if (status.ok() && to - from > kMaxStatsWindow) {
      status = InvalidFieldError(
          "from",
          absl::StrCat("a window of ", absl::ToInt64Hours(to - from) / 24,
                       " days; at most ",
                       absl::ToInt64Hours(kMaxStatsWindow) / 24));
    }
  }
  runtime::KpiOptions options;
  if (status.ok()) {
    options.filter = {request->team(), request->source(), request->ruleset()};
    if (!request->time_zone().empty() &&
        !absl::LoadTimeZone(request->time_zone(), &options.tz)) {
      status = InvalidFieldError(
          "time_zone", absl::StrCat("\"", request->time_zone(),
                                    "\" is not a known IANA time zone"));
    }
  }
  if (status.ok()) status = CheckRequestStrings(*request);
  if (status.ok()) status = stats_gate_.Admit();
  if (!status.ok())
    return Finish(context, ServerMetrics::kGetStats, start, status);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::thread([this, reactor, request, response, from, to, start,
               options = std::move(options)] {
    stats_gate_.Run();
    absl::StatusOr<runtime::KpiReport> report = runtime::KpisOf(
        assigner()->committed(), DimensionFromProto(request->group_by()), from,
        to, options);
    stats_gate_.Done();
    if (report.ok()) StatsToProto(*report, response);
    metrics_->CountCall(ServerMetrics::kGetStats,
                        static_cast<int>(report.status().code()),
                        MonotonicNanos() - start);
    reactor->Finish(ToGrpcStatus(report.status()));  // the last touch
  }).detach();
  return reactor;
}

void AssignmentsService::StopStreams() {
  std::lock_guard<std::recursive_mutex> lock(streams_mu_);
  std::vector<EventStream*> open;
  for (const auto& [stream, host] : streams_) open.push_back(stream);
  for (EventStream* s : open) {
    if (streams_.contains(s)) s->Stop();
  }
}

}  // namespace leadroute
