// TLS from PEM files: what serve's --tls-cert, --tls-key and --tls-client-ca
// name, checked with OpenSSL before gRPC is given them (so a wrong file is
// a clear error at start, and a bad rotation is logged, not silent), and
// the server credentials that reload them when they change.
#ifndef LEADROUTE_SRC_SERVER_TLS_FILES_H_
#define LEADROUTE_SRC_SERVER_TLS_FILES_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace leadroute {

struct TlsFiles {
  std::string cert;       // PEM certificate chain, the server's first
  std::string key;        // PEM private key of that certificate
  std::string client_ca;  // PEM CAs of client certificates; "": no mTLS
  // How often gRPC looks at the files for a new pair.
  absl::Duration refresh = absl::Seconds(1);

  bool enabled() const { return !cert.empty() || !key.empty(); }
};

// What a checked pair holds, for the log.
struct TlsSummary {
  std::string subject;  // of the server's certificate
  absl::Time not_after;
  int client_cas = 0;  // certificates in client_ca
};

// Reads the files and checks that the certificate parses, the key is its
// key, and the client CA file (if any) holds certificates. Errors name the
// flag and the file.
absl::StatusOr<TlsSummary> CheckTlsFiles(const TlsFiles& files);

// gRPC server credentials that watch the files (every `refresh`) and use a
// new pair for new connections once it is complete; with a client CA they
// require and verify a client certificate.
std::shared_ptr<grpc::ServerCredentials> WatchedTlsCredentials(
    const TlsFiles& files);

// gRPC channel credentials from the same files, for a replica calling
// another (the writer): it presents its own certificate (for a server that
// asks for one) and checks the other's against the client CA file when
// given, else the system's authorities; both reloaded as they change.
std::shared_ptr<grpc::ChannelCredentials> WatchedTlsChannelCredentials(
    const TlsFiles& files);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_TLS_FILES_H_
