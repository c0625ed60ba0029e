// The rules admin RPCs; see the header.
#include "src/service/rules_admin_service.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "src/service/actor.h"
#include "src/service/ruleset_audit.h"
#include "src/wire/convert.h"

namespace leadroute {
namespace {

// The request's files by path; INVALID_ARGUMENT naming a duplicate path.
absl::StatusOr<std::map<std::string, std::string>> FilesFromProto(
    const google::protobuf::RepeatedPtrField<v1::RuleFile>& files,
    std::string* root) {
  // More would be no ruleset anyone writes; a path is echoed in errors,
  // which travel in HTTP/2 trailers of a few KiB.
  constexpr int kMaxFiles = 1000;
  constexpr size_t kMaxPathBytes = 1024;
  if (files.size() > kMaxFiles) {
    return absl::InvalidArgumentError(
        absl::StrCat("files: ", files.size(),
                     " files; a ruleset may have at most ", kMaxFiles));
  }
  std::map<std::string, std::string> out;
  for (int i = 0; i < files.size(); ++i) {
    const v1::RuleFile& f = files[i];
    if (f.path().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("files[", i, "].path: must not be empty"));
    }
    if (f.path().size() > kMaxPathBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("files[", i, "].path: ", f.path().size(),
                       " bytes; at most ", kMaxPathBytes));
    }
    if (!out.emplace(f.path(), f.content()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "files[", i, "].path: \"", f.path(), "\" appears more than once"));
    }
  }
  if (out.empty()) {
    return absl::InvalidArgumentError("files: a ruleset needs at least one");
  }
  if (root->empty()) *root = files[0].path();
  if (root->size() > kMaxPathBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "root: ", root->size(), " bytes; at most ", kMaxPathBytes));
  }
  if (!out.contains(*root)) {
    return absl::InvalidArgumentError(
        absl::StrCat("root: \"", *root, "\" is not among the files"));
  }
  return out;
}

// A rejected ruleset as INVALID_ARGUMENT: the first errors rendered in the
// message, and one BadRequest field violation each. Both travel in HTTP/2
// trailers, which clients cap at a few KiB (8 KiB by default): beyond what
// fits, the message says more were left out (the diagnostics of
// ValidateRules and `leadroute check` have them).
grpc::Status RejectedStatus(const CompileOutcome& outcome) {
  constexpr size_t kMaxMessageBytes = 1536;  // rendered errors, in all
  constexpr size_t kMaxRenderedBytes = 512;  // one of them
  constexpr size_t kMaxDescriptionBytes = 200;
  constexpr int kMaxViolations = 10;
  auto cut = [](const std::string& text, size_t at) {
    return text.size() <= at ? text : absl::StrCat(text.substr(0, at), "...");
  };
  std::string message = std::string(outcome.status.message());
  google::rpc::BadRequest bad;
  bool left_out = false;
  for (const RuleDiagnostic& d : outcome.diagnostics) {
    if (!d.error) continue;
    const std::string rendered = cut(d.rendered, kMaxRenderedBytes);
    if (bad.field_violations_size() == kMaxViolations ||
        message.size() + rendered.size() > kMaxMessageBytes) {
      left_out = true;
      break;
    }
    absl::StrAppend(&message, "\n", rendered);
    google::rpc::BadRequest::FieldViolation* v = bad.add_field_violations();
    v->set_field("files");
    v->set_description(cut(
        d.file.empty()
            ? d.message
            : absl::StrCat(d.file, ":", d.line, ":", d.column, ": ", d.message),
        kMaxDescriptionBytes));
  }
  if (left_out) {
    absl::StrAppend(&message,
                    "\n(more not shown: ValidateRules or `leadroute check` "
                    "lists them)");
  }
  google::rpc::Status details;
  details.set_code(grpc::StatusCode::INVALID_ARGUMENT);
  details.set_message(message);
  details.add_details()->PackFrom(bad);
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message,
                      details.SerializeAsString());
}

// How far ahead a ruleset may be scheduled, and how far in the past its
// time may be (a clock a little behind the caller's): an older time is a
// mistake (last year's date), not a wish to go live now.
constexpr absl::Duration kMaxScheduleAhead = absl::Hours(24 * 366);
constexpr absl::Duration kMaxScheduleBehind = absl::Minutes(5);
constexpr size_t kMaxTimeZoneBytes = 64;

