// Route and RouteBatch as unary callback handlers; see the header.
#include "src/lead_router_service.h"

#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/lead_error.h"
#include "src/convert.h"

namespace leadroute {
namespace {

// How many leads of a batch are routed between checks for cancellation and
// the deadline.
constexpr int kCheckEvery = 128;

void AppendHex(uint64_t v, int digits, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out->push_back(kHex[(v >> (4 * i)) & 15]);
  }
}

// Why a call should stop now, or OK.
absl::Status Interrupted(grpc::CallbackServerContext* context) {
  if (context->IsCancelled()) {
    return absl::CancelledError("the call was cancelled by the client");
  }
  if (context->deadline() < std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError(
        "the call's deadline passed before every lead was routed");
  }
  return absl::OkStatus();
}

}  // namespace

DecisionIds::DecisionIds() {
  std::random_device random;
  process_ = random();
  counter_ = (static_cast<uint64_t>(random()) << 32) | random();
}

DecisionIds::Block DecisionIds::Reserve(absl::Time now, uint64_t n) {
  return {static_cast<uint64_t>(absl::ToUnixMillis(now)), process_,
          counter_.fetch_add(n, std::memory_order_relaxed)};
}

void DecisionIds::Block::Write(uint64_t i, std::string* out) const {
  out->clear();
  out->reserve(32);
  AppendHex(millis, 12, out);
  AppendHex(process, 8, out);
  AppendHex(first + i, 12, out);
}

