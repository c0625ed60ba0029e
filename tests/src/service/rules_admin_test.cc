// RulesAdmin through a real channel: validate, publish (one file and many,
// never reading the server's disk), compare-and-swap, rollback, status, and
// hot reload under continuous load with good and broken rulesets
// alternating. Plus the deadline of a long RouteBatch.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/territory_plan.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "src/server/server.h"
#include "tests/src/server/grpc_test_util.h"

namespace leadroute {
namespace {

using testing::HasSubstr;

// A ruleset that sends every lead to queue q<tag>.
std::string Rules(const std::string& tag) {
  return absl::StrCat("ruleset \"r\" version \"", tag, "\"\nqueue q", tag,
                      "\nassign { otherwise queue q", tag, " }\n");
}

// The same with one type error, on line 7.
std::string BrokenRules(const std::string& tag) {
  return absl::StrCat("ruleset \"r\" version \"", tag,
                      "\"\nqueue q\nschema {\n  employees: int\n}\nassign {\n"
                      "  rule bad when employees == \"high\" then queue q\n"
                      "  otherwise queue q\n}\n");
}

class RulesAdminTest : public testing::Test {
 protected:
  void SetUp() override {
    auto registry = std::make_shared<RulesetRegistry>(/*keep=*/3);
    ASSERT_TRUE(registry->Publish({{"r.route", Rules("0")}}, "").status.ok());
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<RouterServer>> server =
        RouterServer::Start(options, std::move(registry));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel = grpc::CreateChannel(server_->address(),
                                       grpc::InsecureChannelCredentials());
    admin_ = v1::RulesAdmin::NewStub(channel);
    router_ = v1::LeadRouter::NewStub(channel);
  }

  grpc::Status Publish(const std::map<std::string, std::string>& files,
                       v1::PublishRulesResponse* response,
                       int64_t expected_revision = 0,
                       const std::string& root = "") {
    v1::PublishRulesRequest request;
    for (const auto& [path, content] : files) {
      v1::RuleFile* f = request.add_files();
      f->set_path(path);
      f->set_content(content);
    }
    request.set_root(root);
    request.set_expected_revision(expected_revision);
    grpc::ClientContext context;
    return admin_->PublishRules(&context, request, response);
  }

  v1::GetStatusResponse Status() {
    v1::GetStatusResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(
        admin_->GetStatus(&context, v1::GetStatusRequest(), &response).ok());
    return response;
  }

  // The routed lead's decision, or an empty one when the call failed.
  v1::Decision RouteOne() {
    v1::RouteRequest request;
    request.mutable_lead()->set_id("L");
    v1::RouteResponse response;
    grpc::ClientContext context;
    if (!router_->Route(&context, request, &response).ok()) return {};
    return response.decision();
  }

  std::unique_ptr<RouterServer> server_;
  std::unique_ptr<v1::RulesAdmin::Stub> admin_;
  std::unique_ptr<v1::LeadRouter::Stub> router_;
};

TEST_F(RulesAdminTest, ValidateReportsDiagnosticsAndChangesNothing) {
  v1::ValidateRulesRequest request;
  v1::RuleFile* f = request.add_files();
  f->set_path("rules/r.route");
  f->set_content(BrokenRules("9"));
  v1::ValidateRulesResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(admin_->ValidateRules(&context, request, &response).ok());
  EXPECT_FALSE(response.ok());
  ASSERT_GE(response.diagnostics_size(), 1);
  const v1::Diagnostic& d = response.diagnostics(0);
  EXPECT_EQ(d.severity(), v1::Diagnostic::SEVERITY_ERROR);
  EXPECT_EQ(d.file(), "rules/r.route");
  EXPECT_EQ(d.line(), 7);
  EXPECT_GT(d.column(), 0);
  EXPECT_THAT(d.rendered(), HasSubstr("rules/r.route:7:"));

  f->set_content(Rules("9"));
  response.Clear();
  grpc::ClientContext again;
  ASSERT_TRUE(admin_->ValidateRules(&again, request, &response).ok());
  EXPECT_TRUE(response.ok());
  EXPECT_EQ(response.ruleset().version(), "9");
  EXPECT_EQ(response.ruleset().fingerprint().size(), 16u);
  EXPECT_EQ(response.ruleset().revision(), 0);
  // Validation never swaps.
  EXPECT_EQ(RouteOne().owner(), "q0");
  EXPECT_EQ(Status().live().ruleset().revision(), 1);
}

TEST_F(RulesAdminTest, PublishSwapsAndDecisionsNameTheRevision) {
  v1::PublishRulesResponse response;
  ASSERT_TRUE(Publish({{"r.route", Rules("1")}}, &response).ok());
  EXPECT_EQ(response.ruleset().ruleset().revision(), 2);
  EXPECT_EQ(response.ruleset().origin(), "publish");
  EXPECT_TRUE(response.ruleset().live());
  const v1::Decision d = RouteOne();
  EXPECT_EQ(d.owner(), "q1");
  EXPECT_EQ(d.ruleset().revision(), 2);
  EXPECT_EQ(d.ruleset().version(), "1");
  EXPECT_EQ(d.ruleset().fingerprint(),
            response.ruleset().ruleset().fingerprint());
}

TEST_F(RulesAdminTest, ABrokenRulesetIsRejectedWithItsDiagnostics) {
  v1::PublishRulesResponse response;
  grpc::Status s = Publish({{"r.route", BrokenRules("1")}}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("the rules have 1 error"));
  EXPECT_THAT(s.error_message(), HasSubstr("r.route:7:"));
  auto violations = tests::Violations(s);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].first, "files");
  EXPECT_THAT(violations[0].second, HasSubstr("r.route:7:"));