// An IANA zone name: letters, digits and "/_+-", not climbing out of the
// zone folder.
bool LooksLikeZoneName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxTimeZoneBytes ||
      absl::StrContains(name, "..") || name.front() == '/') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '/' ||
           c == '_' || c == '+' || c == '-';
  });
}

// The instant `a` names; INVALID_ARGUMENT naming the field when it names
// none, or one too far from `now`.
absl::StatusOr<absl::Time> ActivationTime(const v1::Activation& a,
                                          absl::Time now) {
  const bool local = !a.local_time().empty() || !a.time_zone().empty();
  if (a.has_at() == local) {
    return absl::InvalidArgumentError(
        "activate: give `at`, or `local_time` and `time_zone`");
  }
  absl::Time at;
  if (a.has_at()) {
    absl::StatusOr<absl::Time> t = TimeFromProto(a.at());
    if (!t.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("activate.at: ", t.status().message()));
    }
    at = *t;
  } else {
    if (a.local_time().empty() || a.time_zone().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "activate.", a.local_time().empty() ? "local_time" : "time_zone",
          ": must be given with activate.",
          a.local_time().empty() ? "time_zone" : "local_time"));
    }
    absl::TimeZone zone;
    if (!LooksLikeZoneName(a.time_zone()) ||
        !absl::LoadTimeZone(a.time_zone(), &zone)) {
      return absl::InvalidArgumentError(
          absl::StrCat("activate.time_zone: \"", a.time_zone().substr(0, 80),
                       "\" is not a time zone (an IANA name such as "
                       "\"Europe/Berlin\")"));
    }
    absl::CivilSecond civil;
    if (a.local_time().size() > 32 ||
        !absl::ParseLenientCivilTime(a.local_time(), &civil)) {
      return absl::InvalidArgumentError(
          absl::StrCat("activate.local_time: \"", a.local_time().substr(0, 80),
                       "\" is not a date and time such as "
                       "\"2026-12-01T00:00\""));
    }
    // A time the zone skips is read with the offset before the gap (02:30
    // in a gap from 02:00 to 03:00 is 03:30), a repeated one is its first
    // occurrence: both are `pre`.
    at = zone.At(civil).pre;
  }
  if (at < now - kMaxScheduleBehind) {
    return absl::InvalidArgumentError(absl::StrCat(
        "activate: ", runtime::Rfc3339Seconds(at),
        " is in the past (the server's time is ", runtime::Rfc3339Seconds(now),
        "); publish without activate to make the rules live now"));
  }
  if (at > now + kMaxScheduleAhead) {
    return absl::InvalidArgumentError(
        absl::StrCat("activate: ", runtime::Rfc3339Seconds(at),
                     " is more than 366 days ahead"));
  }
  return at;
}

}  // namespace

void ShadowToProto(const Shadow::Status& s, v1::GetStatusResponse* out) {
  if (s.candidate == nullptr) return;
  v1::ShadowStatus* shadow = out->mutable_shadow();
  v1::RulesetRef* ref = shadow->mutable_ruleset();
  ref->set_name(s.candidate->name);
  ref->set_version(s.candidate->version);
  ref->set_fingerprint(s.candidate->fingerprint);
  TimeToProto(s.since, shadow->mutable_since());
  const runtime::ReplayReport& r = s.report;
  shadow->set_offered(s.offered);
  shadow->set_compared(r.leads);
  shadow->set_rejected(r.rejected_after);
  shadow->set_dropped(s.dropped);
  auto& changed = *shadow->mutable_changed();
  for (int o = 0; o < runtime::kReplayOutputs; ++o) {
    changed[runtime::ReplayOutputName(static_cast<runtime::ReplayOutput>(o))] =
        r.changed[o];
  }
  changed["any"] = r.changed_any;
  constexpr size_t kMaxTransitions = 20;
  for (size_t i = 0; i < r.transitions.size() && i < kMaxTransitions; ++i) {
    v1::ShadowTransition* t = shadow->add_transitions();
    t->set_from(r.transitions[i].from);
    t->set_to(r.transitions[i].to);
    t->set_leads(r.transitions[i].leads);
  }
  shadow->set_became_unassigned(r.became_unassigned);
  auto& fell = *shadow->mutable_fell_through();
  for (int st = 0; st < runtime::kStageCount; ++st) {
    fell[runtime::StageIdName(static_cast<runtime::StageId>(st))] =
        r.fell_through[st];
  }
  for (const runtime::ReplayReport::RuleRow& row : r.rules) {
    if (row.before == row.after) continue;
    v1::ShadowRule* rule = shadow->add_rules();
    rule->set_rule(row.rule);
    rule->set_live(row.before);
    rule->set_shadow(row.after);
  }
}

