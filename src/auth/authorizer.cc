// Authorizing calls; see authorizer.h.
#include "src/auth/authorizer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace leadroute::auth {
namespace {

// The token of "Bearer TOKEN" (the scheme in any case); "" when absent.
absl::string_view BearerToken(absl::string_view header) {
  header = absl::StripLeadingAsciiWhitespace(header);
  if (header.size() < 7 ||
      !absl::EqualsIgnoreCase(header.substr(0, 7), "bearer ")) {
    return "";
  }
  return absl::StripAsciiWhitespace(header.substr(7));
}

absl::string_view ShortMethod(const MethodRole& method) {
  absl::string_view name = method.method;
  absl::ConsumePrefix(&name, "/leadroute.v1.");
  return name;
}

absl::Status Decide(const PrincipalSet* set, absl::string_view authorization,
                    absl::Span<const std::string> cert_identities,
                    absl::string_view on_behalf_of, const MethodRole& method,
                    Caller* caller) {
  if (set == nullptr) {
    if (caller != nullptr) *caller = {kAnonymous, kAllRoles};
    return absl::OkStatus();
  }
  const Principal* who = nullptr;
  if (!authorization.empty()) {
    absl::string_view token = BearerToken(authorization);
    if (token.empty()) {
      return absl::UnauthenticatedError(
          "authorization: expected \"Bearer TOKEN\"");
    }
    if (token.size() > kMaxTokenBytes) {
      return absl::UnauthenticatedError(
          absl::StrCat("authorization: the token has ", token.size(),
                       " bytes; tokens have at most ", kMaxTokenBytes));
    }
    who = set->ByToken(HashToken(token));
    if (who == nullptr) {
      return absl::UnauthenticatedError(
          "the bearer token matches no principal of this server's --auth "
          "file (removed, mistyped, or for another server?)");
    }
  } else if (!cert_identities.empty()) {
    who = set->ByCertificate(cert_identities);
    if (who == nullptr) {
      return absl::UnauthenticatedError(absl::StrCat(
          "the client certificate (", cert_identities.front(),
          ") names no principal of this server's --auth file (a cert: line)"));
    }
  } else {
    return absl::UnauthenticatedError(absl::StrCat(
        "no credentials: ", ShortMethod(method), " needs a caller with role \"",
        RoleName(method.role),
        "\"; send `authorization: Bearer TOKEN` (leadroute: --token-file) or "
        "a client certificate"));
  }
  if (!on_behalf_of.empty()) {
    // A replica forwarding a call it let in: the caller it names decides,
    // with the roles this server's file gives that name.
    if (!Has(who->roles, Role::kReplica)) {
      return absl::PermissionDeniedError(
          absl::StrCat(kOnBehalfOfKey,
                       ": only a principal with role \"replica\" may call "
                       "for another; principal \"",
                       who->name, "\" has ", RolesText(who->roles)));
    }
    who = set->ByName(on_behalf_of);
    if (who == nullptr) {
      return absl::UnauthenticatedError(absl::StrCat(
          kOnBehalfOfKey, ": \"", on_behalf_of.substr(0, 64),
          "\" names no principal of this server's --auth file (replicas "
          "must share one)"));
    }
  }
  if (!Has(who->roles, method.role)) {
    return absl::PermissionDeniedError(absl::StrCat(
        ShortMethod(method), " needs role \"", RoleName(method.role),
        "\"; principal \"", who->name, "\" has ", RolesText(who->roles)));
  }
  if (caller != nullptr) *caller = {who->name, who->roles};
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::FromFile(
    std::string path) {
  std::unique_ptr<Authorizer> auth(new Authorizer(std::move(path)));
  if (absl::Status status = auth->Reload(); !status.ok()) return status;
  return auth;
}

absl::Status Authorizer::Reload() {
  if (!enabled()) return absl::OkStatus();
  absl::StatusOr<PrincipalSet> set = PrincipalSet::Load(path_);
  if (!set.ok()) return set.status();
  auto shared = std::make_shared<const PrincipalSet>(*std::move(set));
  absl::MutexLock lock(&mu_);
  set_ = std::move(shared);
  return absl::OkStatus();
}

std::shared_ptr<const PrincipalSet> Authorizer::principals() const {
  absl::ReaderMutexLock lock(&mu_);
  return set_;
}

absl::Status Authorizer::Check(const grpc::ServerContextBase& context,
                               const MethodRole& method, Caller* caller) const {
  if (!enabled()) {
    if (caller != nullptr) *caller = {kAnonymous, kAllRoles};
    return absl::OkStatus();
  }
  std::shared_ptr<const PrincipalSet> set = principals();
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  absl::string_view authorization;
  if (it != metadata.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  absl::string_view on_behalf_of;
  if (auto named = metadata.find(kOnBehalfOfKey); named != metadata.end()) {
    on_behalf_of =
        absl::string_view(named->second.data(), named->second.size());
  }
  std::vector<std::string> identities;
  if (authorization.empty()) identities = CertificateIdentities(context);
  return Decide(set.get(), authorization, identities, on_behalf_of, method,
                caller);
}

absl::Status Authorizer::CheckRequest(
    absl::string_view authorization,
    absl::Span<const std::string> cert_identities, const MethodRole& method,
    Caller* caller) const {
  if (!enabled()) {
    if (caller != nullptr) *caller = {kAnonymous, kAllRoles};
    return absl::OkStatus();
  }
  std::shared_ptr<const PrincipalSet> set = principals();
  return Decide(set.get(), authorization, cert_identities, "", method, caller);
}

std::vector<std::string> CertificateIdentities(
    const grpc::ServerContextBase& context) {
  std::vector<std::string> out;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return out;
  for (const char* property :
       {"x509_common_name", "x509_subject_alternative_name"}) {
    for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
      out.emplace_back(value.data(), value.size());
    }
  }
  return out;
}

}  // namespace leadroute::auth
