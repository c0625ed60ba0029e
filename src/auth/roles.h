// Roles and which one each RPC needs: the one table that says who may call
// what. A caller's roles are a bit set; a handler names its RPC (a
// MethodRole below) when it asks the Authorizer (authorizer.h) to let a call
// in, so the role a method needs is written here and nowhere else.
#ifndef LEADROUTE_SRC_AUTH_ROLES_H_
#define LEADROUTE_SRC_AUTH_ROLES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace leadroute::auth {

// One bit each; a principal holds any set of them.
enum class Role : uint8_t {
  kRoute = 1 << 0,     // decide leads: Route, RouteBatch
  kActivity = 1 << 1,  // what a CRM reports and reads back about its leads
  kManage = 1 << 2,    // move leads and set rep status, as an ops team does
  kRules = 1 << 3,     // validate, publish and roll back rulesets
  kRead = 1 << 4,      // status, stats and metrics: nothing personal
  // Another replica of this deployment (issue 22), forwarding a call it
  // let in: may name the caller it acts for (leadroute-on-behalf-of), whose
  // own roles then decide. Not part of "all": a person's admin token must
  // not be able to act as someone else.
  kReplica = 1 << 5,
};
using Roles = uint8_t;
// "all" in an --auth file, and an anonymous caller's roles without --auth:
// every role but kReplica.
inline constexpr Roles kAllRoles = 0x1f;

inline constexpr Roles Bit(Role role) { return static_cast<Roles>(role); }
inline constexpr bool Has(Roles roles, Role role) {
  return (roles & Bit(role)) != 0;
}

// "route", "activity", ...
absl::string_view RoleName(Role role);
// "route,activity" in the order of the enum; "none" for none.
std::string RolesText(Roles roles);
// A role's name back to the role; nullopt for an unknown name.
std::optional<Role> ParseRole(absl::string_view name);
// Every role, in the order of the enum (kReplica too).
absl::Span<const Role> AllRoles();

// An RPC by its full gRPC name and the role it needs.
struct MethodRole {
  absl::string_view method;  // "/leadroute.v1.LeadRouter/Route"
  Role role;
};

inline constexpr MethodRole kRoute{"/leadroute.v1.LeadRouter/Route",
                                   Role::kRoute};
inline constexpr MethodRole kRouteBatch{"/leadroute.v1.LeadRouter/RouteBatch",
                                        Role::kRoute};
// A follower's Route calls, sent on to the writer together (replica.proto):
// the caller's role for Route, not a replica's.
inline constexpr MethodRole kRouteMany{"/leadroute.v1.Writer/RouteMany",
                                       Role::kRoute};
inline constexpr MethodRole kValidateRules{
    "/leadroute.v1.RulesAdmin/ValidateRules", Role::kRules};
inline constexpr MethodRole kPublishRules{
    "/leadroute.v1.RulesAdmin/PublishRules", Role::kRules};
inline constexpr MethodRole kRollback{"/leadroute.v1.RulesAdmin/Rollback",
                                      Role::kRules};
inline constexpr MethodRole kGetStatus{"/leadroute.v1.RulesAdmin/GetStatus",
                                       Role::kRead};
inline constexpr MethodRole kGetAssignment{
    "/leadroute.v1.Assignments/GetAssignment", Role::kActivity};
inline constexpr MethodRole kRecordContact{
    "/leadroute.v1.Assignments/RecordContact", Role::kActivity};
inline constexpr MethodRole kRecordOutcome{
    "/leadroute.v1.Assignments/RecordOutcome", Role::kActivity};
inline constexpr MethodRole kWatchAssignments{
    "/leadroute.v1.Assignments/WatchAssignments", Role::kActivity};
inline constexpr MethodRole kReleaseLead{
    "/leadroute.v1.Assignments/ReleaseLead", Role::kManage};
inline constexpr MethodRole kCloseLead{"/leadroute.v1.Assignments/CloseLead",
                                       Role::kManage};
inline constexpr MethodRole kReassign{"/leadroute.v1.Assignments/Reassign",
                                      Role::kManage};
inline constexpr MethodRole kSetRepStatus{
    "/leadroute.v1.Assignments/SetRepStatus", Role::kManage};
inline constexpr MethodRole kListReps{"/leadroute.v1.Assignments/ListReps",
                                      Role::kManage};
// Every lead with its owner: an operator's view, not a CRM's.
inline constexpr MethodRole kListLeads{"/leadroute.v1.Assignments/ListLeads",
                                       Role::kManage};
inline constexpr MethodRole kGetStats{"/leadroute.v1.Assignments/GetStats",
                                      Role::kRead};
// The metadata key a replica names the caller it forwards for with.
inline constexpr char kOnBehalfOfKey[] = "leadroute-on-behalf-of";

// The admin HTTP port's /metrics and /status (/healthz is open).
inline constexpr MethodRole kAdminHttp{"admin http", Role::kRead};

// Every RPC of leadroute.v1 (not kAdminHttp). A test holds it equal to the
// services of leadroute.proto and replica.proto, so a new RPC cannot be served
// without a role.
absl::Span<const MethodRole* const> AllMethods();

}  // namespace leadroute::auth

#endif  // LEADROUTE_SRC_AUTH_ROLES_H_