void DiagnosticToProto(const RuleDiagnostic& d, v1::Diagnostic* out) {
  out->set_severity(d.error ? v1::Diagnostic::SEVERITY_ERROR
                            : v1::Diagnostic::SEVERITY_WARNING);
  out->set_file(d.file);
  out->set_line(d.line);
  out->set_column(d.column);
  out->set_message(d.message);
  out->set_rendered(d.rendered);
  out->set_code(d.code);
}

void RulesetInfoToProto(const Ruleset& r, bool live, v1::RulesetInfo* out) {
  v1::RulesetRef* ref = out->mutable_ruleset();
  ref->set_name(r.name);
  ref->set_version(r.version);
  ref->set_revision(r.revision);
  ref->set_fingerprint(r.fingerprint);
  out->set_origin(r.origin);
  TimeToProto(r.loaded_at, out->mutable_loaded_at());
  out->set_rule_count(r.rule_count);
  out->set_live(live);
  out->set_published_by(r.published_by);
  out->set_published_from(r.published_from);
  if (r.activate_at != absl::InfinitePast()) {
    TimeToProto(r.activate_at, out->mutable_activate_at());
  }
}

namespace {

// A compile that failed, as the call's status: INVALID_ARGUMENT with the
// rules' errors, or the failure; OK when it compiled.
grpc::Status CompileStatus(const CompileOutcome& outcome) {
  if (outcome.status.code() == absl::StatusCode::kInvalidArgument) {
    return RejectedStatus(outcome);
  }
  return ToGrpcStatus(outcome.status);
}

// The compiled ruleset (`live` or not) and its warnings, as the answer.
grpc::Status Answer(const CompileOutcome& outcome, bool live,
                    v1::PublishRulesResponse* response) {
  RulesetInfoToProto(*outcome.ruleset, live, response->mutable_ruleset());
  for (const RuleDiagnostic& d : outcome.diagnostics) {
    DiagnosticToProto(d, response->add_diagnostics());
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::ServerUnaryReactor* RulesAdminService::OffThread(
    grpc::CallbackServerContext* context, ServerMetrics::Method method,
    const auth::MethodRole& role,
    const google::protobuf::RepeatedPtrField<v1::RuleFile>& files,
    std::string root,
    std::function<grpc::Status(const std::map<std::string, std::string>&,
                               const std::string&, const runtime::Actor&)>
        compile,
    bool files_required) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auth::Caller caller;
  if (absl::Status refused = auth_->Check(*context, role, &caller);
      !refused.ok()) {
    metrics_->CountCall(method, static_cast<int>(refused.code()), 0);
    reactor->Finish(ToGrpcStatus(refused));
    return reactor;
  }
  if (absl::Status full = gate_.Admit(); !full.ok()) {
    metrics_->CountCall(method, static_cast<int>(full.code()), 0);
    reactor->Finish(ToGrpcStatus(full));
    return reactor;
  }
  std::thread([this, reactor, method, &files, files_required,
               root = std::move(root), compile = std::move(compile),
               by = ActorOf(caller, *context),
               start = MonotonicNanos()]() mutable {
    gate_.Run();
    absl::StatusOr<std::map<std::string, std::string>> by_path =
        files.empty() && !files_required ? std::map<std::string, std::string>()
                                         : FilesFromProto(files, &root);
    const grpc::Status status = by_path.ok() ? compile(*by_path, root, by)
                                             : ToGrpcStatus(by_path.status());
    gate_.Done();
    metrics_->CountCall(method, status.error_code(), MonotonicNanos() - start);
    reactor->Finish(status);  // the last touch of the call
  }).detach();
  return reactor;
}

grpc::ServerUnaryReactor* RulesAdminService::ValidateRules(
    grpc::CallbackServerContext* context,
    const v1::ValidateRulesRequest* request,
    v1::ValidateRulesResponse* response) {
  return OffThread(
      context, ServerMetrics::kValidateRules, auth::kValidateRules,
      request->files(), request->root(),
      [response](const std::map<std::string, std::string>& files,
                 const std::string& root, const runtime::Actor&) {
        const CompileOutcome outcome = CompileFiles(files, root);
        response->set_ok(outcome.status.ok());
        for (const RuleDiagnostic& d : outcome.diagnostics) {
          DiagnosticToProto(d, response->add_diagnostics());
        }
        if (outcome.ruleset != nullptr) {
          response->mutable_ruleset()->set_name(outcome.ruleset->name);
          response->mutable_ruleset()->set_version(outcome.ruleset->version);
          response->mutable_ruleset()->set_fingerprint(
              outcome.ruleset->fingerprint);
        } else if (outcome.diagnostics.empty()) {
          response->add_diagnostics()->set_message(
              std::string(outcome.status.message()));
        }
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* RulesAdminService::PublishRules(
    grpc::CallbackServerContext* context,
    const v1::PublishRulesRequest* request,
    v1::PublishRulesResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kPublishRules, *request, response);
  }
  return OffThread(
      context, ServerMetrics::kPublishRules, auth::kPublishRules,
      request->files(), request->root(),
      [this, request, response](const std::map<std::string, std::string>& files,
                                const std::string& root,
                                const runtime::Actor& by) {
        std::optional<runtime::RemovedReps> removed_reps;
        switch (request->removed_reps()) {
          case v1::REMOVED_REPS_KEEP:
            removed_reps = runtime::RemovedReps::kKeep;
            break;
          case v1::REMOVED_REPS_RELEASE:
            removed_reps = runtime::RemovedReps::kRelease;
            break;
          case v1::REMOVED_REPS_REASSIGN:
            removed_reps = runtime::RemovedReps::kReassign;
            break;
          default:
            break;
        }
        if (request->shadow() + request->promote_shadow() +
                request->has_activate() >
            1) {
          return ToGrpcStatus(absl::InvalidArgumentError(
              "shadow, promote_shadow, activate: set one of them at most"));
        }
        if (request->shadow()) return PublishShadow(files, root, by, response);
        if (request->has_activate()) {
          return PublishScheduled(*request, files, root, removed_reps, by,
                                  response);
        }
        CompileOutcome outcome;
        if (request->promote_shadow()) {
          const std::shared_ptr<const Ruleset> candidate =
              shadow_ == nullptr ? nullptr : shadow_->candidate();
          if (!files.empty()) {
            return ToGrpcStatus(absl::InvalidArgumentError(
                "files: must be empty with promote_shadow (the shadow's own "
                "files are made live)"));
          }
          if (candidate == nullptr || candidate->sources == nullptr) {
            return ToGrpcStatus(absl::FailedPreconditionError(
                "promote_shadow: no shadow ruleset runs (publish one with "
                "shadow, or start the server with --shadow-rules)"));
          }
          outcome = registry_->Publish(*candidate->sources, candidate->root,
                                       request->expected_revision(),
                                       removed_reps, by, "promote");
          // Shadowing stops once it is live, unless another took its place.
          if (outcome.status.ok() && shadow_->candidate() == candidate) {
            shadow_->Set(nullptr, absl::Now());
          }
        } else {
          outcome = registry_->Publish(
              files, root, request->expected_revision(), removed_reps, by);
        }
        if (!outcome.status.ok()) return CompileStatus(outcome);
        return Answer(outcome, /*live=*/true, response);
      },
      /*files_required=*/!request->shadow() && !request->promote_shadow() &&
          !request->has_activate());
}

grpc::Status RulesAdminService::PublishScheduled(
    const v1::PublishRulesRequest& request,
    const std::map<std::string, std::string>& files, const std::string& root,
    std::optional<runtime::RemovedReps> removed_reps, const runtime::Actor& by,
    v1::PublishRulesResponse* response) {
  if (files.empty()) {  // cancel
    if (registry_->CancelSchedule(by) == nullptr) {
      v1::Diagnostic* d = response->add_diagnostics();
      d->set_severity(v1::Diagnostic::SEVERITY_WARNING);
      d->set_message("no ruleset was scheduled; nothing changed");
      d->set_rendered(d->message());
      d->set_code("scheduled");
    }
    if (const std::shared_ptr<const Ruleset> live = registry_->Live()) {
      RulesetInfoToProto(*live, true, response->mutable_ruleset());
    }
    return grpc::Status::OK;
  }
  absl::StatusOr<absl::Time> at =
      ActivationTime(request.activate(), registry_->clock().Now());
  if (!at.ok()) return ToGrpcStatus(at.status());
  CompileOutcome outcome = registry_->Schedule(
      files, root, *at, request.expected_revision(), removed_reps, by);
  if (!outcome.status.ok()) return CompileStatus(outcome);
  return Answer(outcome, /*live=*/false, response);
}

grpc::Status RulesAdminService::PublishShadow(
    const std::map<std::string, std::string>& files, const std::string& root,
    const runtime::Actor& by, v1::PublishRulesResponse* response) {
  if (shadow_ == nullptr) {
    return ToGrpcStatus(
        absl::FailedPreconditionError("shadow: this server runs no shadow"));
  }
  if (files.empty()) {  // stop shadowing
    const std::shared_ptr<const Ruleset> before = shadow_->candidate();
    shadow_->Set(nullptr, absl::Now());
    if (before != nullptr) {
      AuditShadow(link_->assigner(), before.get(), nullptr, by);
    }
    return grpc::Status::OK;
  }
  CompileOutcome outcome = CompileFiles(files, root);
  if (!outcome.status.ok()) return CompileStatus(outcome);
  outcome.ruleset->origin = "shadow";
  outcome.ruleset->loaded_at = absl::Now();
  const std::shared_ptr<const Ruleset> before = shadow_->candidate();
  shadow_->Set(outcome.ruleset, outcome.ruleset->loaded_at);
  AuditShadow(link_->assigner(), before.get(), outcome.ruleset.get(), by);
  return Answer(outcome, /*live=*/false, response);
}

grpc::ServerUnaryReactor* RulesAdminService::Rollback(
    grpc::CallbackServerContext* context, const v1::RollbackRequest* request,
    v1::RollbackResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kRollback, *request, response);
  }
  const int64_t start = MonotonicNanos();
  grpc::Status status;
  std::vector<RuleDiagnostic> warnings;
  auth::Caller caller;
  absl::Status refused = auth_->Check(*context, auth::kRollback, &caller);
  absl::StatusOr<std::shared_ptr<const Ruleset>> r =
      refused.ok() ? registry_->Rollback(request->revision(), &warnings,
                                         ActorOf(caller, *context))
                   : absl::StatusOr<std::shared_ptr<const Ruleset>>(refused);
  if (r.ok()) {
    RulesetInfoToProto(**r, true, response->mutable_ruleset());
    for (const RuleDiagnostic& d : warnings) {
      DiagnosticToProto(d, response->add_diagnostics());
    }
  } else {
    status = ToGrpcStatus(r.status());
  }
  metrics_->CountCall(ServerMetrics::kRollback, status.error_code(),
                      MonotonicNanos() - start);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* RulesAdminService::GetStatus(
    grpc::CallbackServerContext* context, const v1::GetStatusRequest* request,
    v1::GetStatusResponse* response) {
  if (link_->forwarding()) {
    return link_->Forward(context, auth::kGetStatus, *request, response);
  }
  const int64_t start = MonotonicNanos();
  if (absl::Status refused = auth_->Check(*context, auth::kGetStatus, nullptr);
      !refused.ok()) {
    metrics_->CountCall(ServerMetrics::kGetStatus,
                        static_cast<int>(refused.code()),
                        MonotonicNanos() - start);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(refused));
    return reactor;
  }
  const RulesetRegistry::Snapshot s = registry_->snapshot();
  if (s.live != nullptr) {
    RulesetInfoToProto(*s.live, true, response->mutable_live());
  }
  for (const std::shared_ptr<const Ruleset>& r : s.retained) {
    RulesetInfoToProto(*r, r == s.live, response->add_retained());
  }
  if (s.last_failure) {
    v1::ReloadError* e = response->mutable_last_reload_error();
    TimeToProto(s.last_failure->at, e->mutable_at());
    e->set_origin(s.last_failure->origin);
    e->set_message(s.last_failure->message);
    for (const RuleDiagnostic& d : s.last_failure->diagnostics) {
      DiagnosticToProto(d, e->add_diagnostics());
    }
  }
  response->set_reloads_succeeded(s.reloads_succeeded);
  response->set_reloads_failed(s.reloads_failed);
  TimeToProto(s.started_at, response->mutable_started_at());
  response->set_live_by(s.live_by);
  if (s.live != nullptr)
    TimeToProto(s.live_since, response->mutable_live_since());
  if (shadow_ != nullptr) ShadowToProto(shadow_->status(), response);
  if (s.scheduled != nullptr) {
    RulesetInfoToProto(*s.scheduled, false, response->mutable_scheduled());
  }
  metrics_->CountCall(ServerMetrics::kGetStatus, 0, MonotonicNanos() - start);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace leadroute