  // The running rules keep serving; status reports the failure.
  EXPECT_EQ(RouteOne().owner(), "q0");
  const v1::GetStatusResponse status = Status();
  EXPECT_EQ(status.live().ruleset().revision(), 1);
  EXPECT_EQ(status.reloads_failed(), 1);
  EXPECT_EQ(status.last_reload_error().origin(), "publish");
  EXPECT_THAT(status.last_reload_error().message(), HasSubstr("1 error"));
  ASSERT_GE(status.last_reload_error().diagnostics_size(), 1);
  EXPECT_EQ(status.last_reload_error().diagnostics(0).line(), 7);
}

// A ruleset with `n` errors, one a line from line 7 on.
std::string ManyErrors(int n) {
  std::string s =
      "ruleset \"r\" version \"e\"\nqueue q\nschema {\n  country: string\n}\n";
  absl::StrAppend(&s, "assign {\n");
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&s, "  rule r", i, " when nope", i, " == 1 then queue q\n");
  }
  absl::StrAppend(&s, "  otherwise queue q\n}\n");
  return s;
}

// Thousands of errors: the answer, the status (which travels in HTTP/2
// trailers, a few KiB at most) and the failure GetStatus keeps are bounded,
// and each says how many there were.
TEST_F(RulesAdminTest, ThousandsOfErrorsComeBackBoundedAndCounted) {
  const std::string rules = ManyErrors(5000);
  v1::PublishRulesResponse published;
  grpc::Status s = Publish({{"r.route", rules}}, &published);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << s.error_message().substr(0, 200);
  EXPECT_THAT(s.error_message(), HasSubstr("the rules have 5000 errors"));
  EXPECT_THAT(s.error_message(), HasSubstr("r.route:7:"));
  EXPECT_THAT(s.error_message(), HasSubstr("more not shown"));
  EXPECT_LE(s.error_message().size() + s.error_details().size(), 8u << 10);
  const auto violations = tests::Violations(s);
  EXPECT_GE(violations.size(), 1u);
  EXPECT_LE(violations.size(), 10u);

  v1::ValidateRulesRequest request;
  v1::RuleFile* f = request.add_files();
  f->set_path("r.route");
  f->set_content(rules);
  v1::ValidateRulesResponse validated;
  grpc::ClientContext context;
  ASSERT_TRUE(admin_->ValidateRules(&context, request, &validated).ok());
  EXPECT_FALSE(validated.ok());
  ASSERT_EQ(validated.diagnostics_size(), kMaxRuleDiagnostics + 1);
  EXPECT_EQ(validated.diagnostics(0).line(), 7);
  EXPECT_THAT(validated.diagnostics(kMaxRuleDiagnostics).message(),
              HasSubstr("4800 more diagnostics not shown"));

  const v1::GetStatusResponse status = Status();
  EXPECT_EQ(status.last_reload_error().diagnostics_size(),
            kMaxRuleDiagnostics + 1);
}

