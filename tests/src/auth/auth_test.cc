// Roles, tokens and the --auth file, without a server: the method table is
// held to the proto, tokens to SHA-256, and every parse error names its
// line and column.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "leadroute/v1/leadroute.pb.h"
#include "leadroute/v1/replica.pb.h"
#include "src/auth/authorizer.h"
#include "src/auth/principals.h"
#include "src/auth/roles.h"
#include "src/auth/token.h"

namespace leadroute::auth {
namespace {

// Every RPC of every service in leadroute.proto and replica.proto has a
// role, and the table names nothing the protos lack: a new RPC fails here
// until it gets one.
TEST(RolesTest, EveryRpcOfTheProtoHasExactlyOneRole) {
  std::set<std::string> in_proto;
  for (const google::protobuf::FileDescriptor* file :
       {v1::RouteRequest::descriptor()->file(),
        v1::RouteManyRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        in_proto.insert("/" + service->full_name() + "/" +
                        service->method(m)->name());
      }
    }
  }
  std::set<std::string> in_table;
  for (const MethodRole* m : AllMethods()) {
    EXPECT_TRUE(in_table.insert(std::string(m->method)).second) << m->method;
  }
  EXPECT_EQ(in_table, in_proto);
}

TEST(RolesTest, NamesRoundTrip) {
  for (Role role : AllRoles()) {
    EXPECT_EQ(ParseRole(RoleName(role)), role);
  }
  EXPECT_EQ(RolesText(Bit(Role::kRoute) | Bit(Role::kRead)), "route,read");
  EXPECT_EQ(RolesText(0), "none");
  EXPECT_EQ(*ParseRoles("all"), kAllRoles);
  absl::StatusOr<Roles> typo = ParseRoles("route,actvity");
  ASSERT_FALSE(typo.ok());
  EXPECT_TRUE(
      absl::StrContains(typo.status().message(), "did you mean \"activity\"?"))
      << typo.status();
}

TEST(TokenTest, TokensAreRandomAndHashLikeSha256) {
  absl::StatusOr<std::string> a = GenerateToken();
  absl::StatusOr<std::string> b = GenerateToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(absl::StartsWith(*a, "lr_"));
  EXPECT_EQ(a->size(), 3u + 43u);  // 256 bits in base64url
  // echo -n abc | sha256sum
  EXPECT_EQ(HashText(HashToken("abc")),
            "sha256:"
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::optional<TokenHash> back = ParseHashText(HashText(HashToken(*a)));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(SameHash(*back, HashToken(*a)));
  EXPECT_FALSE(SameHash(*back, HashToken(*b)));
  EXPECT_FALSE(ParseHashText("sha256:ABC").has_value());
  EXPECT_FALSE(ParseHashText(*a).has_value());
}

TEST(PrincipalsTest, ReadsTokensAndCertificatesWithComments) {
  const std::string crm = HashText(HashToken("crm-token"));
  const std::string crm2 = HashText(HashToken("crm-token-2"));
  absl::StatusOr<PrincipalSet> set = PrincipalSet::Parse(
      "# who may call\n"
      "\n"
      "crm  route,activity  " +
          crm +
          "  # added 2026-12-01\n"
          "crm  activity,route  " +
          crm2 +
          "\n"
          "revops-ci  rules,read  cert:revops-ci.example.com\n",
      "auth.txt");
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->entries().size(), 3u);
  EXPECT_EQ(set->entries()[0].comment, "added 2026-12-01");
  EXPECT_EQ(set->entries()[0].line, 3);
  const Principal* p = set->ByToken(HashToken("crm-token-2"));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->name, "crm");
  EXPECT_EQ(p->line, 4);
  EXPECT_EQ(set->ByToken(HashToken("nobody")), nullptr);
  const std::vector<std::string> ids = {"other", "revops-ci.example.com"};
  ASSERT_NE(set->ByCertificate(ids), nullptr);
  EXPECT_EQ(set->ByCertificate(ids)->name, "revops-ci");
  EXPECT_EQ(set->ByCertificate(std::vector<std::string>{"x"}), nullptr);
  // A line written back reads as the same principal.
  absl::StatusOr<PrincipalSet> again =
      PrincipalSet::Parse(FormatEntry(set->entries()[0]), "x");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->entries()[0].name, "crm");
  EXPECT_EQ(again->entries()[0].roles, set->entries()[0].roles);
  EXPECT_EQ(again->entries()[0].comment, "added 2026-12-01");
}

