// Trust through the real server over real gRPC channels: every RPC of the
// proto called with no token, a wrong token, a token of the wrong role and
// one of the right role; the --auth file reloaded under load; health open;
// the admin port's bearer check; who may listen where; and TLS, mutual TLS
// and certificate rotation with certificates the openssl command line
// makes at test time.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "leadroute/v1/replica.pb.h"
#include "runtime/fixed_policy.h"
#include "runtime/sqlite_store.h"
#include "src/auth/roles.h"
#include "src/auth/token.h"
#include "src/server/exposure.h"
#include "src/server/server.h"
#include "tests/child_process.h"
#include "tests/src/server/grpc_test_util.h"
#include "tests/src/server/state_server_fixture.h"
#include "tests/src/server/test_certs.h"
#include "tests/test_dir.h"

namespace leadroute {
namespace {

constexpr const char* kRules = R"(
ruleset "auth-test" version "1"
schema {
  region: string required
  email: string pii
}
rep r1 { }
rep r2 { }
team pool { members = [r1, r2] strategy = round_robin sticky = 30d }
queue later
assign {
  rule pool when region == "pool" then team pool
  otherwise queue later
}
)";

// The token of principal NAME in these tests is "token-NAME".
std::string Token(const std::string& name) { return "token-" + name; }

// An --auth file line for NAME with ROLES.
std::string Line(const std::string& name, const std::string& roles) {
  return absl::StrCat(name, " ", roles, " ",
                      auth::HashText(auth::HashToken(Token(name))), "\n");
}

// For each role R: only-R has R alone, but-R every role except R; admin
// has them all.
std::string AuthFile() {
  std::string out = Line("admin", "all");
  for (auth::Role role : auth::AllRoles()) {
    const std::string name(auth::RoleName(role));
    absl::StrAppend(&out, Line("only-" + name, name));
    out += Line("but-" + name,
                auth::RolesText(auth::kAllRoles & ~auth::Bit(role)));
  }
  return out;
}

// Waits until `count` reaches `at_least`, for at most 30 s; false when it
// did not (the load got stuck: the test fails instead of hanging).
bool WaitFor(const std::atomic<int>& count, int at_least) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (count < at_least) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

grpc::Status CallUnary(const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& method, const std::string& request,
                       const std::string& token) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  grpc::Slice slice(request);
  grpc::ByteBuffer in(&slice, 1), out;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &in, &out,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

class AuthServerTest : public testing_util::StateServerFixture {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("auth_server");
    std::filesystem::create_directories(dir_ / "data");
    std::ofstream(dir_ / "rules.route") << kRules;
    std::ofstream(dir_ / "auth.txt") << AuthFile();
    Start();
  }
  void Configure(ServerOptions* options) override {
    options->auth_file = (dir_ / "auth.txt").string();
    options->admin_listen = "127.0.0.1:0";
    options->decision_log.path = (dir_ / "decisions.jsonl").string();
    options->attributes.mask = {"REGION"};
  }

  // Routes `id` to the pool as admin.
  void RoutePool(const std::string& id) {
    v1::RouteRequest request;
    request.mutable_lead()->set_id(id);
    (*request.mutable_lead()->mutable_attributes())["region"].set_string_value(
        "pool");
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + Token("admin"));
    v1::RouteResponse response;
    ASSERT_TRUE(router_->Route(&context, request, &response).ok());
  }

  // A request for `method` (its short name) that succeeds for a caller
  // with the role, as text format.
  std::string RequestText(const std::string& method) {
    const std::string rules2 =
        absl::CEscape(absl::StrReplaceAll(kRules, {{"\"1\"", "\"2\""}}));
    v1::RouteRequest route;
    route.mutable_lead()->set_id("m-many");
    (*route.mutable_lead()->mutable_attributes())["region"].set_string_value(
        "pool");
    const std::map<std::string, std::string> requests = {
        {"Route", R"(lead { id: "m-route" attributes { key: "region" value {
           string_value: "pool" } } })"},
        {"RouteMany",
         absl::StrCat("routes: \"", absl::CEscape(route.SerializeAsString()),
                      "\"")},
        {"RouteBatch", R"(leads { id: "m-batch" attributes { key: "region"
           value { string_value: "pool" } } })"},
        {"ValidateRules",
         absl::StrCat("files { path: \"r.route\" content: \"", rules2, "\" }")},
        {"PublishRules",
         absl::StrCat("files { path: \"r.route\" content: \"", rules2, "\" }")},
        {"Rollback", "revision: 1"},
        {"GetStatus", ""},
        {"GetAssignment", R"(lead_id: "a-get")"},
        {"ListLeads", ""},
        {"ReleaseLead", R"(lead_id: "a-release")"},
        {"CloseLead", R"(lead_id: "a-close")"},
        {"Reassign", R"(lead_id: "a-reassign" rep: "r2")"},
        {"SetRepStatus", R"(rep: "r1" availability: REP_AVAILABILITY_AWAY)"},
        {"ListReps", ""},
        {"RecordContact", R"(lead_id: "a-contact" channel: "phone")"},
        {"RecordOutcome", R"(lead_id: "a-outcome" outcome: OUTCOME_QUALIFIED)"},
        {"WatchAssignments", ""},
        {"GetStats", ""},
    };
    auto it = requests.find(method);
    return it == requests.end() ? "?" : it->second;
  }
};

