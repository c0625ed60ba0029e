// `leadroute rules ...`: a running server's rulesets from a terminal or a
// deploy pipeline — see them (status), publish now, at a set time or as the
// shadow, promote the shadow, cancel a schedule or a shadow, roll back.
// Rules are compiled here first, so a broken ruleset is refused with
// file:line:col before anything is sent; what is sent is every file the
// compiler read (root, includes, CSV tables).
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "runtime/clock.h"
#include "src/cli/client.h"
#include "src/cli/commands.h"
#include "src/service/ruleset_registry.h"
#include "src/wire/proto_time.h"

namespace leadroute {
namespace {

std::string Time(const google::protobuf::Timestamp& t) {
  return runtime::Rfc3339Seconds(absl::FromUnixSeconds(t.seconds()));
}

std::string Describe(const v1::RulesetInfo& r) {
  std::string line = absl::StrCat(
      "revision ", r.ruleset().revision(), "  ", r.ruleset().name(), " ",
      r.ruleset().version(), "  ", r.ruleset().fingerprint(), "  ",
      r.rule_count(), " rules  ", r.origin());
  if (!r.published_by().empty())
    absl::StrAppend(&line, " by ", r.published_by());
  if (r.has_activate_at()) {
    absl::StrAppend(&line, r.live() ? "  went live " : "  goes live ",
                    Time(r.activate_at()));
  } else if (r.has_loaded_at()) {
    absl::StrAppend(&line, "  loaded ", Time(r.loaded_at()));
  }
  return line;
}

void PrintDiagnostics(
    const google::protobuf::RepeatedPtrField<v1::Diagnostic>& diagnostics) {
  for (const v1::Diagnostic& d : diagnostics) {
    std::cerr << (d.rendered().empty() ? d.message() : d.rendered()) << "\n";
  }
}

// The --activate-at flag: RFC 3339 as an instant, or a wall-clock time read
// in --time-zone by the server.
bool SetActivation(const RulesAdminFlags& flags, v1::Activation* out) {
  if (!flags.time_zone.empty()) {
    out->set_local_time(flags.activate_at);
    out->set_time_zone(flags.time_zone);
    return true;
  }
  absl::StatusOr<absl::Time> at = ParseWhen("--activate-at", flags.activate_at);
  if (!at.ok()) {
    std::cerr << "leadroute rules publish: " << at.status().message()
              << " (or give a wall-clock time such as 2026-12-01T00:00 with "
                 "--time-zone)\n";
    return false;
  }
  TimeToProto(*at, out->mutable_at());
  return true;
}

// Calls RulesAdmin `method` with the client's deadline and token: OK, or
// the exit code of the failed call (said on stderr as `rules ACTION`).
template <typename Request, typename Response>
std::optional<int> Call(const Client& client, const RulesAdminFlags& flags,
                        grpc::Status (v1::RulesAdmin::Stub::*method)(
                            grpc::ClientContext*, const Request&, Response*),
                        const Request& request, Response* response) {
  auto stub = v1::RulesAdmin::NewStub(client.shared_channel());
  grpc::ClientContext context;
  client.Prepare(&context);
  grpc::Status status = ((*stub).*method)(&context, request, response);
  if (status.ok()) return std::nullopt;
  const std::string command = absl::StrCat("rules ", flags.action);
  return FailedCall(command.c_str(), status);
}

int Status(const Client& client, const RulesAdminFlags& flags) {
  v1::GetStatusResponse response;
  if (std::optional<int> failed =
          Call(client, flags, &v1::RulesAdmin::Stub::GetStatus,
               v1::GetStatusRequest(), &response)) {
    return *failed;
  }
  if (flags.format == "json") {
    PrintJson(response);
    return kExitOk;
  }
  std::cout << "live       " << Describe(response.live()) << "\n";
  if (response.has_scheduled()) {
    std::cout << "scheduled  " << Describe(response.scheduled()) << "\n";
  }
  if (response.has_shadow()) {
    const v1::ShadowStatus& s = response.shadow();
    const auto any = s.changed().find("any");
    std::cout << "shadow     " << s.ruleset().name() << " "
              << s.ruleset().version() << "  " << s.ruleset().fingerprint()
              << "  since " << Time(s.since()) << "  " << s.compared()
              << " leads compared, "
              << (any == s.changed().end() ? 0 : any->second) << " changed\n";
  }
  for (const v1::RulesetInfo& r : response.retained()) {
    if (!r.live()) std::cout << "retained   " << Describe(r) << "\n";
  }
  if (response.has_last_reload_error()) {
    std::cout << "last failed reload  "
              << Time(response.last_reload_error().at()) << "  "
              << response.last_reload_error().message() << "\n";
  }
  return kExitOk;
}

int Publish(const Client& client, const RulesAdminFlags& flags) {
  v1::PublishRulesRequest request;
  request.set_expected_revision(flags.expected_revision);
  if (!flags.removed_reps.empty()) {
    request.set_removed_reps(
        flags.removed_reps == "keep"      ? v1::REMOVED_REPS_KEEP
        : flags.removed_reps == "release" ? v1::REMOVED_REPS_RELEASE
                                          : v1::REMOVED_REPS_REASSIGN);
  }
  if (flags.action == "publish") {
    CompileOutcome compiled = CompilePath(flags.path);
    if (!compiled.status.ok()) {
      for (const RuleDiagnostic& d : compiled.diagnostics) {
        if (d.error) std::cerr << d.rendered << "\n";
      }
      std::cerr << "leadroute rules publish: " << compiled.status.message()
                << "; nothing was sent\n";
      return compiled.status.code() == absl::StatusCode::kInvalidArgument
                 ? kExitRulesOrInput
                 : kExitUsageOrIo;
    }
    const Ruleset& rs = *compiled.ruleset;
    for (const auto& [path, text] : *rs.sources) {
      v1::RuleFile* f = request.add_files();
      f->set_path(path);
      f->set_content(text);
    }
    request.set_root(rs.root);
    request.set_shadow(flags.shadow);
    if (!flags.activate_at.empty() &&
        !SetActivation(flags, request.mutable_activate())) {
      return kExitUsageOrIo;
    }
  } else if (flags.action == "promote") {
    request.set_promote_shadow(true);
  } else if (flags.action == "unschedule") {
    request.mutable_activate();  // no files: cancel
  } else {
    request.set_shadow(true);  // unshadow: no files, stop
  }
  v1::PublishRulesResponse response;
  if (std::optional<int> failed =
          Call(client, flags, &v1::RulesAdmin::Stub::PublishRules, request,
               &response)) {
    return *failed;
  }
  if (flags.format == "json") {
    PrintJson(response);
  } else if (flags.action == "unshadow") {
    std::cout << "no shadow runs\n";
  } else {
    const char* state = response.ruleset().live()              ? "live"
                        : response.ruleset().has_activate_at() ? "scheduled"
                                                               : "shadow";
    std::cout << state << "  " << Describe(response.ruleset()) << "\n";
  }
  PrintDiagnostics(response.diagnostics());
  return kExitOk;
}

int Rollback(const Client& client, const RulesAdminFlags& flags) {
  v1::RollbackRequest request;
  request.set_revision(flags.revision);
  v1::RollbackResponse response;
  if (std::optional<int> failed = Call(
          client, flags, &v1::RulesAdmin::Stub::Rollback, request, &response)) {
    return *failed;
  }
  if (flags.format == "json") {
    PrintJson(response);
  } else {
    std::cout << "live  " << Describe(response.ruleset()) << "\n";
  }
  PrintDiagnostics(response.diagnostics());
  return kExitOk;
}

}  // namespace

int RulesAdminCommand(const RulesAdminFlags& flags) {
  if (!flags.time_zone.empty() && flags.activate_at.empty()) {
    std::cerr << "leadroute rules publish: --time-zone needs --activate-at\n";
    return kExitUsageOrIo;
  }
  if (flags.shadow && !flags.activate_at.empty()) {
    std::cerr << "leadroute rules publish: --shadow and --activate-at: give "
                 "one of them\n";
    return kExitUsageOrIo;
  }
  absl::StatusOr<Client> client = Client::Connect(flags.client);
  if (!client.ok()) {
    std::cerr << "leadroute rules: " << client.status().message() << "\n";
    return kExitUsageOrIo;
  }
  if (flags.action == "status") return Status(*client, flags);
  if (flags.action == "rollback") return Rollback(*client, flags);
  return Publish(*client, flags);
}

}  // namespace leadroute