TEST(PrincipalsTest, ErrorsNameTheLineAndColumn) {
  const std::string hash = HashText(HashToken("t"));
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"crm route\n", "a:1:1: expected NAME ROLES CREDENTIAL"},
      {"\ncrm route " + hash + " extra\n", "a:2:"},
      {"crm rout " + hash + "\n", "a:1:5: unknown role \"rout\""},
      {"c/rm route " + hash + "\n", "a:1:1: \"c/rm\" is not a name"},
      {"crm route lr_plaintexttoken\n",
       "a:1:11: \"lr_plaintexttoken\" is not a credential"},
      {"crm route cert:\n", "a:1:16: cert: needs the identity"},
      {"a route " + hash + "\nb read " + hash + "\n",
       "a:2:8: this credential is already on line 1"},
      {"crm route " + hash + "\ncrm read cert:x\n",
       "a:2:1: \"crm\" has roles read here but route on line 1"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<PrincipalSet> set = PrincipalSet::Parse(c.text, "a");
    ASSERT_FALSE(set.ok()) << c.text;
    EXPECT_TRUE(absl::StartsWith(set.status().message(), c.error))
        << set.status().message() << "\nwanted: " << c.error;
  }
  EXPECT_FALSE(
      PrincipalSet::Parse(std::string(kMaxAuthFileBytes + 1, '#'), "a").ok());
}

TEST(AuthorizerTest, OpenLetsEveryoneInAsAnonymous) {
  Authorizer open;
  Caller caller;
  ASSERT_TRUE(open.CheckRequest("", {}, kPublishRules, &caller).ok());
  EXPECT_EQ(caller.name, kAnonymous);
  EXPECT_EQ(caller.roles, kAllRoles);
}

// The decision without a server: a token decides, then the method's role;
// anything but "Bearer TOKEN" names nobody.
TEST(AuthorizerTest, DecidesByTokenThenRole) {
  const std::string path = testing::TempDir() + "/authorizer_test.txt";
  std::ofstream(path) << "crm route,activity "
                      << HashText(HashToken("crm-token")) << "\n"
                      << "ci rules cert:ci.example.com\n";
  absl::StatusOr<std::unique_ptr<Authorizer>> auth = Authorizer::FromFile(path);
  ASSERT_TRUE(auth.ok()) << auth.status();
  Caller caller;
  ASSERT_TRUE(
      (*auth)->CheckRequest("bearer  crm-token ", {}, kRoute, &caller).ok());
  EXPECT_EQ(caller.name, "crm");
  EXPECT_EQ(caller.roles, Bit(Role::kRoute) | Bit(Role::kActivity));
  absl::Status denied =
      (*auth)->CheckRequest("Bearer crm-token", {}, kPublishRules, nullptr);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "RulesAdmin/PublishRules needs role \"rules\"; principal \"crm\" "
            "has route,activity");
  for (const char* header : {"", "Basic crm-token", "Bearer", "Bearer nope"}) {
    EXPECT_EQ((*auth)->CheckRequest(header, {}, kRoute, nullptr).code(),
              absl::StatusCode::kUnauthenticated)
        << header;
  }
  EXPECT_EQ((*auth)
                ->CheckRequest("Bearer " + std::string(kMaxTokenBytes + 1, 'x'),
                               {}, kRoute, nullptr)
                .code(),
            absl::StatusCode::kUnauthenticated);
  // A certificate names its principal when no token is sent.
  const std::vector<std::string> cert = {"ci.example.com"};
  ASSERT_TRUE((*auth)->CheckRequest("", cert, kRollback, &caller).ok());
  EXPECT_EQ(caller.name, "ci");
  EXPECT_EQ((*auth)->CheckRequest("", cert, kRoute, nullptr).code(),
            absl::StatusCode::kPermissionDenied);
  // A broken file keeps what was in force.
  std::ofstream(path) << "oops\n";
  EXPECT_FALSE((*auth)->Reload().ok());
  EXPECT_TRUE(
      (*auth)->CheckRequest("Bearer crm-token", {}, kRoute, nullptr).ok());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace leadroute::auth