TEST_F(RulesAdminTest, ManyFilesResolveAmongThemselvesNeverOnDisk) {
  const std::map<std::string, std::string> files = {
      {"main.route",
       "ruleset \"m\" version \"1\"\ninclude \"teams/teams.route\"\n"
       "schema {\n  email: string required\n}\n"
       "table owner: string -> rep from csv \"owners.csv\" key "
       "\"domain\" value \"rep\"\n"
       "assign {\n  rule known when domain(email) in owner then "
       "owner(domain(email)) else queue inbound\n"
       "  otherwise queue inbound\n}\n"},
      {"teams/teams.route",
       "rep ana {\n  timezone = \"UTC\"\n}\nqueue inbound\n"},
      {"owners.csv", "domain,rep\nbig.example,ana\n"}};
  v1::PublishRulesResponse response;
  grpc::Status s = Publish(files, &response, 0, "main.route");
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::RouteRequest request;
  request.mutable_lead()->set_id("L");
  (*request.mutable_lead()->mutable_attributes())["email"].set_string_value(
      "cto@big.example");
  v1::RouteResponse routed;
  grpc::ClientContext context;
  ASSERT_TRUE(router_->Route(&context, request, &routed).ok());
  EXPECT_EQ(routed.decision().owner(), "ana");

  // An include that is not among the files is an error, even when the path
  // exists on the server.
  std::map<std::string, std::string> sneaky = {
      {"main.route",
       "ruleset \"m\" version \"2\"\ninclude \"/etc/hostname\"\nqueue q\n"
       "assign { otherwise queue q }\n"}};
  s = Publish(sneaky, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("not among the ruleset's files"));
}

TEST_F(RulesAdminTest, BadRequestsNameTheField) {
  v1::PublishRulesResponse response;
  grpc::Status s = Publish({}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("files"));
  s = Publish({{"r.route", Rules("1")}}, &response, 0, "other.route");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("root: \"other.route\""));
  // Paths and the number of files are bounded (a path is echoed in errors).
  s = Publish({{std::string(2000, 'p'), Rules("1")}}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("files[0].path: 2000 bytes; at most 1024"));
  s = Publish({{"r.route", Rules("1")}}, &response, 0, std::string(2000, 'r'));
  EXPECT_THAT(s.error_message(), HasSubstr("root: 2000 bytes; at most 1024"));
  std::map<std::string, std::string> many;
  for (int i = 0; i < 1001; ++i) many[absl::StrCat("f", i, ".route")] = "";
  s = Publish(many, &response);
  EXPECT_THAT(s.error_message(),
              HasSubstr("files: 1001 files; a ruleset may have at most 1000"));
}

TEST_F(RulesAdminTest, ExpectedRevisionIsACompareAndSwap) {
  v1::PublishRulesResponse response;
  grpc::Status s = Publish({{"r.route", Rules("1")}}, &response, 7);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("revision 1 is"));
  ASSERT_TRUE(Publish({{"r.route", Rules("1")}}, &response, 1).ok());
  EXPECT_EQ(response.ruleset().ruleset().revision(), 2);
}

TEST_F(RulesAdminTest, RollbackBringsBackRetainedRevisions) {
  v1::PublishRulesResponse published;
  for (const char* tag : {"1", "2", "3"}) {
    ASSERT_TRUE(Publish({{"r.route", Rules(tag)}}, &published).ok());
  }
  // keep=3: revisions 4, 3 and 2 are retained.
  v1::GetStatusResponse status = Status();
  ASSERT_EQ(status.retained_size(), 3);
  EXPECT_EQ(status.retained(0).ruleset().revision(), 4);
  EXPECT_TRUE(status.retained(0).live());
  EXPECT_EQ(status.retained(2).ruleset().revision(), 2);

  auto rollback = [&](int64_t revision, v1::RollbackResponse* response) {
    v1::RollbackRequest request;
    request.set_revision(revision);
    grpc::ClientContext context;
    return admin_->Rollback(&context, request, response);
  };
  v1::RollbackResponse response;
  ASSERT_TRUE(rollback(0, &response).ok());  // back one: revision 3
  EXPECT_EQ(response.ruleset().ruleset().revision(), 3);
  EXPECT_EQ(RouteOne().owner(), "q2");
  EXPECT_EQ(RouteOne().ruleset().revision(), 3);
  ASSERT_TRUE(rollback(0, &response).ok());  // further back: revision 2
  EXPECT_EQ(RouteOne().owner(), "q1");
  ASSERT_TRUE(rollback(4, &response).ok());  // forward again, by number
  EXPECT_EQ(RouteOne().owner(), "q3");

  grpc::Status s = rollback(1, &response);  // dropped: keep=3
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("revision 1 is not retained"));
  EXPECT_EQ(RouteOne().owner(), "q3");
}

