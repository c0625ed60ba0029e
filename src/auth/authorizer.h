// Authorizer: lets a call in, or says why not. It holds the --auth file's
// principals (principals.h), reloaded on request (SIGHUP, a change of the
// file) and swapped in whole, so a call sees the old set or the new one,
// never half of each; a bad file keeps the old set. Without --auth it is
// open: every call is let in, as "anonymous" (the server then listens on
// loopback only; see docs/deployment.md).
//
// A call presents a bearer token (`authorization: Bearer TOKEN`, in gRPC
// metadata or an HTTP header), or, with mutual TLS, a client certificate.
// A token decides when both are present. No credential, or one that names
// nobody: UNAUTHENTICATED. A principal without the role the method needs
// (roles.h): PERMISSION_DENIED, naming the role.
//
// A call that comes through another replica (issue 22) carries the
// replica's credential and `leadroute-on-behalf-of: NAME`, the caller the
// replica let in. Only a principal with role "replica" may send it; NAME's
// own roles, in this server's file, then decide, and NAME is the caller.
//
// Thread-safe; Check takes a reader lock for one shared_ptr copy.
#ifndef LEADROUTE_SRC_AUTH_AUTHORIZER_H_
#define LEADROUTE_SRC_AUTH_AUTHORIZER_H_

#include <grpcpp/server_context.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "src/auth/principals.h"
#include "src/auth/roles.h"

namespace leadroute::auth {

// Who a call was let in as when there is no --auth.
inline constexpr char kAnonymous[] = "anonymous";

// Who a call was let in as.
struct Caller {
  std::string name;  // the principal, or kAnonymous
  Roles roles = 0;   // all of them without --auth
};

class Authorizer {
 public:
  // Open: no --auth.
  Authorizer() = default;
  // Reads `path`; a bad file is an error (the server does not start).
  static absl::StatusOr<std::unique_ptr<Authorizer>> FromFile(std::string path);

  // Re-reads the file. On an error keeps the principals it had and says
  // why. Open authorizers have nothing to reload.
  absl::Status Reload();

  bool enabled() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  // The principals now in force (null when open).
  std::shared_ptr<const PrincipalSet> principals() const;

  // Lets a gRPC call to `method` in: OK and who called (in `caller`, when
  // not null), or UNAUTHENTICATED / PERMISSION_DENIED.
  absl::Status Check(const grpc::ServerContextBase& context,
                     const MethodRole& method, Caller* caller) const;
  // The same for an HTTP request: `authorization` is its Authorization
  // header ("" when absent), `cert_identities` its client certificate's
  // names (empty without one).
  absl::Status CheckRequest(absl::string_view authorization,
                            absl::Span<const std::string> cert_identities,
                            const MethodRole& method, Caller* caller) const;

 private:
  explicit Authorizer(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const PrincipalSet> set_ ABSL_GUARDED_BY(mu_);
};

// The names a gRPC peer's verified client certificate carries: its common
// name and subject alternative names; empty without one.
std::vector<std::string> CertificateIdentities(
    const grpc::ServerContextBase& context);

}  // namespace leadroute::auth

#endif  // LEADROUTE_SRC_AUTH_AUTHORIZER_H_