// The matrix of the issue: for every RPC the proto has, in the order it
// declares them, no token / a wrong token / the wrong role / the right role
// answer UNAUTHENTICATED / UNAUTHENTICATED / PERMISSION_DENIED (naming the
// role) / OK.
TEST_F(AuthServerTest, EveryRpcNeedsItsRole) {
  for (const char* id : {"a-get", "a-release", "a-close", "a-reassign",
                         "a-contact", "a-outcome"}) {
    RoutePool(id);
  }
  std::map<std::string, auth::Role> roles;
  for (const auth::MethodRole* m : auth::AllMethods()) {
    roles[std::string(m->method)] = m->role;
  }
  int checked = 0;
  for (const google::protobuf::FileDescriptor* file :
       {v1::RouteRequest::descriptor()->file(),
        v1::RouteManyRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const google::protobuf::MethodDescriptor* method = service->method(m);
        const std::string full =
            absl::StrCat("/", service->full_name(), "/", method->name());
        SCOPED_TRACE(full);
        ASSERT_TRUE(roles.contains(full)) << "no role for " << full;
        const std::string role(auth::RoleName(roles[full]));
        const std::string text = RequestText(method->name());
        ASSERT_NE(text, "?") << "add a request for the new RPC " << full;
        std::unique_ptr<google::protobuf::Message> request(
            google::protobuf::MessageFactory::generated_factory()
                ->GetPrototype(method->input_type())
                ->New());
        ASSERT_TRUE(
            google::protobuf::TextFormat::ParseFromString(text, request.get()));
        const std::string bytes = request->SerializeAsString();

        if (method->server_streaming()) {
          auto call = [&](const std::string& token, bool* got_event) {
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() +
                                 std::chrono::seconds(10));
            if (!token.empty()) {
              context.AddMetadata("authorization", "Bearer " + token);
            }
            v1::WatchAssignmentsRequest watch;
            watch.ParseFromString(bytes);
            auto reader = assignments_->WatchAssignments(&context, watch);
            v1::AssignmentEvent event;
            *got_event = reader->Read(&event);
            if (*got_event) context.TryCancel();
            return reader->Finish();
          };
          bool event = false;
          EXPECT_EQ(call("", &event).error_code(),
                    grpc::StatusCode::UNAUTHENTICATED);
          EXPECT_EQ(call("lr_wrong", &event).error_code(),
                    grpc::StatusCode::UNAUTHENTICATED);
          grpc::Status denied = call(Token("but-" + role), &event);
          EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
          EXPECT_FALSE(event);
          call(Token("only-" + role), &event);
          EXPECT_TRUE(event) << "the stream gave no event to its role";
          ++checked;
          continue;
        }
        grpc::Status none = CallUnary(channel_, full, bytes, "");
        EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << none.error_message();
        EXPECT_TRUE(absl::StrContains(none.error_message(),
                                      "needs a caller with role \"" + role))
            << none.error_message();
        grpc::Status wrong = CallUnary(channel_, full, bytes, "lr_wrong");
        EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << wrong.error_message();
        grpc::Status denied =
            CallUnary(channel_, full, bytes, Token("but-" + role));
        EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << denied.error_message();
        EXPECT_TRUE(absl::StrContains(
            denied.error_message(),
            absl::StrCat("needs role \"", role, "\"; principal \"but-", role)))
            << denied.error_message();
        grpc::Status ok =
            CallUnary(channel_, full, bytes, Token("only-" + role));
        EXPECT_TRUE(ok.ok()) << ok.error_code() << ": " << ok.error_message();
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, static_cast<int>(auth::AllMethods().size()));
}

