// Shadow rules on the real server (src/service/shadow.h), through a real
// gRPC channel: a candidate that moves Germany to a new team runs beside
// the live rules while leads are routed. Its disagreement counts equal what
// replay (runtime::Replayer, both rulesets deciding each lead) reports for
// the same leads; every answer is byte for byte the answer of a server
// without a shadow (decision ids aside); disagreements are in the decision
// log, /metrics and /status; PublishRules sets, replaces, stops and
// promotes the shadow.
#include "src/service/shadow.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/keyed_hash.h"
#include "compiler/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "runtime/replay.h"
#include "src/server/server.h"
#include "src/service/decision_log_reader.h"
#include "src/wire/convert.h"
#include "tests/src/server/grpc_test_util.h"
#include "tests/test_dir.h"

namespace leadroute {
namespace {

using testing::HasSubstr;

constexpr const char* kRules = R"(ruleset "territories" version "1"
schema {
  email: string pii
  country: string required
  employees: int default 0
  source: enum { web, event, partner } required
}
rep ann {}
rep cyd {}
rep dan {}
team na { members = [ann] }
team emea { members = [cyd, dan] }
queue triage
queue partners
assign {
  allow overlap "partners first"
  rule partners when source == partner then queue partners
  rule na_leads when country in ["US", "CA"] then team na else queue triage
  rule emea_leads when country in ["GB", "FR", "DE"] then team emea else queue triage
  otherwise queue triage
}
priority {
  labels high > normal
  rule big when employees >= 1000 then high
  otherwise normal
}
sla {
  rule web_sla when source == web then 1h
  otherwise 4h
}
)";

// The candidate: Germany to a new DACH team, and a 2h web SLA.
std::string Dach() {
  return absl::StrReplaceAll(
      kRules,
      {{"version \"1\"", "version \"2\""},
       {"team emea { members = [cyd, dan] }",
        "team emea { members = [cyd] }\nteam dach { members = [dan] }"},
       {"  rule emea_leads when country in [\"GB\", \"FR\", \"DE\"]",
        "  rule dach_leads when country == \"DE\" then team dach else queue "
        "triage\n  rule emea_leads when country in [\"GB\", \"FR\"]"},
       {"source == web then 1h", "source == web then 2h"}});
}

std::vector<v1::Lead> Leads(int n) {
  std::mt19937 rng(11);
  const char* countries[] = {"US", "CA", "GB", "FR", "DE", "DE", "JP"};
  const char* sources[] = {"web", "web", "event", "partner"};
  std::vector<v1::Lead> out;
  for (int i = 0; i < n; ++i) {
    v1::Lead lead;
    lead.set_id(absl::StrCat("L-", i));
    auto& a = *lead.mutable_attributes();
    a["country"].set_string_value(countries[rng() % 7]);
    a["source"].set_string_value(sources[rng() % 4]);
    a["employees"].set_int_value(static_cast<int64_t>(rng() % 3 * 900));
    a["email"].set_string_value(absl::StrCat("p", i, "@example.com"));
    out.push_back(std::move(lead));
  }
  return out;
}

class ShadowTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("shadow");
    Write("live.route", kRules);
    Write("dach.route", Dach());
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  std::unique_ptr<RouterServer> Start(
      const std::string& shadow, const std::string& log,
      const std::string& admin = "", int64_t shadow_queue = 0,
      std::shared_ptr<const KeyedHash> key = nullptr) {
    auto registry = std::make_shared<RulesetRegistry>();
    EXPECT_TRUE(registry->LoadPath((dir_ / "live.route").string()).status.ok());
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.admin_listen = admin;
    if (!shadow.empty()) options.shadow_rules = (dir_ / shadow).string();
    if (shadow_queue > 0) options.shadow_queue = shadow_queue;
    if (!log.empty()) options.decision_log.path = (dir_ / log).string();
    options.attributes.key = std::move(key);
    absl::StatusOr<std::unique_ptr<RouterServer>> server =
        RouterServer::Start(options, registry);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  static std::unique_ptr<v1::LeadRouter::Stub> Router(
      const RouterServer& server) {
    return v1::LeadRouter::NewStub(grpc::CreateChannel(
        server.address(), grpc::InsecureChannelCredentials()));
  }
  static std::unique_ptr<v1::RulesAdmin::Stub> Admin(
      const RouterServer& server) {
    return v1::RulesAdmin::NewStub(grpc::CreateChannel(
        server.address(), grpc::InsecureChannelCredentials()));
  }

  // Each lead's answer, serialised without its decision id: 100 leads one
  // at a time with Route, the rest in RouteBatch calls of 250.
  static std::vector<std::string> RouteAll(const RouterServer& server,
                                           const std::vector<v1::Lead>& leads) {
    auto stub = Router(server);
    std::vector<std::string> out;
    auto strip = [&out](v1::Decision d) {
      EXPECT_FALSE(d.decision_id().empty());
      d.clear_decision_id();
      out.push_back(d.SerializeAsString());
    };
    for (size_t i = 0; i < leads.size();) {
      if (i < 100) {
        v1::RouteRequest request;
        *request.mutable_lead() = leads[i];
        request.mutable_options()->mutable_received_at()->set_seconds(
            1800000000 + static_cast<int64_t>(i));
        v1::RouteResponse response;
        grpc::ClientContext context;
        EXPECT_TRUE(stub->Route(&context, request, &response).ok());
        strip(response.decision());
        ++i;
        continue;
      }
      v1::RouteBatchRequest request;
      for (size_t j = i; j < leads.size() && j < i + 250; ++j) {
        *request.add_leads() = leads[j];
      }
      request.mutable_options()->mutable_received_at()->set_seconds(
          1800000000 + static_cast<int64_t>(i));
      v1::RouteBatchResponse response;
      grpc::ClientContext context;
      EXPECT_TRUE(stub->RouteBatch(&context, request, &response).ok());
      for (const auto& r : response.results()) strip(r.decision());
      i += request.leads_size();
    }
    return out;
  }

  // GetStatus once the shadow has taken `leads` leads.
  static v1::GetStatusResponse StatusAfter(const RouterServer& server,
                                           int64_t leads) {
    auto admin = Admin(server);
    v1::GetStatusResponse status;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    do {
      status.Clear();
      grpc::ClientContext context;
      EXPECT_TRUE(admin->GetStatus(&context, {}, &status).ok());
      const v1::ShadowStatus& s = status.shadow();
      if (s.compared() + s.rejected() + s.dropped() >= leads) break;
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < deadline);
    return status;
  }

  // What replay reports for `leads`: both rulesets decide each, at the
  // received time the server was given.
  static runtime::ReplayReport Replay(const std::vector<v1::Lead>& leads) {
    auto live = compiler::CheckText("live.route", kRules).program;
    auto dach = compiler::CheckText("dach.route", Dach()).program;
    runtime::Replayer replayer(dach, live);
    for (size_t i = 0; i < leads.size(); ++i) {
      absl::StatusOr<runtime::Lead> lead = LeadFromProto(leads[i]);
      EXPECT_TRUE(lead.ok());
      std::vector<runtime::ReplayAttribute> attributes(lead->attributes.begin(),
                                                       lead->attributes.end());
      const int64_t at = i < 100 ? 1800000000 + static_cast<int64_t>(i)
                                 : 1800000000 + 100 + (i - 100) / 250 * 250;
      replayer.Add(lead->id, absl::FromUnixSeconds(at), attributes, nullptr);
    }
    return replayer.Report(false);
  }

  std::filesystem::path dir_;
};

TEST_F(ShadowTest, CountsWhatReplayReportsAndNeverChangesAnAnswer) {
  const std::vector<v1::Lead> leads = Leads(2100);
  std::unique_ptr<RouterServer> plain = Start("", "");
  const int admin_port = tests::FreePorts(1)[0];
  const std::string admin = absl::StrCat("127.0.0.1:", admin_port);
  std::unique_ptr<RouterServer> shadowed =
      Start("dach.route", "decisions.jsonl", admin);
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(shadowed, nullptr);

  const std::vector<std::string> without = RouteAll(*plain, leads);
  const std::vector<std::string> with = RouteAll(*shadowed, leads);
  ASSERT_EQ(with.size(), leads.size());
  EXPECT_TRUE(with == without) << "a shadow changed an answer";

  const v1::GetStatusResponse status = StatusAfter(*shadowed, 2100);
  ASSERT_TRUE(status.has_shadow());
  const v1::ShadowStatus& s = status.shadow();
  EXPECT_EQ(s.ruleset().name(), "territories");
  EXPECT_EQ(s.ruleset().version(), "2");
  EXPECT_EQ(s.offered(), 2100);
  EXPECT_EQ(s.dropped(), 0);
  EXPECT_EQ(s.rejected(), 0);
  EXPECT_EQ(s.compared(), 2100);

  const runtime::ReplayReport replay = Replay(leads);
  ASSERT_EQ(replay.leads, 2100);
  ASSERT_GT(replay.changed[0], 200);  // the German leads that are not partners
  ASSERT_GT(replay.changed[2], 500);  // web leads' SLA
  for (int o = 0; o < runtime::kReplayOutputs; ++o) {
    const char* name =
        runtime::ReplayOutputName(static_cast<runtime::ReplayOutput>(o));
    EXPECT_EQ(s.changed().at(name), replay.changed[o]) << name;
  }
  EXPECT_EQ(s.changed().at("any"), replay.changed_any);
  ASSERT_EQ(s.transitions_size(), 1);
  EXPECT_EQ(s.transitions(0).from(), "team:emea");
  EXPECT_EQ(s.transitions(0).to(), "team:dach");
  EXPECT_EQ(s.transitions(0).leads(), replay.changed[0]);
  std::map<std::string, std::pair<int64_t, int64_t>> rules;
  for (const v1::ShadowRule& r : s.rules()) {
    rules[r.rule()] = {r.live(), r.shadow()};
  }
  EXPECT_EQ(rules["assign/dach_leads"],
            std::make_pair(int64_t{0}, replay.changed[0]));
  EXPECT_FALSE(rules.contains("assign/na_leads"));  // unchanged: not listed

  // /metrics and /status say the same.
  auto [code, metrics] = tests::HttpGet(admin, "/metrics");
  ASSERT_EQ(code, 200);
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat(
                           "leadroute_shadow_changed_total{output=\"owner\"} ",
                           replay.changed[0], "\n")));
  EXPECT_THAT(metrics,
              HasSubstr(absl::StrCat("leadroute_shadow_transitions_total{from="
                                     "\"team:emea\",to=\"team:dach\"} ",
                                     replay.changed[0], "\n")));
  EXPECT_THAT(metrics, HasSubstr("leadroute_shadow_leads_total{result="
                                 "\"compared\"} 2100\n"));
  auto [status_code, json] = tests::HttpGet(admin, "/status");
  ASSERT_EQ(status_code, 200);
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"any\": ", replay.changed_any)));

  // The decision log: a line per lead, and one per disagreement naming the
  // live decision it shadows.
  shadowed.reset();  // flushes the log
  std::ifstream in(dir_ / "decisions.jsonl");
  int routed = 0, disagreements = 0, owner = 0;
  std::set<std::string> decision_ids;
  std::vector<std::string> shadow_of;
  for (std::string line; std::getline(in, line);) {
    LoggedDecision logged;
    ASSERT_TRUE(ReadDecisionLine(line, &logged).ok()) << line;
    if (logged.shadow_of.empty()) {
      ++routed;
      const size_t at = line.find("\"decision_id\":\"");
      decision_ids.insert(line.substr(at + 15, 32));
      continue;
    }
    ++disagreements;
    shadow_of.push_back(logged.shadow_of);
    if (line.find("\"changed\":[\"owner\"") != std::string::npos) {
      ++owner;
      EXPECT_THAT(line, HasSubstr("\"live_target\":\"team:emea\""));
      EXPECT_THAT(line, HasSubstr("\"target\":\"team:dach\""));
    }
  }
  EXPECT_EQ(routed, 2100);
  EXPECT_EQ(disagreements, replay.changed_any);
  EXPECT_EQ(owner, replay.changed[0]);
  for (const std::string& id : shadow_of) {
    EXPECT_TRUE(decision_ids.contains(id)) << id;
  }
}