// The acceptance test: continuous Route calls across 50 reloads,
// good and broken rulesets alternating. No call fails; every decision comes
// from a revision that was live while the call ran; every broken ruleset is
// rejected with its diagnostics.
TEST_F(RulesAdminTest, HotReloadUnderLoadDropsNoCall) {
  std::atomic<int64_t> acknowledged{1};  // newest revision known live
  std::atomic<int64_t> may_be_live{1};   // newest that may be live
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0}, failures{0}, out_of_window{0};
  std::mutex mu;
  std::map<int64_t, std::string> owner_seen;  // revision -> owner
  bool torn = false;

  auto client = [&] {
    while (!stop.load()) {
      const int64_t lo = acknowledged.load();
      const v1::Decision d = RouteOne();
      const int64_t hi = may_be_live.load();
      if (d.lead_id().empty()) {
        ++failures;
        continue;
      }
      ++calls;
      const int64_t rev = d.ruleset().revision();
      if (rev < lo || rev > hi) ++out_of_window;
      std::lock_guard<std::mutex> lock(mu);
      auto [it, inserted] = owner_seen.emplace(rev, d.owner());
      if (!inserted && it->second != d.owner()) torn = true;
    }
  };
  std::thread a(client), b(client);

  std::map<int64_t, std::string> expected_owner = {{1, "q0"}};
  int rejected = 0;
  for (int i = 1; i <= 50; ++i) {
    // Some calls on the current rules before each reload.
    const int target = calls.load() + 40;
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (calls.load() < target && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    const std::string tag = absl::StrCat(i);
    v1::PublishRulesResponse response;
    if (i % 2 == 0) {
      grpc::Status s = Publish({{"r.route", BrokenRules(tag)}}, &response);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << i;
      EXPECT_THAT(s.error_message(), HasSubstr("r.route:7:")) << i;
      ++rejected;
      continue;
    }
    may_be_live = acknowledged.load() + 1;
    grpc::Status s = Publish({{"r.route", Rules(tag)}}, &response);
    ASSERT_TRUE(s.ok()) << i << ": " << s.error_message();
    const int64_t rev = response.ruleset().ruleset().revision();
    EXPECT_EQ(rev, acknowledged.load() + 1);
    expected_owner[rev] = "q" + tag;
    acknowledged = rev;
  }
  const int target = calls.load() + 40;
  while (calls.load() < target) absl::SleepFor(absl::Milliseconds(1));
  stop = true;
  a.join();
  b.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(out_of_window.load(), 0);
  EXPECT_FALSE(torn);
  EXPECT_GE(calls.load(), 2000);
  EXPECT_EQ(rejected, 25);
  for (const auto& [rev, owner] : owner_seen) {
    EXPECT_EQ(owner, expected_owner[rev]) << "revision " << rev;
  }
  // Most revisions were seen by some call.
  EXPECT_GE(owner_seen.size(), 20u);
  const v1::GetStatusResponse status = Status();
  EXPECT_EQ(status.live().ruleset().revision(), 26);
  EXPECT_EQ(status.reloads_failed(), 25);
}

