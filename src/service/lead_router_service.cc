// Route and RouteBatch as unary callback handlers; see the header.
#include "src/service/lead_router_service.h"

#include <chrono>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/field_error.h"
#include "base/status_macros.h"
#include "runtime/decide.h"
#include "runtime/replay.h"
#include "src/service/answer.h"
#include "src/wire/convert.h"
#include "src/wire/decision_writer.h"
#include "src/wire/lead_reader.h"

namespace leadroute {
namespace {

// Every why_not name is a rule of the live ruleset: a typo is the caller's
// mistake, not an explanation of a rule that does not exist. Checked once a
// call, however many leads it has; at most kMaxWhyNot names.
absl::Status CheckWhyNot(const Ruleset& ruleset,
                         const runtime::DecideOptions& options) {
  if (options.why_not.size() > ServiceLimits::kMaxWhyNot) {
    return InvalidFieldError(
        "options.why_not",
        absl::StrCat(options.why_not.size(), " names; at most ",
                     ServiceLimits::kMaxWhyNot, " a call"));
  }
  for (size_t i = 0; i < options.why_not.size(); ++i) {
    const std::string& name = options.why_not[i];
    if (name.size() > ServiceLimits::kMaxRuleNameBytes) {
      return InvalidFieldError(
          absl::StrCat("options.why_not[", i, "]"),
          absl::StrCat(name.size(), " bytes; a rule name has at most ",
                       ServiceLimits::kMaxRuleNameBytes));
    }
    if (ruleset.program == nullptr) continue;
    absl::StatusOr<runtime::NamedRule> found =
        runtime::FindNamedRule(*ruleset.program, name);
    if (!found.ok()) {
      return InvalidFieldError(absl::StrCat("options.why_not[", i, "]"),
                               found.status().message());
    }
  }
  return absl::OkStatus();
}

// For a caller who may not know it: which earlier lead this one repeats
// (and who had it, and when) leaves the answer. That the rules made it
// stick to a rep stays, as the `sticky` entry says; not to whom or why.
void HideRepeat(runtime::Decision* d) {
  d->repeat_of.clear();
  if (!d->explanation) return;
  for (runtime::StageExplanation& e : d->explanation->stages) {
    if (e.stage == "sticky") {
      e.conditions = {
          "a repeat of an earlier lead of the same person (which one needs "
          "role activity)"};
    }
  }
}

// How many leads of a batch are routed between checks for cancellation and
// the deadline.
constexpr int kCheckEvery = 128;

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

// The request in one piece in `slice` (a copy only when gRPC received it in
// many).
absl::Status OneSlice(const grpc::ByteBuffer& request, grpc::Slice* slice) {
  if (request.TrySingleSlice(slice).ok() ||
      request.DumpToSingleSlice(slice).ok()) {
    return absl::OkStatus();
  }
  return absl::InternalError("could not read the request");
}

absl::string_view View(const grpc::Slice& slice) {
  return absl::string_view(reinterpret_cast<const char*>(slice.begin()),
                           slice.size());
}

// An answer's bytes as a ByteBuffer that owns them: the slice frees the
// string when gRPC is done with it.
grpc::ByteBuffer Owned(std::unique_ptr<std::string> answer) {
  std::string* bytes = answer.release();
  grpc::Slice owned(
      bytes->data(), bytes->size(),
      [](void* s) { delete static_cast<std::string*>(s); }, bytes);
  return grpc::ByteBuffer(&owned, 1);
}

// A compiled ruleset's policy, whose leads are bound straight from the
// wire; null for any other policy, or no ruleset.
const runtime::MatchingPolicy* MatchingOf(const Ruleset* ruleset) {
  return ruleset == nullptr ? nullptr
                            : dynamic_cast<const runtime::MatchingPolicy*>(
                                  ruleset->policy.get());
}

}  // namespace

struct LeadRouterService::CallState {
  CallState(const RulesetRegistry& registry, runtime::Assigner* assigner,
            Shadow* shadow)
      : shadow(shadow),
        assigner(assigner),
        // SLA clocks start on the state's clock (a FakeClock in tests).
        now(assigner == nullptr ? registry.clock().Now()
                                : assigner->clock().Now()),
        ruleset(registry.LiveAt(now)),
        matching(MatchingOf(ruleset.get())) {
    if (matching != nullptr) binder.emplace(matching->program());
    if (shadow != nullptr && shadow->active()) {
      shadow_rules = shadow->candidate();
      if (const auto* m = MatchingOf(shadow_rules.get())) {
        shadow_program = &m->program();
      }
    }
  }
  // The call's leads go to the shadow once it is answered.
  ~CallState() {
    if (shadow != nullptr) shadow->Submit(&shadowed);
  }

