// The client subcommands' shared calls; see client.h.
#include "src/cli/client.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <iostream>

#include "absl/status/status.h"

namespace leadroute {

std::shared_ptr<grpc::Channel> ClientChannel(const std::string& server) {
  return grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
}

void SetDeadline(grpc::ClientContext* context, double seconds) {
  context->set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
}

void PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json;
}

int FailedCall(const char* command, const grpc::Status& status) {
  // gRPC's codes are absl's, number for number.
  std::cerr << "leadroute " << command << ": "
            << absl::StatusCodeToString(
                   static_cast<absl::StatusCode>(status.error_code()))
            << ": " << status.error_message() << "\n";
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return 1;
    default:
      return 2;
  }
}

}  // namespace leadroute