// Who changed what: PublishRules, Rollback, SetRepStatus and a lead's
// changes by different principals are each one audit record naming them
// and their address, the lead's events name them, and GetStatus says who
// published each ruleset and who made the live one live.
TEST_F(AuthServerTest, AuditNamesWhoChangedWhat) {
  RoutePool("audited");
  auto call = [&](const std::string& method, const std::string& text,
                  const std::string& principal) {
    const google::protobuf::MethodDescriptor* m =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
            "leadroute.v1." + method);
    EXPECT_NE(m, nullptr) << method;
    std::unique_ptr<google::protobuf::Message> request(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(m->input_type())
            ->New());
    EXPECT_TRUE(
        google::protobuf::TextFormat::ParseFromString(text, request.get()));
    return CallUnary(
        channel_, absl::StrCat("/", m->service()->full_name(), "/", m->name()),
        request->SerializeAsString(), Token(principal));
  };
  ASSERT_TRUE(
      call("RulesAdmin.PublishRules", RequestText("PublishRules"), "only-rules")
          .ok());
  ASSERT_TRUE(call("RulesAdmin.Rollback", "revision: 1", "admin").ok());
  // Revision 2's files run as the shadow, then shadowing stops.
  ASSERT_TRUE(call("RulesAdmin.PublishRules",
                   RequestText("PublishRules") + " shadow: true", "only-rules")
                  .ok());
  ASSERT_TRUE(
      call("RulesAdmin.PublishRules", "shadow: true", "only-rules").ok());
  ASSERT_TRUE(call("Assignments.SetRepStatus",
                   R"(rep: "r1" availability: REP_AVAILABILITY_AWAY
                      note: "dentist")",
                   "only-manage")
                  .ok());
  ASSERT_TRUE(call("Assignments.Reassign",
                   R"(lead_id: "audited" rep: "r2" reason: "knows them")",
                   "only-manage")
                  .ok());
  ASSERT_TRUE(call("Assignments.RecordContact",
                   R"(lead_id: "audited" channel: "phone")", "only-activity")
                  .ok());

  auto admin = v1::RulesAdmin::NewStub(channel_);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + Token("only-read"));
  v1::GetStatusResponse status;
  ASSERT_TRUE(admin->GetStatus(&context, v1::GetStatusRequest(), &status).ok());
  EXPECT_EQ(status.live().ruleset().revision(), 1);
  EXPECT_EQ(status.live_by(), "admin");
  ASSERT_EQ(status.retained_size(), 2);
  EXPECT_EQ(status.retained(0).published_by(), "only-rules");
  EXPECT_TRUE(
      absl::StartsWith(status.retained(0).published_from(), "ipv4:127.0.0.1:"))
      << status.retained(0).published_from();
  EXPECT_EQ(status.retained(1).published_by(), "file");

  absl::StatusOr<std::unique_ptr<runtime::SqliteStore>> store =
      runtime::SqliteStore::OpenReadOnly(
          (dir_ / "data" / runtime::SqliteStore::kFileName).string());
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::vector<runtime::AuditRecord>> audit =
      (*store)->Audit({.limit = 100});
  ASSERT_TRUE(audit.ok()) << audit.status();
  std::vector<std::string> seen;
  for (const runtime::AuditRecord& r : *audit) {
    seen.push_back(absl::StrCat(r.principal, " ", r.action, " ", r.target, ": ",
                                r.before, " -> ", r.after));
    if (r.principal != "file") {
      EXPECT_TRUE(absl::StartsWith(r.peer, "ipv4:127.0.0.1:")) << r.peer;
    }
  }
  const std::string fp1 = status.retained(1).ruleset().fingerprint();
  const std::string fp2 = status.retained(0).ruleset().fingerprint();
  EXPECT_THAT(
      seen,
      testing::ElementsAre(
          absl::StrCat("file rules.load auth-test:  -> revision 1 fingerprint ",
                       fp1, " (auth-test 1)"),
          absl::StrCat("only-rules rules.publish auth-test: revision 1 "
                       "fingerprint ",
                       fp1, " (auth-test 1) -> revision 2 fingerprint ", fp2,
                       " (auth-test 2)"),
          absl::StrCat("admin rules.rollback auth-test: revision 2 "
                       "fingerprint ",
                       fp2, " (auth-test 2) -> revision 1 fingerprint ", fp1,
                       " (auth-test 1)"),
          absl::StrCat("only-rules rules.shadow auth-test:  -> fingerprint ",
                       fp2, " (auth-test 2)"),
          absl::StrCat("only-rules rules.unshadow auth-test: fingerprint ", fp2,
                       " (auth-test 2) -> "),
          testing::StartsWith("only-manage rep.status r1: available -> away"),
          "only-manage lead.reassigned audited: r1 -> r2",
          "only-activity lead.contacted audited:  -> contacted"))
      << testing::PrintToString(seen);
  absl::StatusOr<std::vector<runtime::LeadEvent>> history =
      (*store)->History("audited");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].actor, "");  // routed: the server's own
  EXPECT_EQ((*history)[1].actor, "only-manage");
  EXPECT_EQ((*history)[2].actor, "only-activity");
}