  // Decides the lead `reader` has just read: bound straight to the
  // program's slots, or as a runtime::Lead for any other policy.
  absl::StatusOr<runtime::Decision> DecideRead();

  Shadow* const shadow;      // may be null
  Shadow::Pending shadowed;  // the call's leads for it
  // The Assigner as the call began (null: no state).
  runtime::Assigner* const assigner;
  // When the call was received: its leads' time, and the time that picks
  // its ruleset (a scheduled one goes live for calls from its instant on).
  const absl::Time now;
  // One ruleset for the whole call, even if a reload happens meanwhile.
  const std::shared_ptr<const Ruleset> ruleset;
  // The ruleset's policy when its leads can be bound straight from the
  // wire (a compiled ruleset), else null.
  const runtime::MatchingPolicy* const matching;
  // The shadow's ruleset as the call began, while one runs, and its
  // program: what is kept of a lead's attributes serves it too.
  std::shared_ptr<const Ruleset> shadow_rules;
  const runtime::Program* shadow_program = nullptr;
  runtime::DecideOptions options;
  bool reroute = false;
  // Whether the caller may learn that a lead repeats an earlier one of the
  // same person, and which: callers with role activity (a CRM), not those
  // with route alone (a web form's backend).
  bool sees_repeats = true;
  DecisionIds::Block ids{};
  RulesetCounters::Tally tally;
  LeadReader reader;
  std::optional<runtime::LeadBinder> binder;
  // The last decision's id: its own (from the Assigner) or `id_buffer`.
  absl::string_view decision_id;
  char id_buffer[DecisionIds::kLength];
};

absl::StatusOr<runtime::Decision> LeadRouterService::CallState::DecideRead() {
  if (!binder) return ruleset->policy->Decide(reader.TakeLead(), options);
  RETURN_IF_ERROR(binder->Start(reader.id()));
  for (LeadReader::Attribute& a : reader.attributes()) {
    RETURN_IF_ERROR(binder->Bind(a.name, std::move(a.value)));
  }
  RETURN_IF_ERROR(binder->Finish());
  return matching->DecideBound(reader.id(), binder->bound(), options);
}

absl::StatusOr<runtime::Decision> LeadRouterService::RouteOne(
    CallState& call, absl::string_view lead_bytes, uint64_t id,
    uint64_t* durable) {
  const Ruleset& ruleset = *call.ruleset;
  LeadReader& reader = call.reader;
  absl::Status read = reader.Read(lead_bytes, limits_.max_lead_bytes);
  // The log's and the store's copy of the attributes as read, before
  // binding moves them (both mask alike: kept_ is the log's masking).
  std::string logged;
  const bool stateful = call.assigner != nullptr && call.binder;
  if (read.ok() && (log_ != nullptr || stateful)) {
    logged = kept_->Json(
        reader.attributes(),
        call.matching == nullptr ? nullptr : &call.matching->program(),
        call.shadow_program);
  }
  // The shadow's copy, likewise, packed; only while a shadow runs.
  const bool shadowing =
      read.ok() && shadow_ != nullptr && shadow_->active() && call.binder;
  const size_t shadow_mark =
      shadowing
          ? shadow_->PackLead(&call.shadowed, reader.id(),
                              call.options.received_at, reader.attributes())
          : 0;
  absl::StatusOr<runtime::Decision> decision =
      read.ok() ? call.DecideRead() : absl::StatusOr<runtime::Decision>(read);
  if (decision.ok() && call.assigner != nullptr && call.binder) {
    runtime::AssignInput input;
    call.ids.Write(id, &input.decision_id);
    input.ruleset = absl::StrCat(ruleset.name, " ", ruleset.version);
    input.reroute = call.reroute;
    input.logged = LeadAttributes::Logged(call.options.received_at,
                                          runtime::TargetOf(*decision), logged);
    absl::StatusOr<uint64_t> seq = call.assigner->Assign(
        call.matching->program(), call.binder->bound(), input, &*decision);
    if (!seq.ok()) {
      decision = seq.status();
    } else {
      *durable = std::max(*durable, *seq);
    }
  }
  // A lead answered from its earlier assignment was shadowed then.
  if (shadowing && (!decision.ok() || decision->replayed)) {
    Shadow::Unpack(&call.shadowed, shadow_mark);
  }
  if (!decision.ok()) {
    ruleset.counters->CountRejected(&call.tally);
    return decision;
  }
  if (!call.sees_repeats && !decision->repeat_of.empty()) {
    HideRepeat(&*decision);
  }
  ruleset.counters->Count(*decision, &call.tally);
  if (decision->decision_id.empty()) {
    call.ids.Write(id, call.id_buffer);
    call.decision_id = absl::string_view(call.id_buffer, DecisionIds::kLength);
  } else {
    call.decision_id = decision->decision_id;
  }
  if (log_ != nullptr) {
    log_->Record(ruleset, std::move(logged), *decision, call.decision_id,
                 call.now, call.options.received_at);
  }
  if (shadowing && !decision->replayed) {
    shadow_->PackDecision(&call.shadowed, call.decision_id, *decision);
  }
  return decision;
}

absl::Status LeadRouterService::RouteSerialised(
    absl::string_view request, bool sees_repeats, std::string* answer,
    uint64_t* durable, absl::string_view* field_prefix) {
  CallState call(*registry_, link_->assigner(), shadow_);
  call.sees_repeats = sees_repeats;
  RouteRequestBytes split;
  absl::Status status = SplitRouteRequest(request, &split);
  if (status.ok() && !split.has_lead) {
    status = InvalidFieldError("lead", "required");
  }
  absl::StatusOr<runtime::DecideOptions> opts =
      status.ok() ? OptionsFromProto(split.options, call.now)
                  : absl::StatusOr<runtime::DecideOptions>(status);
  if (opts.ok()) {
    if (absl::Status why_not = CheckWhyNot(*call.ruleset, *opts);
        !why_not.ok()) {
      opts = why_not;
    }
  }
  if (!opts.ok()) return opts.status();
  call.options = *std::move(opts);
  call.reroute = split.options.reroute();
  call.ids = ids_.Reserve(call.now, 1);
  absl::StatusOr<runtime::Decision> decision =
      RouteOne(call, split.lead, 0, durable);
  if (decision.ok()) {
    std::string body;
    AppendDecision(
        *decision,
        {call.decision_id, call.ruleset->revision, call.ruleset->fingerprint},
        &body);
    AppendField(1, body, answer);  // RouteResponse.decision
  }
  status = decision.status();
  if (status.ok() && answer->size() > limits_.max_response_bytes) {
    status = absl::ResourceExhaustedError(
        absl::StrCat("the answer has ", answer->size(), " bytes, more than ",
                     limits_.max_response_bytes,
                     " (--max-response-bytes); ask for less explanation"));
  }
  call.ruleset->counters->Add(call.tally);
  *field_prefix = "lead.";
  return status;
}

grpc::ServerUnaryReactor* LeadRouterService::Route(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  RouteCall(*context, *request, response,
            [reactor](const grpc::Status& s) { reactor->Finish(s); });
  return reactor;
}

void LeadRouterService::RouteCall(const grpc::ServerContextBase& context,
                                  const grpc::ByteBuffer& request,
                                  grpc::ByteBuffer* response,
                                  WriterLink::Finish finish) {
  if (link_->forwarding()) {
    link_->ForwardRoute(context, request, response, std::move(finish));
    return;
  }
  const int64_t start = MonotonicNanos();
  uint64_t durable = 0;            // the change to wait for, if any
  absl::string_view field_prefix;  // lead errors name fields in the lead
  grpc::Slice slice;
  auth::Caller caller;
  absl::Status status = auth_->Check(context, auth::kRoute, &caller);
  if (status.ok()) status = OneSlice(request, &slice);
  if (status.ok()) {
    auto answer = std::make_unique<std::string>();
    status = RouteSerialised(View(slice),
                             auth::Has(caller.roles, auth::Role::kActivity),
                             answer.get(), &durable, &field_prefix);
    if (status.ok()) *response = Owned(std::move(answer));
  }
  // Answered once the assignment is on disk, from the store's writer.
  FinishWhenDurable(link_->assigner(), status, durable,
                    Settle(ServerMetrics::kRoute, start, response),
                    std::move(finish), field_prefix);
}

grpc::ServerUnaryReactor* LeadRouterService::RouteMany(
    grpc::CallbackServerContext* context, const v1::RouteManyRequest* request,
    v1::RouteManyResponse* response) {
  if (link_->forwarding()) {
    // A follower that took this replica for the writer: on to the writer.
    return link_->Forward(context, auth::kRouteMany, *request, response);
  }
  const int64_t start = MonotonicNanos();
  uint64_t durable = 0;  // the last change to wait for, if any
  auth::Caller caller;
  absl::Status status = auth_->Check(*context, auth::kRouteMany, &caller);
  if (status.ok() && request->routes_size() > limits_.max_batch_leads) {
    status = InvalidFieldError(
        "routes",
        absl::StrCat(request->routes_size(), " routes; at most ",
                     limits_.max_batch_leads, " a call (--max-batch)"));
  }
  if (status.ok()) {
    const bool sees_repeats = auth::Has(caller.roles, auth::Role::kActivity);
    size_t answered = 0;  // bytes of the answer so far
    for (const std::string& route : request->routes()) {
      if (answered > limits_.max_response_bytes) {
        // Routes routed so far keep their owners, as a batch's do.
        status = absl::ResourceExhaustedError(absl::StrCat(
            "the answer passed ", limits_.max_response_bytes,
            " bytes (--max-response-bytes) at route ", response->results_size(),
            " of ", request->routes_size(),
            "; send fewer routes a call or ask for less explanation"));
        break;
      }
      v1::RouteManyResult* result = response->add_results();
      absl::string_view field_prefix;
      const absl::Status routed =
          RouteSerialised(route, sees_repeats, result->mutable_response(),
                          &durable, &field_prefix);
      if (!routed.ok()) {
        const grpc::Status told = ToGrpcStatus(routed, field_prefix);
        result->clear_response();
        result->set_code(static_cast<int32_t>(told.error_code()));
        result->set_message(told.error_message());
        result->set_details(told.error_details());
      }
      answered += result->ByteSizeLong();
    }
  }
  // Each route is counted as the Route call it stands for, with its own
  // code (the call's, if the call failed as a whole).
  auto settle = [this, start, response](const absl::Status& s) {
    const int64_t took = MonotonicNanos() - start;
    if (response->results_size() == 0) {
      metrics_->CountCall(ServerMetrics::kRoute, static_cast<int>(s.code()),
                          took);
    }
    for (const v1::RouteManyResult& r : response->results()) {
      metrics_->CountCall(ServerMetrics::kRoute,
                          s.ok() ? r.code() : static_cast<int>(s.code()), took);
    }
    if (!s.ok()) response->Clear();
  };
  return AnswerWhenDurable(context, link_->assigner(), status, durable,
                           std::move(settle));
}

grpc::ServerUnaryReactor* LeadRouterService::RouteBatch(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kRouteBatch, *request, response);
  }
  const int64_t start = MonotonicNanos();
  CallState call(*registry_, link_->assigner(), shadow_);
  absl::Status status;
  uint64_t durable = 0;  // the last change to wait for, if any
  grpc::Slice slice;
  auth::Caller caller;
  status = auth_->Check(*context, auth::kRouteBatch, &caller);
  call.sees_repeats = auth::Has(caller.roles, auth::Role::kActivity);
  if (status.ok()) status = OneSlice(*request, &slice);
  BatchRequestBytes batch;
  if (status.ok()) status = SplitBatchRequest(View(slice), &batch);
  absl::StatusOr<runtime::DecideOptions> opts =
      status.ok() ? OptionsFromProto(batch.options, call.now)
                  : absl::StatusOr<runtime::DecideOptions>(status);
  if (opts.ok()) {
    if (absl::Status why_not = CheckWhyNot(*call.ruleset, *opts);
        !why_not.ok()) {
      opts = why_not;
    }
  }
  const int leads = static_cast<int>(batch.leads.size());
  // The answer, a serialised RouteBatchResponse, written as it goes.
  auto answer = std::make_unique<std::string>();
  if (!opts.ok()) {
    status = opts.status();
  } else if (leads > limits_.max_batch_leads) {
    status = InvalidFieldError(
        "leads", absl::StrCat(leads, " leads; a batch may have at most ",
                              limits_.max_batch_leads, " (--max-batch)"));
  } else if ((opts->explain || !opts->why_not.empty()) &&
             leads > limits_.max_explained_leads) {
    status = InvalidFieldError(
        opts->explain ? "options.explain" : "options.why_not",
        absl::StrCat(leads,
                     " leads to explain; a batch that asks for explanations "
                     "may have at most ",
                     limits_.max_explained_leads, " (--max-explained-leads)"));
  } else {
    call.options = *std::move(opts);
    call.reroute = batch.options.reroute();
    call.ids = ids_.Reserve(call.now, leads);
    metrics_->CountBatchLeads(leads);
    answer->reserve(static_cast<size_t>(leads) * 160);
    std::string result;  // one lead's, reused
    for (int i = 0; i < leads && status.ok(); ++i) {
      if (i % kCheckEvery == kCheckEvery - 1) status = Interrupted(context);
      result.clear();
      absl::StatusOr<runtime::Decision> decision =
          RouteOne(call, batch.leads[i], i, &durable);
      if (decision.status().code() == absl::StatusCode::kUnavailable) {
        // The store, not the lead: the whole call fails, to be retried
        // (leads assigned before it answer the retry with their owner).
        status = decision.status();
        break;
      }
      if (decision.ok()) {
        AppendDecision(*decision,
                       {call.decision_id, call.ruleset->revision,
                        call.ruleset->fingerprint},
                       &result);
      } else {
        AppendError(decision.status(), call.reader.id(), &result);
      }
      AppendBatchResult(decision.ok(), result, answer.get());
      if (answer->size() > limits_.max_response_bytes) {
        // Leads routed so far keep their owners; a retry in smaller
        // batches answers them.
        status = absl::ResourceExhaustedError(absl::StrCat(
            "the answer passed ", limits_.max_response_bytes,
            " bytes (--max-response-bytes) at lead ", i, " of ", leads,
            "; send fewer leads a batch or ask for less explanation"));
      }
    }
    call.ruleset->counters->Add(call.tally);
  }
  if (status.ok()) *response = Owned(std::move(answer));
  // Changes commit in order: once the batch's last is durable, all are.
  // (A deadline that passed meanwhile is gRPC's to report.)
  return AnswerWhenDurable(context, call.assigner, status, durable,
                           Settle(ServerMetrics::kRouteBatch, start, response));
}

}  // namespace leadroute