absl::Status LeadRouterService::RouteOne(
    const Ruleset& ruleset, const v1::Lead& proto_lead,
    const runtime::DecideOptions& options, bool reroute, absl::Time now,
    const DecisionIds::Block& ids, uint64_t id, RulesetCounters::Tally* tally,
    v1::Decision* out, uint64_t* durable) {
  absl::StatusOr<runtime::Lead> lead =
      LeadFromProto(proto_lead, limits_.max_lead_bytes);
  absl::StatusOr<runtime::Decision> decision =
      lead.ok() ? ruleset.policy->Decide(*lead, options)
                : absl::StatusOr<runtime::Decision>(lead.status());
  if (decision.ok() && assigner_ != nullptr && ruleset.program != nullptr) {
    runtime::AssignInput input;
    const auto& attributes = proto_lead.attributes();
    if (auto email = attributes.find("email");
        email != attributes.end() &&
        email->second.kind_case() == v1::Value::kStringValue) {
      input.email = email->second.string_value();
    }
    if (auto source = attributes.find("source");
        source != attributes.end() &&
        source->second.kind_case() == v1::Value::kStringValue) {
      input.source = source->second.string_value();
    }
    ids.Write(id, &input.decision_id);
    input.ruleset = absl::StrCat(ruleset.name, " ", ruleset.version);
    input.reroute = reroute;
    absl::StatusOr<uint64_t> seq =
        assigner_->Assign(*ruleset.program, input, &*decision);
    if (!seq.ok()) {
      decision = seq.status();
    } else {
      *durable = std::max(*durable, *seq);
    }
  }
  if (!decision.ok()) {
    ruleset.counters->CountRejected(tally);
    return decision.status();
  }
  ruleset.counters->Count(*decision, tally);
  DecisionToProto(*decision, out);
  if (decision->decision_id.empty()) ids.Write(id, out->mutable_decision_id());
  out->mutable_ruleset()->set_revision(ruleset.revision);
  out->mutable_ruleset()->set_fingerprint(ruleset.fingerprint);
  if (log_ != nullptr) {
    log_->Record(ruleset, proto_lead, *decision, out->decision_id(), now);
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* LeadRouterService::Route(
    grpc::CallbackServerContext* context, const v1::RouteRequest* request,
    v1::RouteResponse* response) {
  const int64_t start = MonotonicNanos();
  const std::shared_ptr<const Ruleset> ruleset = registry_->Live();
  // SLA clocks start on the state's clock (a FakeClock in tests).
  const absl::Time now =
      assigner_ == nullptr ? absl::Now() : assigner_->clock().Now();
  absl::Status status;
  uint64_t durable = 0;            // the change to wait for, if any
  absl::string_view field_prefix;  // lead errors name fields in the lead
  if (!request->has_lead()) {
    status = runtime::InvalidLeadField("lead", "required");
  } else if (absl::StatusOr<runtime::DecideOptions> opts =
                 OptionsFromProto(request->options(), now);
             !opts.ok()) {
    status = opts.status();
  } else {
    RulesetCounters::Tally tally;
    status = RouteOne(*ruleset, request->lead(), *opts,
                      request->options().reroute(), now, ids_.Reserve(now, 1),
                      0, &tally, response->mutable_decision(), &durable);
    ruleset->counters->Add(tally);
    field_prefix = "lead.";
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!status.ok() || durable == 0) {
    // Counted before Finish: after it, a shutdown may free the metrics.
    metrics_->CountCall(ServerMetrics::kRoute, static_cast<int>(status.code()),
                        MonotonicNanos() - start);
    reactor->Finish(ToGrpcStatus(status, field_prefix));
    return reactor;
  }
  // Answered once the assignment is on disk, from the store's writer.
  assigner_->WhenDurable(durable, [this, reactor, start,
                                   response](absl::Status stored) {
    if (!stored.ok()) response->Clear();
    metrics_->CountCall(ServerMetrics::kRoute, static_cast<int>(stored.code()),
                        MonotonicNanos() - start);
    reactor->Finish(ToGrpcStatus(stored));
  });
  return reactor;
}

grpc::ServerUnaryReactor* LeadRouterService::RouteBatch(
    grpc::CallbackServerContext* context, const v1::RouteBatchRequest* request,
    v1::RouteBatchResponse* response) {
  const int64_t start = MonotonicNanos();
  // One ruleset for the whole batch, even if a reload happens meanwhile.
  const std::shared_ptr<const Ruleset> ruleset = registry_->Live();
  // SLA clocks start on the state's clock (a FakeClock in tests).
  const absl::Time now =
      assigner_ == nullptr ? absl::Now() : assigner_->clock().Now();
  absl::Status status;
  uint64_t durable = 0;  // the last change to wait for, if any
  absl::StatusOr<runtime::DecideOptions> opts =
      OptionsFromProto(request->options(), now);
  if (!opts.ok()) {
    status = opts.status();
  } else if (request->leads_size() > limits_.max_batch_leads) {
    status = runtime::InvalidLeadField(
        "leads",
        absl::StrCat(request->leads_size(), " leads; a batch may have at most ",
                     limits_.max_batch_leads));
  } else {
    metrics_->CountBatchLeads(request->leads_size());
    response->mutable_results()->Reserve(request->leads_size());
    const DecisionIds::Block ids = ids_.Reserve(now, request->leads_size());
    RulesetCounters::Tally tally;
    for (int i = 0; i < request->leads_size() && status.ok(); ++i) {
      if (i % kCheckEvery == kCheckEvery - 1) status = Interrupted(context);
      const v1::Lead& lead = request->leads(i);
      v1::RouteResult* result = response->add_results();
      if (absl::Status s =
              RouteOne(*ruleset, lead, *opts, request->options().reroute(), now,
                       ids, i, &tally, result->mutable_decision(), &durable);
          !s.ok()) {
        ErrorToProto(s, lead.id(), result->mutable_error());
      }
    }
    ruleset->counters->Add(tally);
    if (!status.ok()) response->Clear();  // no partial answers
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!status.ok() || durable == 0) {
    metrics_->CountCall(ServerMetrics::kRouteBatch,
                        static_cast<int>(status.code()),
                        MonotonicNanos() - start);
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  // Changes commit in order: once the batch's last is durable, all are.
  // (A deadline that passed meanwhile is gRPC's to report.)
  assigner_->WhenDurable(durable,
                         [this, reactor, start, response](absl::Status stored) {
                           if (!stored.ok()) response->Clear();
                           metrics_->CountCall(ServerMetrics::kRouteBatch,
                                               static_cast<int>(stored.code()),
                                               MonotonicNanos() - start);
                           reactor->Finish(ToGrpcStatus(stored));
                         });
  return reactor;
}

}  // namespace leadroute
