// What the client subcommands (`route`, `leads`, `reps`) share: the flags
// that reach a server (address, deadline, bearer token, TLS), a connection
// that puts the token and deadline on every call, the answer printed as
// JSON (as `eval` prints its decision too), and the exit code a failed call
// gives.
#ifndef LEADROUTE_SRC_CLI_CLIENT_H_
#define LEADROUTE_SRC_CLI_CLIENT_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace CLI {
class App;
}

namespace leadroute {

struct ClientFlags {
  std::string server = "127.0.0.1:50051";
  double timeout_seconds = 10;
  std::string token_file;       // its first line is the bearer token
  std::string tls_ca;           // verify the server with these CAs; TLS on
  std::string tls_cert;         // a client certificate (mutual TLS) ...
  std::string tls_key;          // ... and its key
  std::string tls_server_name;  // the name the server's certificate has
};
// Declares --server, --timeout, --token-file (or $LEADROUTE_TOKEN_FILE),
// --tls-ca, --tls-cert, --tls-key and --tls-server-name on `command`.
void AddClientFlags(CLI::App* command, ClientFlags* flags);

class Client {
 public:
  // Reads the token and TLS files; errors name the flag and the file.
  static absl::StatusOr<Client> Connect(const ClientFlags& flags);

  grpc::Channel& channel() const { return *channel_; }
  std::shared_ptr<grpc::Channel> shared_channel() const { return channel_; }
  // Sets the deadline and, with a token, the authorization metadata.
  void Prepare(grpc::ClientContext* context) const;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string authorization_;  // "Bearer TOKEN", or ""
  double timeout_seconds_ = 10;
};

// `message` as indented proto JSON with the proto's field names, on stdout.
void PrintJson(const google::protobuf::Message& message);
// Says "leadroute COMMAND: CODE: message" on stderr; exit 1 for a call the
// input made wrong (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION), 2
// otherwise (no server, no or the wrong credentials, a deadline, the
// server's own failure).
int FailedCall(const char* command, const grpc::Status& status);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_CLI_CLIENT_H_
