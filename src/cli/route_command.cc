// `leadroute route`: a thin gRPC client for trying a running server from a
// terminal. A JSON object is one Route call; a JSON array is one RouteBatch.
// Leads are plain or proto JSON (lead_json.h).
#include <google/protobuf/util/json_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "src/cli/client.h"
#include "src/cli/commands.h"
#include "src/cli/lead_json.h"
#include "src/wire/proto_time.h"

namespace leadroute {
namespace {

bool ReadInput(const std::string& path, std::string* out) {
  if (path == "-") {
    std::ostringstream buf;
    buf << std::cin.rdbuf();
    *out = buf.str();
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return !in.bad();
}

}  // namespace

int RouteCommand(const RouteFlags& flags) {
  std::string text;
  if (!ReadInput(flags.lead_path, &text)) {
    std::cerr << "leadroute route: cannot read " << flags.lead_path << "\n";
    return kExitUsageOrIo;
  }
  absl::StatusOr<nlohmann::json> json = ParseJson(text);
  if (!json.ok()) {
    std::cerr << "leadroute route: " << flags.lead_path << ": "
              << json.status().message() << "\n";
    return kExitRulesOrInput;
  }
  const bool batch = json->is_array();
  if (batch && json->empty()) {
    std::cerr << "leadroute route: " << flags.lead_path
              << ": an empty array, no lead to route\n";
    return kExitRulesOrInput;
  }

  absl::StatusOr<Client> client = Client::Connect(flags.client);
  if (!client.ok()) {
    std::cerr << "leadroute route: " << client.status().message() << "\n";
    return kExitUsageOrIo;
  }
  auto stub = v1::LeadRouter::NewStub(client->shared_channel());
  grpc::ClientContext context;
  client->Prepare(&context);
  v1::RouteOptions options;
  options.set_explain(flags.explain || !flags.why_not.empty());
  for (const std::string& name : flags.why_not) options.add_why_not(name);
  options.set_reroute(flags.reroute);
  if (!flags.received_at.empty()) {
    absl::StatusOr<absl::Time> t =
        ParseWhen("--received-at", flags.received_at);
    if (!t.ok()) {
      std::cerr << "leadroute route: " << t.status().message() << "\n";
      return kExitUsageOrIo;
    }
    TimeToProto(*t, options.mutable_received_at());
  }

  if (batch) {
    v1::RouteBatchRequest request;
    for (size_t i = 0; i < json->size(); ++i) {
      absl::StatusOr<v1::Lead> lead = LeadFromJson((*json)[i]);
      if (!lead.ok()) {
        std::cerr << "leadroute route: " << flags.lead_path << ": [" << i
                  << "] " << lead.status().message() << "\n";
        return kExitRulesOrInput;
      }
      *request.add_leads() = *std::move(lead);
    }
    *request.mutable_options() = options;
    v1::RouteBatchResponse response;
    grpc::Status status = stub->RouteBatch(&context, request, &response);
    if (!status.ok()) return FailedCall("route", status);
    PrintJson(response);
    for (const v1::RouteResult& r : response.results()) {
      if (r.has_error()) return kExitRulesOrInput;
    }
    return kExitOk;
  }

  v1::RouteRequest request;
  absl::StatusOr<v1::Lead> lead = LeadFromJson(*json);
  if (!lead.ok()) {
    std::cerr << "leadroute route: " << flags.lead_path << ": "
              << lead.status().message() << "\n";
    return kExitRulesOrInput;
  }
  *request.mutable_lead() = *std::move(lead);
  *request.mutable_options() = options;
  v1::RouteResponse response;
  grpc::Status status = stub->Route(&context, request, &response);
  if (!status.ok()) return FailedCall("route", status);
  PrintJson(response.decision());
  return kExitOk;
}

}  // namespace leadroute
