// The --auth file: who may call, with what credential, in which roles. One
// principal's credential per line, as htpasswd keeps users:
//
//   # NAME      ROLES            CREDENTIAL                    COMMENT
//   backend     route            sha256:9f86d081884c7d65...    # added ...
//   crm         route,activity   sha256:60303ae22b998861...
//   revops-ci   rules,read       cert:revops-ci.example.com
//
// A credential is a bearer token's SHA-256 (token.h) or `cert:IDENTITY`, a
// client certificate whose common name or a subject alternative name is
// IDENTITY (mutual TLS). A name may have several lines (a token being
// rotated, a token and a certificate), always with the same roles.
#ifndef LEADROUTE_SRC_AUTH_PRINCIPALS_H_
#define LEADROUTE_SRC_AUTH_PRINCIPALS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "src/auth/roles.h"
#include "src/auth/token.h"

namespace leadroute::auth {

// Bigger files are refused (and more lines than this).
inline constexpr size_t kMaxAuthFileBytes = 1 << 20;
inline constexpr size_t kMaxPrincipals = 10000;

struct Principal {
  std::string name;
  Roles roles = 0;
  std::optional<TokenHash> token;  // set for a token line
  std::string cert;                // set for a cert: line
  std::string comment;             // after '#', trimmed
  int line = 0;

  // "sha256:1f2e3d4c5b6a" (the hash's first 12 digits, to tell two tokens
  // of one name apart) or "cert:IDENTITY".
  std::string Id() const;
};

class PrincipalSet {
 public:
  // Errors say "PATH:LINE:COL: what" (`path` only names the file).
  static absl::StatusOr<PrincipalSet> Parse(absl::string_view text,
                                            absl::string_view path);
  // Reads and parses `path`.
  static absl::StatusOr<PrincipalSet> Load(const std::string& path);

  // The principal whose token hashes to `hash`. Every token is compared, in
  // constant time, whether or not one matched earlier.
  const Principal* ByToken(const TokenHash& hash) const;
  // The first cert: principal naming one of `identities` (a certificate's
  // common name and SANs).
  const Principal* ByCertificate(
      absl::Span<const std::string> identities) const;

  // The first line naming `name` (every line of a name has its roles).
  const Principal* ByName(absl::string_view name) const;

  const std::vector<Principal>& entries() const { return entries_; }

 private:
  std::vector<Principal> entries_;
};

// The line `p` is written as, without a newline.
std::string FormatEntry(const Principal& p);

// "route,activity" (or "all") to roles; errors name the unknown role with a
// did-you-mean.
absl::StatusOr<Roles> ParseRoles(absl::string_view text);

}  // namespace leadroute::auth

#endif  // LEADROUTE_SRC_AUTH_PRINCIPALS_H_