// A caller with route alone does not learn that an email sent a lead
// before, nor which; one with activity does. The decision log writes only
// what the schema declares, masks `pii` attributes and --mask names in any
// case, and like the state store is readable by the server's user alone.
TEST_F(AuthServerTest, RepeatLinksAndLoggedLeadsStayPrivate) {
  auto route = [&](const std::string& id, const std::string& principal) {
    v1::RouteRequest request;
    request.mutable_lead()->set_id(id);
    auto& attrs = *request.mutable_lead()->mutable_attributes();
    attrs["region"].set_string_value("pool");
    attrs["email"].set_string_value("ada@example.com");
    attrs["secret"].set_string_value("not in the schema");
    request.mutable_options()->set_explain(true);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + Token(principal));
    v1::RouteResponse response;
    grpc::Status s = router_->Route(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.decision();
  };
  route("first", "admin");
  const v1::Decision hidden = route("second", "only-route");
  EXPECT_EQ(hidden.repeat_of(), "");
  std::string said = hidden.explanation().ShortDebugString();
  EXPECT_FALSE(absl::StrContains(said, "first")) << said;
  EXPECT_TRUE(absl::StrContains(said, "which one needs role activity")) << said;
  bool sticky = false;
  for (const auto& r : hidden.decided_by()) sticky |= r.stage() == "sticky";
  EXPECT_TRUE(sticky) << "that it stuck is a flag the caller may see";
  const v1::Decision shown = route("third", "but-manage");
  EXPECT_EQ(shown.repeat_of(), "second");

  server_->Shutdown(absl::ZeroDuration());  // writes the log out
  const std::string log = tests::ReadAll(dir_ / "decisions.jsonl");
  ASSERT_FALSE(log.empty());
  EXPECT_FALSE(absl::StrContains(log, "ada@example.com")) << log;
  EXPECT_FALSE(absl::StrContains(log, "secret")) << log;
  EXPECT_TRUE(
      absl::StrContains(log, R"("attributes":{"email":"***","region":"***"})"))
      << log;
  for (const std::filesystem::path& file :
       {dir_ / "decisions.jsonl",
        dir_ / "data" / runtime::SqliteStore::kFileName}) {
    EXPECT_EQ(std::filesystem::status(file).permissions() &
                  (std::filesystem::perms::group_all |
                   std::filesystem::perms::others_all),
              std::filesystem::perms::none)
        << file;
  }
}