// What is kept of a lead for replay serves the shadow too: with a key, a
// masked email only the shadow's rules read is kept as its keyed hashes, and
// an attribute only the shadow's schema declares is kept, so the shadow can
// be replayed later on this history. Without a shadow, neither.
TEST_F(ShadowTest, WhatTheShadowReadsIsKeptForReplay) {
  Write("acme.route",
        absl::StrReplaceAll(
            kRules, {{"  source: enum { web, event, partner } required\n",
                      "  source: enum { web, event, partner } required\n"
                      "  industry: string\n"},
                     {"  rule web_sla when",
                      "  rule acme_sla when domain(email) == \"acme.com\" and "
                      "industry == \"saas\" then 30m\n  rule web_sla when"}}));
  auto key = std::make_shared<const KeyedHash>(
      *KeyedHash::FromKey(std::string(32, 'k')));
  // The line the server's log has for one lead routed, shadowed by
  // `shadow` (none: "").
  auto logged = [&](const std::string& shadow, const std::string& log) {
    std::unique_ptr<RouterServer> server = Start(shadow, log, "", 0, key);
    EXPECT_NE(server, nullptr);
    LoggedDecision out;
    if (server == nullptr) return out;
    v1::RouteRequest request;
    v1::Lead& lead = *request.mutable_lead();
    lead.set_id("L-acme");
    auto& a = *lead.mutable_attributes();
    a["country"].set_string_value("DE");
    a["source"].set_string_value("web");
    a["email"].set_string_value("Ann@Acme.com");
    a["industry"].set_string_value("saas");
    v1::RouteResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(Router(*server)->Route(&context, request, &response).ok());
    server.reset();  // flushes the log
    std::ifstream in(dir_ / log);
    for (std::string line; std::getline(in, line);) {
      if (line.find("\"shadow_of\"") != std::string::npos) continue;
      EXPECT_EQ(line.find("Acme"), std::string::npos) << line;
      EXPECT_TRUE(ReadDecisionLine(line, &out).ok()) << line;
    }
    return out;
  };
  auto names = [](const LoggedDecision& d) {
    std::set<std::string> out;
    for (const auto& a : d.attributes) out.insert(a.first);
    return out;
  };

  const LoggedDecision alone = logged("", "alone.jsonl");
  EXPECT_EQ(alone.lead_id, "L-acme");
  EXPECT_EQ(alone.masked, std::vector<std::string>{"email"});
  EXPECT_TRUE(alone.hashed.empty());
  EXPECT_FALSE(names(alone).contains("industry"));

  const LoggedDecision shadowed = logged("acme.route", "shadowed.jsonl");
  EXPECT_EQ(shadowed.lead_id, "L-acme");
  EXPECT_TRUE(shadowed.masked.empty());
  ASSERT_EQ(shadowed.hashed.size(), 1u);
  EXPECT_EQ(shadowed.hashed[0].name, "email");
  EXPECT_EQ(shadowed.hashed[0].hashes.domain, key->Hash("acme.com"));
  EXPECT_TRUE(names(shadowed).contains("industry"));
}

