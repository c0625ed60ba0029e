// Role names and the method table; see roles.h.
#include "src/auth/roles.h"

#include <array>

#include "absl/strings/str_cat.h"

namespace leadroute::auth {
namespace {

constexpr std::array<Role, 6> kRoles = {Role::kRoute,  Role::kActivity,
                                        Role::kManage, Role::kRules,
                                        Role::kRead,   Role::kReplica};

constexpr std::array<const MethodRole*, 18> kMethods = {
    &kRoute,         &kRouteBatch,       &kValidateRules, &kPublishRules,
    &kRollback,      &kGetStatus,        &kGetAssignment, &kRecordContact,
    &kRecordOutcome, &kWatchAssignments, &kReleaseLead,   &kCloseLead,
    &kReassign,      &kSetRepStatus,     &kListReps,      &kListLeads,
    &kGetStats,      &kRouteMany};

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kRoute:
      return "route";
    case Role::kActivity:
      return "activity";
    case Role::kManage:
      return "manage";
    case Role::kRules:
      return "rules";
    case Role::kRead:
      return "read";
    case Role::kReplica:
      return "replica";
  }
  return "?";
}

std::string RolesText(Roles roles) {
  std::string out;
  for (Role role : kRoles) {
    if (Has(roles, role))
      absl::StrAppend(&out, out.empty() ? "" : ",", RoleName(role));
  }
  return out.empty() ? "none" : out;
}

std::optional<Role> ParseRole(absl::string_view name) {
  for (Role role : kRoles) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

absl::Span<const Role> AllRoles() { return kRoles; }

absl::Span<const MethodRole* const> AllMethods() { return kMethods; }

}  // namespace leadroute::auth