TEST_F(AuthServerTest, HealthStaysOpen) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("leadroute.v1.LeadRouter");
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(AuthServerTest, AdminPortNeedsReadExceptHealthz) {
  const std::string admin = server_->admin_address();
  EXPECT_EQ(tests::HttpGet(admin, "/healthz").first, 200);
  for (const char* path : {"/metrics", "/status"}) {
    SCOPED_TRACE(path);
    auto [code, body] = tests::HttpGet(admin, path);
    EXPECT_EQ(code, 401) << body;
    EXPECT_EQ(
        tests::HttpGet(admin, path, "Authorization: Bearer nope\r\n").first,
        401);
    auto denied = tests::HttpGet(
        admin, path, "Authorization: Bearer " + Token("but-read") + "\r\n");
    EXPECT_EQ(denied.first, 403);
    EXPECT_TRUE(absl::StrContains(denied.second, "needs role \"read\""))
        << denied.second;
    EXPECT_EQ(
        tests::HttpGet(admin, path,
                       "Authorization: Bearer " + Token("only-read") + "\r\n")
            .first,
        200);
  }
}

TEST_F(AuthServerTest, ReflectionIsOffWithAuth) {
  grpc::Status s = CallUnary(
      channel_,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "",
      Token("admin"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << s.error_message();
}

// A token added to the file is let in once it is reloaded, while the old
// one keeps working under load; the old one fails only once removed, and a
// bad file keeps the principals in force.
TEST_F(AuthServerTest, TokenRotationUnderLoadDropsNoCall) {
  const std::string path = (dir_ / "auth.txt").string();
  std::atomic<bool> stop{false}, removed{false};
  std::atomic<int> ok_calls{0}, failed_before_removal{0};
  std::string first_failure;  // written by the load thread, read after join
  std::thread load([&] {
    for (int i = 0; !stop; ++i) {
      v1::RouteRequest request;
      request.mutable_lead()->set_id(absl::StrCat("load-", i));
      (*request.mutable_lead()->mutable_attributes())["region"]
          .set_string_value("pool");
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + Token("only-route"));
      v1::RouteResponse response;
      grpc::Status s = router_->Route(&context, request, &response);
      // Read after the call: one that returned before `removed` was set
      // (just before the reload that removes the token) was answered
      // under the old file, and must have been let in. One sent before
      // but answered after may rightly fail.
      const bool was_removed = removed;
      if (s.ok()) {
        ++ok_calls;
      } else if (!was_removed && failed_before_removal++ == 0) {
        first_failure = absl::StrCat(s.error_code(), " ", s.error_message());
      }
    }
  });
  // Whatever fails below, the load stops before the test returns.
  absl::Cleanup join = [&] {
    stop = true;
    if (load.joinable()) load.join();
  };
  auto route_as = [&](const std::string& name) {
    v1::RouteRequest request;
    request.mutable_lead()->set_id("probe-" + name);
    (*request.mutable_lead()->mutable_attributes())["region"].set_string_value(
        "later");
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + Token(name));
    v1::RouteResponse response;
    return router_->Route(&context, request, &response).error_code();
  };
  ASSERT_TRUE(WaitFor(ok_calls, 20)) << "the load makes no progress";
  EXPECT_EQ(route_as("new-route"), grpc::StatusCode::UNAUTHENTICATED);
  // The new token beside the old one, as `leadroute auth add` appends it.
  std::ofstream(path, std::ios::app) << Line("new-route", "route");
  ASSERT_TRUE(server_->authorizer().Reload().ok());
  EXPECT_EQ(route_as("new-route"), grpc::StatusCode::OK);
  // A broken file changes nothing.
  std::string good = tests::ReadAll(path);
  std::ofstream(path) << good << "oops\n";
  absl::Status bad = server_->authorizer().Reload();
  EXPECT_TRUE(absl::StrContains(bad.message(), "auth.txt:")) << bad.message();
  EXPECT_EQ(route_as("new-route"), grpc::StatusCode::OK);
  const int before = ok_calls;
  ASSERT_TRUE(WaitFor(ok_calls, before + 20));
  // Now the old one goes.
  std::string without;
  for (absl::string_view l : absl::StrSplit(good, '\n')) {
    if (!l.empty() && !absl::StartsWith(l, "only-route ")) {
      absl::StrAppend(&without, l, "\n");
    }
  }
  std::ofstream(path) << without;
  removed = true;
  ASSERT_TRUE(server_->authorizer().Reload().ok());
  EXPECT_EQ(route_as("only-route"), grpc::StatusCode::UNAUTHENTICATED);
  std::move(join).Invoke();
  EXPECT_EQ(failed_before_removal, 0) << first_failure;
  EXPECT_GT(ok_calls, 40);
}