TEST_F(ShadowTest, PublishRulesSetsReplacesStopsAndPromotesTheShadow) {
  std::unique_ptr<RouterServer> server = Start("", "");
  ASSERT_NE(server, nullptr);
  auto admin = Admin(*server);
  auto publish = [&](const std::string& text, bool shadow, bool promote,
                     v1::PublishRulesResponse* response) {
    v1::PublishRulesRequest request;
    if (!text.empty()) {
      v1::RuleFile* f = request.add_files();
      f->set_path("dach.route");
      f->set_content(text);
    }
    request.set_shadow(shadow);
    request.set_promote_shadow(promote);
    grpc::ClientContext context;
    return admin->PublishRules(&context, request, response);
  };
  auto status = [&] {
    v1::GetStatusResponse s;
    grpc::ClientContext context;
    EXPECT_TRUE(admin->GetStatus(&context, {}, &s).ok());
    return s;
  };
  v1::PublishRulesResponse response;

  // Nothing to promote yet.
  grpc::Status s = publish("", false, true, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("no shadow ruleset runs"));
  EXPECT_FALSE(status().has_shadow());

  // A shadow: not live; GetStatus names it.
  ASSERT_TRUE(publish(Dach(), true, false, &response).ok());
  EXPECT_FALSE(response.ruleset().live());
  EXPECT_EQ(response.ruleset().origin(), "shadow");
  const std::string fingerprint = response.ruleset().ruleset().fingerprint();
  v1::GetStatusResponse now = status();
  EXPECT_EQ(now.live().ruleset().version(), "1");
  EXPECT_EQ(now.shadow().ruleset().fingerprint(), fingerprint);

  // Leads routed are compared; a German lead still goes to EMEA.
  std::vector<v1::Lead> leads = Leads(300);
  RouteAll(*server, leads);
  now = StatusAfter(*server, 300);
  EXPECT_EQ(now.shadow().compared(), 300);
  EXPECT_GT(now.shadow().changed().at("owner"), 0);

  // A shadow with errors is refused and the running one stays.
  s = publish("ruleset \"x\" version \"1\"\nassign { rule r when then }", true,
              false, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status().shadow().ruleset().fingerprint(), fingerprint);
  s = publish(Dach(), true, true, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = publish(Dach(), false, true, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("files: must be empty"));

  // Promoted: live, from its own files; the shadow is gone.
  ASSERT_TRUE(publish("", false, true, &response).ok());
  EXPECT_TRUE(response.ruleset().live());
  EXPECT_EQ(response.ruleset().origin(), "promote");
  EXPECT_EQ(response.ruleset().ruleset().fingerprint(), fingerprint);
  now = status();
  EXPECT_EQ(now.live().ruleset().fingerprint(), fingerprint);
  EXPECT_FALSE(now.has_shadow());
  v1::RouteRequest request;
  *request.mutable_lead() = leads[0];
  (*request.mutable_lead()->mutable_attributes())["country"].set_string_value(
      "DE");
  (*request.mutable_lead()->mutable_attributes())["source"].set_string_value(
      "web");
  v1::RouteResponse routed;
  grpc::ClientContext context;
  ASSERT_TRUE(Router(*server)->Route(&context, request, &routed).ok());
  EXPECT_EQ(routed.decision().owner(), "dach");

  // Set again, then stopped with no files.
  ASSERT_TRUE(publish(kRules, true, false, &response).ok());
  EXPECT_TRUE(status().has_shadow());
  ASSERT_TRUE(publish("", true, false, &response).ok());
  EXPECT_FALSE(status().has_shadow());
}

// --shadow-queue bounds what waits for the shadow: a call whose leads do
// not fit is still answered in full (that a shadow never changes an answer
// is CountsWhatReplayReportsAndNeverChangesAnAnswer's) and its leads are
// counted as dropped, never waited for; the shadow's counts then cover
// the leads it compared.
TEST_F(ShadowTest,
       LeadsBeyondTheQueueAreDroppedAndCountedAndEveryCallAnswered) {
  const int admin_port = tests::FreePorts(1)[0];
  const std::string admin = absl::StrCat("127.0.0.1:", admin_port);
  std::unique_ptr<RouterServer> server =
      Start("dach.route", "", admin, /*shadow_queue=*/50);
  ASSERT_NE(server, nullptr);
  const std::vector<v1::Lead> leads = Leads(120);
  auto batch = [&](size_t from, size_t to) {
    v1::RouteBatchRequest request;
    for (size_t i = from; i < to; ++i) *request.add_leads() = leads[i];
    v1::RouteBatchResponse response;
    grpc::ClientContext context;
    const grpc::Status s =
        Router(*server)->RouteBatch(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.results_size(), static_cast<int>(to - from));
    for (const auto& r : response.results()) {
      EXPECT_FALSE(r.decision().owner().empty()) << r.ShortDebugString();
    }
  };
  batch(0, 100);    // 100 leads at once: more than the queue holds
  batch(100, 120);  // 20: they fit
  const v1::GetStatusResponse status = StatusAfter(*server, 120);
  const v1::ShadowStatus& s = status.shadow();
  EXPECT_EQ(s.offered(), 120);
  EXPECT_EQ(s.dropped(), 100);
  EXPECT_EQ(s.compared(), 20);
  auto [code, metrics] = tests::HttpGet(admin, "/metrics");
  EXPECT_EQ(code, 200);
  EXPECT_THAT(metrics,
              HasSubstr("leadroute_shadow_leads_total{result=\"dropped\"} "
                        "100\n"));
}

// Times reach the shadow's thread as they were, whatever the year (Unix
// nanoseconds alone would end in 2262 and make two different times equal).
TEST_F(ShadowTest, TimesReachTheShadowAsTheyWere) {
  const std::string live_text = absl::StrReplaceAll(
      kRules, {{"  source: enum", "  seen: time\n  source: enum"}});
  const std::string candidate_text =
      absl::StrReplaceAll(live_text, {{"  rule big when",
                                       "  rule hot when seen within 1h then "
                                       "high\n  rule big when"}});
  CompileOutcome live = CompileFiles({{"r.route", live_text}}, "r.route");
  CompileOutcome candidate =
      CompileFiles({{"r.route", candidate_text}}, "r.route");
  ASSERT_TRUE(live.status.ok() && candidate.status.ok());
  Shadow shadow({1000, nullptr, 1.0});
  shadow.Set(candidate.ruleset, absl::Now());
  Shadow::Pending pending;
  // Seen two hours before it came in: not within the hour, in 2026 as in
  // 2500.
  for (const char* at : {"2026-06-01T10:00:00Z", "2500-06-01T10:00:00Z"}) {
    absl::Time received;
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, at, &received, nullptr));
    runtime::Lead lead{"L",
                       {{"country", std::string("US")},
                        {"source", std::string("web")},
                        {"seen", received - absl::Hours(2)}}};
    std::vector<LeadReader::Attribute> read;
    for (const auto& [name, value] : lead.attributes)
      read.push_back({name, value});
    absl::StatusOr<runtime::Decision> d =
        live.ruleset->policy->Decide(lead, {received, false, {}});
    ASSERT_TRUE(d.ok());
    shadow.PackLead(&pending, "L", received, read);
    shadow.PackDecision(&pending, "id", *d);
  }
  shadow.Submit(&pending);
  shadow.Flush();
  const Shadow::Status s = shadow.status();
  EXPECT_EQ(s.report.leads, 2);
  EXPECT_EQ(s.report.changed[1], 0);  // priority: hot never fires
}

TEST_F(ShadowTest, ShadowRulesWithErrorsStopTheServerFromStarting) {
  Write("broken.route", "ruleset \"x\" version \"1\"\nassign { rule r when }");
  auto registry = std::make_shared<RulesetRegistry>();
  ASSERT_TRUE(registry->LoadPath((dir_ / "live.route").string()).status.ok());
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.shadow_rules = (dir_ / "broken.route").string();
  absl::StatusOr<std::unique_ptr<RouterServer>> server =
      RouterServer::Start(options, registry);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("--shadow-rules"));
}

}  // namespace
}  // namespace leadroute
