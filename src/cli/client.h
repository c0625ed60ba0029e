// What the client subcommands (`route`, `leads`, `reps`) share: a channel
// to a running server with the call's deadline, the answer printed as JSON
// (as `eval` prints its decision too), and the exit code a failed call
// gives.
#ifndef LEADROUTE_SRC_CLI_CLIENT_H_
#define LEADROUTE_SRC_CLI_CLIENT_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace leadroute {

// A channel to `server` (host:port), plain text on loopback.
std::shared_ptr<grpc::Channel> ClientChannel(const std::string& server);
// Sets a deadline `seconds` from now on `context`.
void SetDeadline(grpc::ClientContext* context, double seconds);
// `message` as indented proto JSON with the proto's field names, on stdout.
void PrintJson(const google::protobuf::Message& message);
// Says "leadroute COMMAND: CODE: message" on stderr; exit 1 for a call the
// input made wrong (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION), 2
// otherwise (no server, a deadline, the server's own failure).
int FailedCall(const char* command, const grpc::Status& status);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_CLI_CLIENT_H_