// The audit trail is durable: three principals' changes survive kill -9 of
// a `leadroute serve` child, and the restart adds its own load of the rule
// files.
TEST(AuditDurabilityTest, AuditSurvivesKillNine) {
  const std::filesystem::path dir = testing_util::FreshTestDir("audit_kill9");
  std::ofstream(dir / "rules.route") << kRules;
  std::ofstream(dir / "auth.txt") << AuthFile();
  const std::string address = absl::StrCat("127.0.0.1:", tests::FreePort());
  const std::vector<std::string> serve = {
      LEADROUTE_BINARY, "serve",
      "--rules",        (dir / "rules.route").string(),
      "--listen",       address,
      "--data-dir",     (dir / "data").string(),
      "--auth",         (dir / "auth.txt").string(),
      "--watch",        "0"};
  testing_util::ChildProcess child(serve);
  ASSERT_TRUE(child.running());
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto status = [&] {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(300));
    c.AddMetadata("authorization", "Bearer " + Token("admin"));
    v1::GetStatusResponse r;
    grpc::Status s = v1::RulesAdmin::NewStub(channel)->GetStatus(&c, {}, &r);
    return s.ok() ? std::optional<v1::GetStatusResponse>(r) : std::nullopt;
  };
  auto wait_ready = [&] {
    for (int i = 0; i < 200; ++i) {
      if (status()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  ASSERT_TRUE(wait_ready());
  v1::PublishRulesRequest publish;
  v1::RuleFile* file = publish.add_files();
  file->set_path("r.route");
  file->set_content(absl::StrReplaceAll(kRules, {{"\"1\"", "\"2\""}}));
  v1::RollbackRequest rollback;
  v1::SetRepStatusRequest away;
  away.set_rep("r2");
  away.set_availability(v1::REP_AVAILABILITY_AWAY);
  EXPECT_TRUE(CallUnary(channel, std::string(auth::kPublishRules.method),
                        publish.SerializeAsString(), Token("only-rules"))
                  .ok());
  EXPECT_TRUE(CallUnary(channel, std::string(auth::kRollback.method),
                        rollback.SerializeAsString(), Token("but-route"))
                  .ok());
  EXPECT_TRUE(CallUnary(channel, std::string(auth::kSetRepStatus.method),
                        away.SerializeAsString(), Token("only-manage"))
                  .ok());
  const int killed = child.KillAndWait(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(killed));

  auto audit = [&] {
    std::vector<std::string> out;
    absl::StatusOr<std::unique_ptr<runtime::SqliteStore>> store =
        runtime::SqliteStore::OpenReadOnly(
            (dir / "data" / runtime::SqliteStore::kFileName).string());
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return out;
    absl::StatusOr<std::vector<runtime::AuditRecord>> rows =
        (*store)->Audit({.limit = 100});
    EXPECT_TRUE(rows.ok()) << rows.status();
    for (const runtime::AuditRecord& r : *rows) {
      out.push_back(absl::StrCat(r.principal, " ", r.action));
    }
    return out;
  };
  EXPECT_THAT(audit(), testing::ElementsAre("file rules.load",
                                            "only-rules rules.publish",
                                            "but-route rules.rollback",
                                            "only-manage rep.status"));
  child = testing_util::ChildProcess(serve);
  ASSERT_TRUE(child.running());
  ASSERT_TRUE(wait_ready());
  std::optional<v1::GetStatusResponse> after = status();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->live().published_by(), "file");
  EXPECT_EQ(after->live().published_from(), (dir / "rules.route").string());
  EXPECT_EQ(audit().size(), 5u);
  child.KillAndWait(SIGTERM);
  std::filesystem::remove_all(dir);
}

// Without --auth only loopback addresses are served; a public address needs
// --auth and TLS, or --insecure.
TEST(ExposureTest, PublicAddressNeedsAuthAndTlsOrInsecure) {
  auto policy = std::make_shared<runtime::FixedPolicy>();
  ServerOptions options;
  options.listen = "0.0.0.0:0";
  absl::StatusOr<std::unique_ptr<RouterServer>> refused =
      RouterServer::Start(options, policy);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  for (const char* flag : {"--listen 0.0.0.0:0", "--auth", "--tls-cert",
                           "--insecure", "127.0.0.1"}) {
    EXPECT_TRUE(absl::StrContains(refused.status().message(), flag))
        << flag << " in " << refused.status().message();
  }
  options.listen = "127.0.0.1:0";
  options.admin_listen = "[::]:0";
  refused = RouterServer::Start(options, policy);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(
      absl::StrContains(refused.status().message(), "--admin-listen [::]:0"))
      << refused.status().message();
  // The operator's explicit choice.
  options.listen = "0.0.0.0:0";
  options.admin_listen = "";
  options.insecure = true;
  absl::StatusOr<std::unique_ptr<RouterServer>> started =
      RouterServer::Start(options, policy);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_TRUE(IsLoopback("127.0.0.9:1") && IsLoopback("[::1]:5") &&
              IsLoopback("localhost:80") && !IsLoopback("0.0.0.0:1") &&
              !IsLoopback("[::]:1") && !IsLoopback("10.0.0.1:1") &&
              !IsLoopback("example.com:1"));
}

// TLS with certificates made now: a CA, the server's pair, and a client
// certificate for "revops-ci" and one for a stranger.
class TlsServerTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("tls_server");
    ASSERT_TRUE(tests::MakeCa(dir_, "ca") && tests::MakeCa(dir_, "ca2"))
        << "the openssl command line is needed";
    ASSERT_TRUE(tests::MakeServerCert(dir_, "ca", "server"));
    ASSERT_TRUE(tests::MakeServerCert(dir_, "ca2", "server2"));
    ASSERT_TRUE(tests::MakeClientCert(dir_, "ca", "revops", "revops-ci"));
    ASSERT_TRUE(tests::MakeClientCert(dir_, "ca", "stranger", "stranger"));
    std::filesystem::copy_file(dir_ / "server.crt", dir_ / "live.crt");
    std::filesystem::copy_file(dir_ / "server.key", dir_ / "live.key");
    std::ofstream(dir_ / "auth.txt")
        << Line("admin", "all") << "revops-ci rules,read cert:revops-ci\n";
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start(bool mutual) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.tls.cert = (dir_ / "live.crt").string();
    options.tls.key = (dir_ / "live.key").string();
    if (mutual) {
      options.tls.client_ca = (dir_ / "ca.crt").string();
      options.auth_file = (dir_ / "auth.txt").string();
    }
    absl::StatusOr<std::unique_ptr<RouterServer>> server =
        RouterServer::Start(options, std::make_shared<runtime::FixedPolicy>());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // A channel of its own (no shared connection) trusting `cas` (PEM
  // files), presenting the client certificate `cert` when not empty.
  std::shared_ptr<grpc::Channel> Channel(const std::vector<std::string>& cas,
                                         const std::string& cert = "") {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    if (cas.empty()) {
      return grpc::CreateCustomChannel(
          server_->address(), grpc::InsecureChannelCredentials(), args);
    }
    grpc::SslCredentialsOptions ssl;
    for (const std::string& ca : cas) {
      ssl.pem_root_certs += tests::ReadAll(dir_ / (ca + ".crt"));
    }
    if (!cert.empty()) {
      ssl.pem_cert_chain = tests::ReadAll(dir_ / (cert + ".crt"));
      ssl.pem_private_key = tests::ReadAll(dir_ / (cert + ".key"));
    }
    return grpc::CreateCustomChannel(server_->address(),
                                     grpc::SslCredentials(ssl), args);
  }

  static grpc::Status Route(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& token = "") {
    auto stub = v1::LeadRouter::NewStub(channel);
    v1::RouteRequest request;
    request.mutable_lead()->set_id("tls-lead");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::RouteResponse response;
    return stub->Route(&context, request, &response);
  }

  std::filesystem::path dir_;
  std::unique_ptr<RouterServer> server_;
};

