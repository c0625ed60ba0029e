// `leadroute leads ...` and `leadroute reps ...`: the day-to-day operations
// of the Assignments service from a terminal, against a running server.
// Each prints a short line per lead or rep, or the answer as JSON with
// `--format json`.
#include <cstdio>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "runtime/clock.h"
#include "src/cli/client.h"
#include "src/cli/commands.h"
#include "src/wire/proto_time.h"

namespace leadroute {
namespace {

std::string Time(const google::protobuf::Timestamp& t) {
  return runtime::Rfc3339Seconds(absl::FromUnixSeconds(t.seconds()));
}

// `--flag`'s time: RFC 3339, or a span from now ("4h", "3d").
bool ParseWhenFlag(const char* flag, const std::string& text,
                   google::protobuf::Timestamp* out) {
  if (absl::StatusOr<absl::Time> t = ParseWhen(flag, text); t.ok()) {
    TimeToProto(*t, out);
    return true;
  }
  if (std::optional<absl::Duration> span = ParseSpan(text)) {
    TimeToProto(absl::Now() + *span, out);
    return true;
  }
  std::cerr << "leadroute: " << flag << ": \"" << text
            << "\" is neither an RFC 3339 time (2026-12-01T09:00:00Z) nor a "
               "span from now (4h, 3d)\n";
  return false;
}

// The part of an enum value's name after its type's prefix, lower case:
// LEAD_STATUS_OPEN -> open.
std::string Short(const std::string& name, const char* prefix) {
  return absl::AsciiStrToLower(absl::StripPrefix(name, prefix));
}

void PrintLead(const v1::Assignment& a) {
  std::string owner = a.owner().empty() ? "(nobody)" : a.owner();
  const std::string kind =
      Short(v1::OwnerKind_Name(a.owner_kind()), "OWNER_KIND_");
  std::string line =
      absl::StrCat(a.lead_id(), "  ", owner, " (", kind,
                   a.team().empty() ? "" : ", team " + a.team(), ")  ",
                   Short(v1::LeadStatus_Name(a.status()), "LEAD_STATUS_"));
  if (a.sla_status() != v1::SLA_STATUS_UNSPECIFIED) {
    absl::StrAppend(&line, "  SLA ",
                    Short(v1::SlaStatus_Name(a.sla_status()), "SLA_STATUS_"));
  }
  if (a.has_respond_by() && a.sla_status() == v1::SLA_STATUS_PENDING) {
    absl::StrAppend(&line, ", respond by ", Time(a.respond_by()));
  }
  if (a.sla_missed_by_size() > 0) {
    absl::StrAppend(&line, ", missed by ",
                    absl::StrJoin(a.sla_missed_by(), ", "));
  }
  if (a.outcome() != v1::OUTCOME_UNSPECIFIED) {
    absl::StrAppend(&line, "  ",
                    Short(v1::Outcome_Name(a.outcome()), "OUTCOME_"));
  }
  std::printf("%s\n", line.c_str());
}

void PrintRep(const v1::RepState& r) {
  std::string line = absl::StrCat(
      r.rep(), "  ",
      Short(v1::RepAvailability_Name(r.availability()), "REP_AVAILABILITY_"),
      r.has_until() ? " until " + Time(r.until()) : "",
      r.note().empty() ? "" : " (" + r.note() + ")", "  open ", r.open_leads(),
      ", today ", r.assigned_today(), ", this week ", r.assigned_this_week(),
      "  ", r.can_take_leads() ? "takes leads" : "takes none: " + r.reason());
  std::printf("%s\n", line.c_str());
}

// Makes one call that answers with a lead, then prints the lead; the exit
// code.
template <typename Request, typename Response>
int Send(const OpsFlags& flags, const Client& client,
         v1::Assignments::Stub& stub,
         grpc::Status (v1::Assignments::Stub::*method)(grpc::ClientContext*,
                                                       const Request&,
                                                       Response*),
         const Request& request) {
  grpc::ClientContext context;
  client.Prepare(&context);
  Response response;
  const grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return FailedCall("leads", status);
  if (flags.format == "json") {
    PrintJson(response.assignment());
  } else {
    PrintLead(response.assignment());
  }
  return kExitOk;
}

int List(const OpsFlags& flags, const Client& client,
         v1::Assignments::Stub& stub) {
  v1::ListLeadsRequest request;
  request.set_owner(flags.owner);
  if (!flags.status.empty()) {
    v1::LeadStatus s;
    if (!v1::LeadStatus_Parse(
            "LEAD_STATUS_" + absl::AsciiStrToUpper(flags.status), &s) ||
        s == v1::LEAD_STATUS_UNSPECIFIED) {
      std::cerr << "leadroute leads list: --status: \"" << flags.status
                << "\" is not one of open, released, closed, unassigned\n";
      return kExitUsageOrIo;
    }
    request.set_status(s);
  }
  v1::ListLeadsResponse all;
  int left = flags.limit;
  while (left > 0) {
    request.set_page_size(std::min(left, 1000));
    grpc::ClientContext context;
    client.Prepare(&context);
    v1::ListLeadsResponse page;
    grpc::Status status = stub.ListLeads(&context, request, &page);
    if (!status.ok()) return FailedCall("leads list", status);
    left -= page.leads_size();
    for (v1::Assignment& a : *page.mutable_leads()) {
      *all.add_leads() = std::move(a);
    }
    all.set_next_page_token(page.next_page_token());
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (flags.format == "json") {
    PrintJson(all);
    return kExitOk;
  }
  for (const v1::Assignment& a : all.leads()) PrintLead(a);
  if (!all.next_page_token().empty()) {
    std::fprintf(stderr, "(more than %d: raise --limit)\n", flags.limit);
  }
  return kExitOk;
}

}  // namespace

int LeadsCommand(const OpsFlags& flags) {
  absl::StatusOr<Client> client = Client::Connect(flags.client);
  if (!client.ok()) {
    std::cerr << "leadroute leads: " << client.status().message() << "\n";
    return kExitUsageOrIo;
  }
  auto stub = v1::Assignments::NewStub(client->shared_channel());
  if (flags.action == "list") return List(flags, *client, *stub);
  if (flags.action == "get") {
    v1::GetAssignmentRequest request;
    request.set_lead_id(flags.lead_id);
    return Send(flags, *client, *stub, &v1::Assignments::Stub::GetAssignment,
                request);
  }
  if (flags.action == "contact") {
    v1::RecordContactRequest request;
    request.set_lead_id(flags.lead_id);
    request.set_channel(flags.channel);
    if (!flags.at.empty() &&
        !ParseWhenFlag("--at", flags.at, request.mutable_at())) {
      return kExitUsageOrIo;
    }
    return Send(flags, *client, *stub, &v1::Assignments::Stub::RecordContact,
                request);
  }
  if (flags.action == "outcome") {
    v1::Outcome outcome;
    if (!v1::Outcome_Parse("OUTCOME_" + absl::AsciiStrToUpper(flags.outcome),
                           &outcome) ||
        outcome == v1::OUTCOME_UNSPECIFIED) {
      std::cerr << "leadroute leads outcome: \"" << flags.outcome
                << "\" is not one of contacted, qualified, opportunity, won, "
                   "lost\n";
      return kExitUsageOrIo;
    }
    v1::RecordOutcomeRequest request;
    request.set_lead_id(flags.lead_id);
    request.set_outcome(outcome);
    if (!flags.at.empty() &&
        !ParseWhenFlag("--at", flags.at, request.mutable_at())) {
      return kExitUsageOrIo;
    }
    return Send(flags, *client, *stub, &v1::Assignments::Stub::RecordOutcome,
                request);
  }
  if (flags.action == "reassign") {
    v1::ReassignRequest request;
    request.set_lead_id(flags.lead_id);
    request.set_reason(flags.reason);
    const std::pair<std::string, std::string> to =
        absl::StrSplit(flags.to, absl::MaxSplits(':', 1));
    if (to.first == "rep") {
      request.set_rep(to.second);
    } else if (to.first == "team") {
      request.set_team(to.second);
    } else if (to.first == "queue") {
      request.set_queue(to.second);
    } else {
      std::cerr << "leadroute leads reassign: --to: \"" << flags.to
                << "\" is not rep:NAME, team:NAME or queue:NAME\n";
      return kExitUsageOrIo;
    }
    return Send(flags, *client, *stub, &v1::Assignments::Stub::Reassign,
                request);
  }
  if (flags.action == "release") {
    v1::ReleaseLeadRequest request;
    request.set_lead_id(flags.lead_id);
    request.set_reason(flags.reason);
    return Send(flags, *client, *stub, &v1::Assignments::Stub::ReleaseLead,
                request);
  }
  if (flags.action == "close") {
    v1::CloseLeadRequest request;
    request.set_lead_id(flags.lead_id);
    request.set_reason(flags.reason);
    return Send(flags, *client, *stub, &v1::Assignments::Stub::CloseLead,
                request);
  }
  return kExitUsageOrIo;
}

int RepsCommand(const OpsFlags& flags) {
  absl::StatusOr<Client> client = Client::Connect(flags.client);
  if (!client.ok()) {
    std::cerr << "leadroute reps: " << client.status().message() << "\n";
    return kExitUsageOrIo;
  }
  auto stub = v1::Assignments::NewStub(client->shared_channel());
  grpc::ClientContext context;
  client->Prepare(&context);
  if (flags.action == "list") {
    v1::ListRepsResponse response;
    grpc::Status status =
        stub->ListReps(&context, v1::ListRepsRequest(), &response);
    if (!status.ok()) return FailedCall("reps list", status);
    if (flags.format == "json") {
      PrintJson(response);
    } else {
      for (const v1::RepState& r : response.reps()) PrintRep(r);
    }
    return kExitOk;
  }
  // status REP available|away|ooo
  v1::SetRepStatusRequest request;
  request.set_rep(flags.rep);
  const std::string a = absl::AsciiStrToLower(flags.availability);
  if (a == "available") {
    request.set_availability(v1::REP_AVAILABILITY_AVAILABLE);
  } else if (a == "away") {
    request.set_availability(v1::REP_AVAILABILITY_AWAY);
  } else if (a == "ooo" || a == "out_of_office") {
    request.set_availability(v1::REP_AVAILABILITY_OUT_OF_OFFICE);
  } else {
    std::cerr << "leadroute reps status: \"" << flags.availability
              << "\" is not one of available, away, ooo\n";
    return kExitUsageOrIo;
  }
  if (!flags.until.empty() &&
      !ParseWhenFlag("--until", flags.until, request.mutable_until())) {
    return kExitUsageOrIo;
  }
  request.set_note(flags.note);
  v1::SetRepStatusResponse response;
  grpc::Status status = stub->SetRepStatus(&context, request, &response);
  if (!status.ok()) return FailedCall("reps status", status);
  if (flags.format == "json") {
    PrintJson(response.rep());
  } else {
    PrintRep(response.rep());
  }
  return kExitOk;
}

}  // namespace leadroute
