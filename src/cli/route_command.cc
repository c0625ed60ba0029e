// `leadroute route`: a thin gRPC client for trying a running server from a
// terminal. A JSON object is one Route call; a JSON array is one RouteBatch.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "src/cli/commands.h"

namespace leadroute {
namespace {

using google::protobuf::util::JsonParseOptions;
using google::protobuf::util::JsonPrintOptions;

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

void PrintJson(const google::protobuf::Message& message) {
  JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json;
}

int ExitFor(const grpc::Status& status) {
  std::cerr << "leadroute route: " << status.error_code() << ": "
            << status.error_message() << "\n";
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT
             ? kExitRulesOrInput
             : kExitUsageOrIo;
}

}  // namespace

int RouteCommand(const RouteFlags& flags) {
  std::string text;
  if (!ReadInput(flags.lead_path, &text)) {
    std::cerr << "leadroute route: cannot read " << flags.lead_path << "\n";
    return kExitUsageOrIo;
  }
  // A batch is written as a JSON array; the proto JSON mapping has no
  // top-level arrays, so wrap it into the request's `leads` field.
  const bool batch =
      absl::StartsWith(absl::StripLeadingAsciiWhitespace(text), "[");
  JsonParseOptions parse;
  parse.ignore_unknown_fields = false;

  auto stub = v1::LeadRouter::NewStub(
      grpc::CreateChannel(flags.server, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(
                           static_cast<int64_t>(flags.timeout_seconds * 1000)));
  v1::RouteOptions options;
  options.set_explain(flags.explain || !flags.why_not.empty());
  for (const std::string& name : flags.why_not) options.add_why_not(name);

  if (batch) {
    v1::RouteBatchRequest request;
    auto parsed = google::protobuf::util::JsonStringToMessage(
        absl::StrCat("{\"leads\":", text, "}"), &request, parse);
    if (!parsed.ok()) {
      std::cerr << "leadroute route: " << flags.lead_path << ": "
                << parsed.message() << "\n";
      return kExitRulesOrInput;
    }
    *request.mutable_options() = options;
    v1::RouteBatchResponse response;
    grpc::Status status = stub->RouteBatch(&context, request, &response);
    if (!status.ok()) return ExitFor(status);
    PrintJson(response);
    for (const v1::RouteResult& r : response.results()) {
      if (r.has_error()) return kExitRulesOrInput;
    }
    return kExitOk;
  }

  v1::RouteRequest request;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      text, request.mutable_lead(), parse);
  if (!parsed.ok()) {
    std::cerr << "leadroute route: " << flags.lead_path << ": "
              << parsed.message() << "\n";
    return kExitRulesOrInput;
  }
  *request.mutable_options() = options;
  v1::RouteResponse response;
  grpc::Status status = stub->Route(&context, request, &response);
  if (!status.ok()) return ExitFor(status);
  PrintJson(response.decision());
  return kExitOk;
}

}  // namespace leadroute