TEST_F(TlsServerTest, OnlyTlsClientsTrustingTheCaGetIn) {
  Start(/*mutual=*/false);
  EXPECT_EQ(Route(Channel({})).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Route(Channel({"ca2"})).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  grpc::Status ok = Route(Channel({"ca"}));
  EXPECT_TRUE(ok.ok()) << ok.error_message();
}

TEST_F(TlsServerTest, MutualTlsNamesThePrincipalOfTheCertificate) {
  Start(/*mutual=*/true);
  // No client certificate: the handshake is refused.
  EXPECT_EQ(Route(Channel({"ca"}), Token("admin")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // A certificate is an identity: revops-ci has rules and read, not route.
  std::shared_ptr<grpc::Channel> revops = Channel({"ca"}, "revops");
  grpc::Status denied = Route(revops);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(
      absl::StrContains(denied.error_message(), "principal \"revops-ci\""))
      << denied.error_message();
  auto admin = v1::RulesAdmin::NewStub(revops);
  grpc::ClientContext context;
  v1::GetStatusResponse status;
  EXPECT_TRUE(admin->GetStatus(&context, v1::GetStatusRequest(), &status).ok());
  // A token decides over the certificate it came with.
  EXPECT_TRUE(Route(revops, Token("admin")).ok());
  // A certificate of the CA that names nobody.
  grpc::Status stranger = Route(Channel({"ca"}, "stranger"));
  EXPECT_EQ(stranger.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(stranger.error_message(), "stranger"))
      << stranger.error_message();
}

// New files are picked up without a restart; calls on the connections made
// before go on, and new connections see the new certificate.
TEST_F(TlsServerTest, CertificateRotationUnderLoadDropsNoCall) {
  Start(/*mutual=*/false);
  std::atomic<bool> stop{false};
  std::atomic<int> ok_calls{0}, failed{0};
  std::thread load([&] {
    std::shared_ptr<grpc::Channel> kept = Channel({"ca", "ca2"});
    for (int i = 0; !stop; ++i) {
      // Half the calls on one connection, half each on a new one.
      grpc::Status s = Route(i % 2 == 0 ? kept : Channel({"ca", "ca2"}));
      (s.ok() ? ok_calls : failed)++;
    }
  });
  // Whatever fails below, the load stops before the test returns.
  absl::Cleanup join = [&] {
    stop = true;
    if (load.joinable()) load.join();
  };
  ASSERT_TRUE(WaitFor(ok_calls, 10)) << "the load makes no progress";
  EXPECT_EQ(Route(Channel({"ca2"})).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // As an operator rotates: new files renamed over the old ones.
  std::filesystem::copy_file(dir_ / "server2.key", dir_ / "next.key");
  std::filesystem::copy_file(dir_ / "server2.crt", dir_ / "next.crt");
  std::filesystem::rename(dir_ / "next.key", dir_ / "live.key");
  std::filesystem::rename(dir_ / "next.crt", dir_ / "live.crt");
  bool rotated = false;
  for (int i = 0; i < 100 && !rotated; ++i) {
    rotated = Route(Channel({"ca2"})).ok();
    if (!rotated) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(rotated) << "the new certificate was not served within 10 s";
  EXPECT_EQ(Route(Channel({"ca"})).error_code(), grpc::StatusCode::UNAVAILABLE);
  const int before = ok_calls;
  ASSERT_TRUE(WaitFor(ok_calls, before + 10));
  std::move(join).Invoke();
  EXPECT_EQ(failed, 0);
}

TEST_F(TlsServerTest, BadFilesAreClearErrorsAtStart) {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.tls.cert = (dir_ / "server.crt").string();
  options.tls.key = (dir_ / "server2.key").string();
  auto policy = std::make_shared<runtime::FixedPolicy>();
  absl::StatusOr<std::unique_ptr<RouterServer>> s =
      RouterServer::Start(options, policy);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.status().message(), "is not the key of"))
      << s.status();
  options.tls.key = (dir_ / "missing.key").string();
  s = RouterServer::Start(options, policy);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.status().message(), "--tls-key"))
      << s.status();
  options.tls.key = (dir_ / "server.key").string();
  options.tls.client_ca = (dir_ / "auth.txt").string();
  s = RouterServer::Start(options, policy);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.status().message(), "--tls-client-ca"))
      << s.status();
}

}  // namespace
}  // namespace leadroute