// A RouteBatch whose deadline passes mid-batch stops routing: the server
// answers DEADLINE_EXCEEDED or CANCELLED rather than finishing the work.
// Compiles take memory in proportion to their ruleset: two run at once
// (--max-compiles 2 by default), four more wait, the rest are refused at
// once naming the flag; none of it disturbs the live ruleset.
TEST_F(RulesAdminTest, CompilesBeyondTheLineAreRefusedNamingTheFlag) {
  v1::ValidateRulesRequest request;
  v1::RuleFile* file = request.add_files();
  file->set_path("plan.route");
  file->set_content(bench::TerritoryPlan(4000));
  constexpr int kCalls = 16;
  std::mutex mu;
  std::condition_variable done;
  int finished = 0;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<v1::ValidateRulesResponse> responses(kCalls);
  std::vector<grpc::ClientContext> contexts(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    admin_->async()->ValidateRules(&contexts[i], &request, &responses[i],
                                   [&, i](grpc::Status s) {
                                     std::lock_guard<std::mutex> lock(mu);
                                     statuses[i] = std::move(s);
                                     ++finished;
                                     done.notify_all();
                                   });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    done.wait(lock, [&] { return finished == kCalls; });
  }
  int ok = 0, refused = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (statuses[i].ok()) {
      ++ok;
      EXPECT_TRUE(responses[i].ok());
    } else {
      ++refused;
      EXPECT_EQ(statuses[i].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
      EXPECT_THAT(statuses[i].error_message(),
                  HasSubstr("2 rule compiles are running and 4 waiting"));
      EXPECT_THAT(statuses[i].error_message(), HasSubstr("--max-compiles 2"));
    }
  }
  EXPECT_GE(ok, 6);
  EXPECT_GE(refused, 1);
  EXPECT_EQ(Status().live().ruleset().version(), "0");
  // The line empties: a compile is taken again.
  grpc::ClientContext again;
  v1::ValidateRulesResponse response;
  EXPECT_TRUE(admin_->ValidateRules(&again, request, &response).ok());
}

TEST(DeadlineTest, ALongBatchStopsAtItsDeadline) {
  // 2,000 rules and 16 why_not names make each of 10,000 leads slow to
  // explain (the server lets this batch ask for that many explanations).
  std::string text = "ruleset \"slow\" version \"1\"\nqueue q\nassign {\n";
  for (int i = 0; i < 2000; ++i) {
    absl::StrAppend(&text, "  rule r", i, " when n == ", i, " then queue q\n");
  }
  absl::StrAppend(&text, "  otherwise queue q\n}\nschema {\n  n: int\n}\n");
  auto registry = std::make_shared<RulesetRegistry>();
  CompileOutcome loaded = registry->Publish({{"slow.route", text}}, "");
  ASSERT_TRUE(loaded.status.ok()) << loaded.status;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.limits.max_explained_leads = 10000;
  absl::StatusOr<std::unique_ptr<RouterServer>> server =
      RouterServer::Start(options, std::move(registry));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::LeadRouter::NewStub(grpc::CreateChannel(
      (*server)->address(), grpc::InsecureChannelCredentials()));

  v1::RouteBatchRequest request;
  request.mutable_options()->set_explain(true);
  for (int i = 0; i < 16; ++i) {
    request.mutable_options()->add_why_not(absl::StrCat("r", 1999 - i));
  }
  for (int i = 0; i < 10000; ++i) {
    v1::Lead* lead = request.add_leads();
    lead->set_id(absl::StrCat("L-", i));
    (*lead->mutable_attributes())["n"].set_int_value(i);
  }
  v1::RouteBatchResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(300));
  grpc::Status s = stub->RouteBatch(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  // Wait for the handler to finish, then read how it ended.
  std::string metrics;
  for (int i = 0; i < 600; ++i) {
    RulesetRegistry::Snapshot snap = (*server)->registry().snapshot();
    metrics = RenderPrometheus(snap, (*server)->metrics());
    if (metrics.find("method=\"RouteBatch\",code=\"DEADLINE_EXCEEDED\"") !=
            std::string::npos ||
        metrics.find("method=\"RouteBatch\",code=\"CANCELLED\"") !=
            std::string::npos ||
        metrics.find("leadroute_call_duration_seconds_count{method="
                     "\"RouteBatch\"} 1") != std::string::npos) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  // Only the RouteBatch call counts, to keep a failure readable.
  std::string batch_calls;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (absl::StartsWith(line, "leadroute_calls_total{method=\"RouteBatch\"")) {
      absl::StrAppend(&batch_calls, line, "\n");
    }
  }
  EXPECT_THAT(batch_calls, HasSubstr("code=\"OK\"} 0\n"));
  EXPECT_THAT(batch_calls,
              testing::AnyOf(HasSubstr("code=\"DEADLINE_EXCEEDED\"} 1"),
                             HasSubstr("code=\"CANCELLED\"} 1")));
}

}  // namespace
}  // namespace leadroute
