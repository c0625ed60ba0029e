// Activation through the real server and a real gRPC channel, over a real
// SQLite store in a temporary folder, with the server's clock a FakeClock:
// RecordContact and RecordOutcome with their errors, the sweeper escalating
// on the server's clock, and WatchAssignments resuming after a disconnect
// and after a restart with no event lost or repeated.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "src/server/server.h"
#include "src/server/webhook.h"
#include "tests/src/server/grpc_test_util.h"
#include "tests/src/server/state_server_fixture.h"
#include "tests/src/server/webhook_receiver.h"
#include "tests/test_dir.h"

namespace leadroute {
namespace {

using tests::Receiver;

constexpr const char* kRules = R"(
ruleset "activation-test" version "1"
schema {
  region: string required
  source: string
}
rep r1 { }
rep r2 { }
rep boss { }
team pool { members = [r1, r2] strategy = round_robin manager = boss }
queue triage
escalation standard {
  at 80% notify
  at 100% reassign to next_rep else queue triage
}
assign {
  otherwise team pool
}
sla {
  rule slow when region == "slow" then 1d
  otherwise 1h
}
escalate {
  rule fast when region != "slow" then standard
}
)";

google::protobuf::Timestamp Proto(absl::Time t) {
  google::protobuf::Timestamp out;
  out.set_seconds(absl::ToUnixSeconds(t));
  return out;
}

// The field a google.rpc.BadRequest in the status names.
std::string BadField(const grpc::Status& s) {
  google::rpc::Status details;
  if (!details.ParseFromString(s.error_details()) ||
      details.details_size() == 0) {
    return "";
  }
  google::rpc::BadRequest bad;
  if (!details.details(0).UnpackTo(&bad) || bad.field_violations_size() == 0) {
    return "";
  }
  return bad.field_violations(0).field();
}

class ActivationServiceTest : public testing_util::StateServerFixture {
 protected:
  void SetUp() override { SetUpServer("activation-svc", kRules); }
  void Configure(ServerOptions* options) override {
    options->sweep_interval = absl::Milliseconds(20);
    options->event_retention = retention_;
    options->webhook = webhook_;
    // Only when asked: stopping civetweb takes about two seconds.
    if (admin_) options->admin_listen = "127.0.0.1:0";
    options->stream_limits = stream_limits_;
    options->webhook_keeps_events = webhook_keeps_;
  }

  v1::Decision Route(const std::string& id, const std::string& region = "x",
                     const std::string& source = "") {
    grpc::ClientContext context;
    v1::RouteRequest request;
    request.mutable_lead()->set_id(id);
    auto& attributes = *request.mutable_lead()->mutable_attributes();
    attributes["region"].set_string_value(region);
    if (!source.empty()) attributes["source"].set_string_value(source);
    v1::RouteResponse response;
    grpc::Status s = router_->Route(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.decision();
  }
  v1::Assignment Get(const std::string& id) {
    grpc::ClientContext context;
    v1::GetAssignmentRequest request;
    request.set_lead_id(id);
    v1::GetAssignmentResponse response;
    grpc::Status s = assignments_->GetAssignment(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.assignment();
  }
  // Lead `id` once it no longer belongs to `owner`: the sweeper runs on its
  // own, so this waits for it (up to 10 s; no timing is asserted).
  v1::Assignment MovedFrom(const std::string& id, const std::string& owner) {
    v1::Assignment a;
    for (int i = 0; i < 1000; ++i) {
      a = Get(id);
      if (a.owner() != owner) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return a;
  }
  grpc::Status Contact(const std::string& id, const std::string& channel,
                       std::optional<absl::Time> at,
                       v1::RecordContactResponse* response) {
    grpc::ClientContext context;
    v1::RecordContactRequest request;
    request.set_lead_id(id);
    request.set_channel(channel);
    if (at) *request.mutable_at() = Proto(*at);
    return assignments_->RecordContact(&context, request, response);
  }
  grpc::Status Stats(v1::StatsDimension by, std::optional<absl::Time> from,
                     std::optional<absl::Time> to,
                     v1::GetStatsResponse* response) {
    grpc::ClientContext context;
    v1::GetStatsRequest request;
    request.set_group_by(by);
    if (from) *request.mutable_from() = Proto(*from);
    if (to) *request.mutable_to() = Proto(*to);
    return assignments_->GetStats(&context, request, response);
  }
  grpc::Status Outcome(const std::string& id, v1::Outcome outcome,
                       v1::RecordOutcomeResponse* response) {
    grpc::ClientContext context;
    v1::RecordOutcomeRequest request;
    request.set_lead_id(id);
    request.set_outcome(outcome);
    return assignments_->RecordOutcome(&context, request, response);
  }

  // Reads `n` events from a stream opened after `after`, then cancels it.
  std::vector<v1::AssignmentEvent> Watch(uint64_t after, size_t n) {
    grpc::ClientContext context;
    // Only so a broken stream fails the test instead of hanging it.
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    v1::WatchAssignmentsRequest request;
    request.set_after_event_id(after);
    auto reader = assignments_->WatchAssignments(&context, request);
    std::vector<v1::AssignmentEvent> out;
    v1::AssignmentEvent e;
    while (out.size() < n && reader->Read(&e)) out.push_back(e);
    context.TryCancel();
    reader->Finish().IgnoreError();
    EXPECT_EQ(out.size(), n);
    return out;
  }

  // Set before Start: the webhook POSTs to `url`, signed with `secret`,
  // retrying after `backoff` doubling up to `max_backoff`.
  void PostTo(const std::string& url, absl::Duration backoff,
              absl::Duration max_backoff, const std::string& secret = "k") {
    webhook_.url = url;
    webhook_.secret = secret;
    webhook_.initial_backoff = backoff;
    webhook_.max_backoff = max_backoff;
  }

  // Set before Start.
  WatchLimits stream_limits_;
  int64_t webhook_keeps_ = 1000000;
  WebhookOptions webhook_;
  bool admin_ = false;
  absl::Duration retention_ = absl::ZeroDuration();
};

TEST_F(ActivationServiceTest, ContactAndOutcomesAreRecordedWithTheirSla) {
  v1::Decision d = Route("L1");
  EXPECT_EQ(d.escalation(), "standard");
  EXPECT_EQ(d.owner(), "r1");
  clock_.Advance(absl::Minutes(20));
  v1::RecordContactResponse contact;
  grpc::Status s = Contact("L1", "phone", std::nullopt, &contact);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(contact.assignment().sla_status(), v1::SLA_STATUS_MET);
  EXPECT_EQ(contact.assignment().contact_channel(), "phone");
  EXPECT_EQ(contact.assignment().contacted_by(), "r1");
  EXPECT_EQ(contact.assignment().contacted_at().seconds(),
            absl::ToUnixSeconds(clock_.Now()));
  EXPECT_FALSE(contact.assignment().has_next_escalation_at());

  v1::RecordOutcomeResponse outcome;
  ASSERT_TRUE(Outcome("L1", v1::OUTCOME_OPPORTUNITY, &outcome).ok());
  EXPECT_EQ(outcome.assignment().outcome(), v1::OUTCOME_OPPORTUNITY);
  EXPECT_TRUE(outcome.assignment().has_opportunity_at());
  EXPECT_FALSE(outcome.assignment().has_qualified_at());
  ASSERT_TRUE(Outcome("L1", v1::OUTCOME_LOST, &outcome).ok());
  EXPECT_EQ(outcome.assignment().status(), v1::LEAD_STATUS_CLOSED);

  // Kept across a restart.
  Restart();
  v1::Assignment a = Get("L1");
  EXPECT_EQ(a.outcome(), v1::OUTCOME_LOST);
  EXPECT_EQ(a.sla_status(), v1::SLA_STATUS_MET);
  EXPECT_EQ(a.contact_channel(), "phone");
}

TEST_F(ActivationServiceTest, BadReportsNameTheirField) {
  Route("L1");
  v1::RecordContactResponse contact;
  grpc::Status s =
      Contact("L1", "phone", clock_.Now() + absl::Hours(2), &contact);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(s), "at");
  s = Contact("", "phone", std::nullopt, &contact);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(s), "lead_id");
  s = Contact("nobody", "phone", std::nullopt, &contact);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  v1::RecordOutcomeResponse outcome;
  s = Outcome("L1", v1::OUTCOME_UNSPECIFIED, &outcome);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(s), "outcome");
  s = Outcome("L1", static_cast<v1::Outcome>(42), &outcome);
  EXPECT_EQ(BadField(s), "outcome");
  ASSERT_TRUE(Outcome("L1", v1::OUTCOME_WON, &outcome).ok());
  s = Outcome("L1", v1::OUTCOME_LOST, &outcome);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // A server without state refuses, with the reason; the stream too.
  server_.reset();
  Start(/*with_state=*/false);
  s = Contact("L1", "phone", std::nullopt, &contact);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  grpc::ClientContext context;
  auto reader =
      assignments_->WatchAssignments(&context, v1::WatchAssignmentsRequest());
  v1::AssignmentEvent e;
  EXPECT_FALSE(reader->Read(&e));
  EXPECT_EQ(reader->Finish().error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ActivationServiceTest, TheSweeperEscalatesOnTheServersClock) {
  admin_ = true;
  Restart();
  const absl::Time t0 = clock_.Now();
  Route("L1");          // r1, 1h
  Route("L2", "slow");  // r2, 1d, no escalation
  // L1's first step, at 30 min, is held in memory; L2's deadline, a day
  // away, waits in the store.
  const std::string one_due = "\nleadroute_sla_due_in_memory 1\n";
  std::string metrics;
  for (int i = 0; i < 500; ++i) {
    metrics = tests::HttpGet(server_->admin_address(), "/metrics").second;
    if (metrics.find(one_due) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(metrics.find(one_due), std::string::npos) << metrics;
  clock_.Set(t0 + absl::Hours(1) + absl::Seconds(1));
  v1::Assignment a = MovedFrom("L1", "r1");
  EXPECT_EQ(a.owner(), "r2");
  EXPECT_EQ(a.sla_status(), v1::SLA_STATUS_MISSED);
  EXPECT_EQ(a.escalation_hops(), 1);
  ASSERT_EQ(a.had_by_size(), 1);
  EXPECT_EQ(a.had_by(0), "r1");
  EXPECT_EQ(Get("L2").sla_status(), v1::SLA_STATUS_PENDING);

  std::vector<v1::AssignmentEvent> events = Watch(0, 5);
  ASSERT_EQ(events.size(), 5u);
  std::vector<std::string> kinds;
  for (const v1::AssignmentEvent& e : events) {
    kinds.push_back(absl::StrCat(e.lead_id(), " ", e.kind()));
  }
  EXPECT_EQ(kinds[0], "L1 assigned");
  EXPECT_EQ(kinds[1], "L2 assigned");
  EXPECT_EQ(kinds[2], "L1 sla_warning");
  EXPECT_EQ(kinds[3], "L1 sla_missed");
  EXPECT_EQ(kinds[4], "L1 escalated");
  const v1::AssignmentEvent& moved = events[4];
  EXPECT_EQ(moved.from(), "r1");
  EXPECT_EQ(moved.to(), "r2");
  EXPECT_EQ(moved.owner_kind(), v1::OWNER_KIND_REP);
  EXPECT_EQ(moved.team(), "pool");
  EXPECT_EQ(moved.sla().seconds(), 3600);
  EXPECT_EQ(moved.respond_by().seconds(),
            absl::ToUnixSeconds(t0 + absl::Hours(2) + absl::Seconds(1)));
}

TEST_F(ActivationServiceTest, WatchResumesAfterADisconnectAndARestart) {
  // "slow" leads have no escalation: only assignments are streamed.
  for (int i = 0; i < 5; ++i) Route(absl::StrCat("A", i), "slow");
  std::vector<v1::AssignmentEvent> first = Watch(0, 3);
  // Disconnected: more happens meanwhile, across a restart.
  for (int i = 0; i < 5; ++i) Route(absl::StrCat("B", i), "slow");
  Restart();
  for (int i = 0; i < 5; ++i) Route(absl::StrCat("C", i), "slow");

  // Resume after the last event seen, and stay for live ones.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  v1::WatchAssignmentsRequest request;
  request.set_after_event_id(first.back().id());
  auto reader = assignments_->WatchAssignments(&context, request);
  std::vector<std::string> leads;
  for (const v1::AssignmentEvent& e : first) leads.push_back(e.lead_id());
  uint64_t last = first.back().id();
  v1::AssignmentEvent e;
  while (leads.size() < 15 && reader->Read(&e)) {
    EXPECT_GT(e.id(), last);
    last = e.id();
    leads.push_back(e.lead_id());
  }
  // Live: routed while the stream is open.
  std::thread live([&] {
    for (int i = 0; i < 5; ++i) Route(absl::StrCat("D", i), "slow");
  });
  while (leads.size() < 20 && reader->Read(&e)) {
    EXPECT_GT(e.id(), last);
    last = e.id();
    leads.push_back(e.lead_id());
  }
  live.join();
  std::vector<std::string> want;
  for (const char* batch : {"A", "B", "C", "D"}) {
    for (int i = 0; i < 5; ++i) want.push_back(absl::StrCat(batch, i));
  }
  EXPECT_EQ(leads, want);

  // Stopping the server ends the stream at once with UNAVAILABLE, rather
  // than waiting out the grace period and cancelling it.
  server_->Shutdown(absl::Seconds(60));
  EXPECT_FALSE(reader->Read(&e));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

// Runs `leadroute` with `args`; its exit code and standard output.
std::pair<int, std::string> RunLeadroute(const std::string& args) {
  const std::string command =
      absl::StrCat(LEADROUTE_BINARY, " ", args, " 2>/dev/null");
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) return {-1, ""};
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  const int status = pclose(f);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST_F(ActivationServiceTest, GetStatsReportAndMetricsAgree) {
  admin_ = true;
  Restart();
  const absl::Time t0 = clock_.Now();
  Route("L1", "x", "demo_request");  // r1
  Route("L2", "x", "ebook");         // r2
  Route("L3", "slow", "demo_request");
  Route("L4", "slow");
  clock_.Advance(absl::Minutes(20));
  v1::RecordContactResponse contact;
  ASSERT_TRUE(Contact("L1", "phone", std::nullopt, &contact).ok());
  v1::RecordOutcomeResponse outcome;
  ASSERT_TRUE(Outcome("L1", v1::OUTCOME_QUALIFIED, &outcome).ok());
  clock_.Advance(absl::Minutes(20));
  ASSERT_TRUE(Outcome("L2", v1::OUTCOME_OPPORTUNITY, &outcome).ok());

  v1::GetStatsResponse by_team;
  grpc::Status s =
      Stats(v1::STATS_DIMENSION_TEAM, std::nullopt, std::nullopt, &by_team);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // The default window: the 7 days up to the server's now.
  EXPECT_EQ(by_team.to().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(by_team.to().seconds() - by_team.from().seconds(), 7 * 86400);
  const v1::LeadStats& total = by_team.total();
  EXPECT_EQ(total.routed(), 4);
  EXPECT_EQ(total.to_rep(), 4);
  EXPECT_EQ(total.contacted(), 2);
  EXPECT_EQ(total.avg_first_response().seconds(), 30 * 60);
  EXPECT_EQ(total.p90_first_response().seconds(), 40 * 60);
  EXPECT_EQ(total.sla_met(), 2);
  EXPECT_EQ(total.sla_pending(), 2);
  EXPECT_DOUBLE_EQ(total.sla_met_rate().value(), 1.0);
  EXPECT_EQ(total.sql(), 2);
  EXPECT_EQ(total.opportunities(), 1);
  EXPECT_DOUBLE_EQ(total.lead_to_sql().value(), 0.5);
  EXPECT_DOUBLE_EQ(total.sql_to_opportunity().value(), 0.5);
  ASSERT_EQ(by_team.rows_size(), 1);
  EXPECT_EQ(by_team.rows(0).key(), "pool");
  EXPECT_EQ(by_team.rows(0).reps(), 2);
  EXPECT_DOUBLE_EQ(by_team.rows(0).fairness().value(), 1.0);

  v1::GetStatsResponse by_source;
  ASSERT_TRUE(
      Stats(v1::STATS_DIMENSION_SOURCE, t0, t0 + absl::Hours(1), &by_source)
          .ok());
  ASSERT_EQ(by_source.rows_size(), 3);
  EXPECT_EQ(by_source.rows(0).key(), "(none)");
  EXPECT_FALSE(by_source.rows(0).has_sla_met_rate());  // L4: pending only
  EXPECT_EQ(by_source.rows(1).key(), "demo_request");
  EXPECT_EQ(by_source.rows(1).routed(), 2);
  EXPECT_EQ(by_source.rows(2).key(), "ebook");
  EXPECT_DOUBLE_EQ(by_source.rows(2).sla_met_rate().value(), 1.0);
  v1::GetStatsResponse by_rule;
  ASSERT_TRUE(
      Stats(v1::STATS_DIMENSION_RULE, t0, t0 + absl::Hours(1), &by_rule).ok());
  std::vector<std::string> rules;
  for (const v1::LeadStats& r : by_rule.rows()) {
    rules.push_back(absl::StrCat(r.key(), "=", r.routed()));
  }
  EXPECT_EQ(rules,
            (std::vector<std::string>{"assign/otherwise=4", "escalate/fast=2",
                                      "sla/otherwise=2", "sla/slow=2"}));

  // `leadroute report` on the same data dir, while the server runs, over
  // the same window.
  auto rfc3339 = [](absl::Time t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
  };
  const std::string report =
      absl::StrCat("report --data-dir ", (dir_ / "data").string(), " --from ",
                   rfc3339(clock_.Now() - absl::Hours(7 * 24)), " --to ",
                   rfc3339(clock_.Now()), " --by team");
  auto [code, json_text] = RunLeadroute(report + " --format json");
  ASSERT_EQ(code, 0) << json_text;
  const nlohmann::json json = nlohmann::json::parse(json_text);
  EXPECT_EQ(json["by"], "team");
  EXPECT_EQ(json["total"]["routed"], total.routed());
  EXPECT_EQ(json["total"]["contacted"], total.contacted());
  EXPECT_EQ(json["total"]["sla_met"], total.sla_met());
  EXPECT_DOUBLE_EQ(json["total"]["avg_first_response_s"].get<double>(), 1800.0);
  EXPECT_DOUBLE_EQ(json["total"]["lead_to_sql"].get<double>(), 0.5);
  ASSERT_EQ(json["rows"].size(), 1u);
  EXPECT_EQ(json["rows"][0]["key"], "pool");
  EXPECT_DOUBLE_EQ(json["rows"][0]["fairness"].get<double>(), 1.0);
  EXPECT_TRUE(json["rows"][0]["p90_first_response_s"].is_number());
  auto [csv_code, csv] = RunLeadroute(report + " --format csv");
  ASSERT_EQ(csv_code, 0);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "team,routed,to_rep,queued,unassigned,fallback,contacted,"
            "avg_first_response_s,p50_first_response_s,p90_first_response_s,"
            "sla_met,sla_missed,"
            "sla_pending,sla_met_rate,sql,opportunities,won,lost,lead_to_sql,"
            "sql_to_opportunity,share,reps,fairness,reassigned_to,"
            "reassigned_away");
  EXPECT_NE(csv.find("\npool,4,4,0,0,0,2,1800.000,1200.000,2400.000,2,0,2,"
                     "1.0000,2,1,0,0,0.5000,0.5000,1.0000,2,1.0000,0,0\n"),
            std::string::npos)
      << csv;
  auto [table_code, table] = RunLeadroute(report);
  ASSERT_EQ(table_code, 0);
  EXPECT_NE(table.find("30m00s"), std::string::npos) << table;
  EXPECT_NE(table.find("(total)"), std::string::npos) << table;

  // The admin port's KPI gauges, over the last 24 hours.
  auto [http_code, metrics] =
      tests::HttpGet(server_->admin_address(), "/metrics");
  ASSERT_EQ(http_code, 200);
  for (const char* line :
       {"leadroute_kpi_leads_routed{window=\"24h\"} 4\n",
        "leadroute_kpi_leads_routed{window=\"24h\",team=\"pool\"} 4\n",
        "leadroute_kpi_first_response_avg_seconds{window=\"24h\"} 1800\n",
        "leadroute_kpi_sla_met_ratio{window=\"24h\"} 1\n",
        "leadroute_kpi_lead_to_sql_ratio{window=\"24h\"} 0.5\n",
        "leadroute_kpi_fairness_index{window=\"24h\",team=\"pool\"} 1\n",
        "leadroute_calls_total{method=\"GetStats\",code=\"OK\"} 3\n"}) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line;
  }
}

// The dashboard's JSON (GET /api/v1/dashboard on the admin port) computes
// what GetStats does: the same totals for the same window and filter, a
// series with every hour, reps with their live status, and the open leads
// earliest deadline first. Bad parameters are 400s naming the parameter.
TEST_F(ActivationServiceTest, DashboardApiAgreesWithGetStats) {
  admin_ = true;
  Restart();
  const absl::Time t0 = clock_.Now();
  Route("L1", "x", "demo_request");     // r1, 1h SLA
  Route("L2", "x", "ebook");            // r2, 1h SLA
  Route("L3", "slow", "demo_request");  // r1, 1d SLA
  Route("L4", "slow");                  // r2, 1d SLA
  clock_.Advance(absl::Minutes(20));
  v1::RecordContactResponse contact;
  ASSERT_TRUE(Contact("L1", "phone", std::nullopt, &contact).ok());
  clock_.Advance(absl::Minutes(20));
  ASSERT_TRUE(Contact("L2", "email", std::nullopt, &contact).ok());
  v1::RecordOutcomeResponse outcome;
  ASSERT_TRUE(Outcome("L1", v1::OUTCOME_QUALIFIED, &outcome).ok());

  auto rfc3339 = [](absl::Time t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
  };
  const absl::Time to = t0 + absl::Hours(3);
  auto dashboard = [&](const std::string& more) {
    auto [code, body] =
        tests::HttpGet(server_->admin_address(),
                       absl::StrCat("/api/v1/dashboard?from=", rfc3339(t0),
                                    "&to=", rfc3339(to), more));
    EXPECT_EQ(code, 200) << body;
    return nlohmann::json::parse(body, nullptr, false);
  };
  const nlohmann::json all = dashboard("");
  ASSERT_FALSE(all.is_discarded());
  v1::GetStatsResponse stats;
  ASSERT_TRUE(Stats(v1::STATS_DIMENSION_UNSPECIFIED, t0, to, &stats).ok());
  const nlohmann::json& total = all["total"];
  EXPECT_EQ(total["routed"], stats.total().routed());
  EXPECT_EQ(total["routed"], 4);
  EXPECT_EQ(total["contacted"], stats.total().contacted());
  EXPECT_DOUBLE_EQ(
      total["p50_first_response_s"].get<double>(),
      static_cast<double>(stats.total().p50_first_response().seconds()));
  EXPECT_DOUBLE_EQ(total["p50_first_response_s"].get<double>(), 20 * 60);
  EXPECT_DOUBLE_EQ(total["p90_first_response_s"].get<double>(), 40 * 60);
  EXPECT_DOUBLE_EQ(total["lead_to_sql"].get<double>(),
                   stats.total().lead_to_sql().value());
  EXPECT_EQ(all["previous_total"]["routed"], 0);
  // Three hours, by hour, each present; the leads in the first.
  ASSERT_EQ(all["series"]["bucket"], "hour");
  const nlohmann::json& series = all["series"]["rows"];
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0]["key"],
            absl::FormatTime("%Y-%m-%dT%H:00", t0, absl::UTCTimeZone()));
  EXPECT_EQ(series[0]["routed"], 4);
  EXPECT_EQ(series[1]["routed"], 0);
  // Reps: both got two leads and are available now.
  ASSERT_GE(all["reps"].size(), 2u);
  EXPECT_EQ(all["reps"][0]["rep"], "r1");
  EXPECT_EQ(all["reps"][0]["kpi"]["routed"], 2);
  EXPECT_EQ(all["reps"][0]["live"]["status"], "available");
  EXPECT_EQ(all["reps"][0]["live"]["open"], 2);
  // Open leads waiting for contact: L3 and L4, a day to go.
  const nlohmann::json& open = all["open_sla"];
  EXPECT_EQ(open["total"], 2);
  EXPECT_EQ(open["overdue"], 0);
  ASSERT_EQ(open["rows"].size(), 2u);
  EXPECT_EQ(open["rows"][0]["lead_id"], "L3");
  EXPECT_EQ(open["rows"][0]["seconds_left"], 86400 - 40 * 60);
  EXPECT_EQ(all["choices"]["sources"],
            nlohmann::json({"(none)", "demo_request", "ebook"}));
  EXPECT_EQ(total["fallback"], stats.total().fallback());
  EXPECT_EQ(total["unassigned"], stats.total().unassigned());

  // A change after an answer shows in the next one (another query, so not
  // from the cache): the facts the answers read follow the store.
  ASSERT_TRUE(Contact("L3", "phone", std::nullopt, &contact).ok());
  const nlohmann::json after = dashboard("&limit=50");
  EXPECT_EQ(after["total"]["contacted"], 3);
  EXPECT_EQ(after["open_sla"]["total"], 1);
  ASSERT_EQ(after["open_sla"]["rows"].size(), 1u);
  EXPECT_EQ(after["open_sla"]["rows"][0]["lead_id"], "L4");

  // A filter: the dashboard and GetStats with the same one.
  const nlohmann::json demo = dashboard("&source=demo_request");
  grpc::ClientContext context;
  v1::GetStatsRequest request;
  *request.mutable_from() = Proto(t0);
  *request.mutable_to() = Proto(to);
  request.set_source("demo_request");
  request.set_group_by(v1::STATS_DIMENSION_DAY);
  request.set_time_zone("America/New_York");
  v1::GetStatsResponse filtered;
  grpc::Status s = assignments_->GetStats(&context, request, &filtered);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(filtered.total().routed(), 2);
  EXPECT_EQ(demo["total"]["routed"], 2);
  EXPECT_EQ(demo["total"]["sql"], filtered.total().sql());
  // By day in New York: the server's Monday 10:00 UTC is Monday there too.
  ASSERT_EQ(filtered.rows_size(), 1);
  EXPECT_EQ(filtered.rows(0).key(), absl::FormatTime("%Y-%m-%d", t0, [] {
              absl::TimeZone ny;
              absl::LoadTimeZone("America/New_York", &ny);
              return ny;
            }()));
  EXPECT_EQ(dashboard("&team=nobody")["total"]["routed"], 0);

  // A window relative to the server's clock, by day beyond two days.
  auto [code, week] =
      tests::HttpGet(server_->admin_address(), "/api/v1/dashboard?window=7d");
  ASSERT_EQ(code, 200) << week;
  const nlohmann::json w = nlohmann::json::parse(week);
  EXPECT_EQ(w["series"]["bucket"], "day");
  EXPECT_EQ(w["total"]["routed"], 4);
  EXPECT_EQ(w["window"]["to"], rfc3339(clock_.Now()));

  for (auto [query, field] :
       {std::pair{"window=fortnight", "window"},
        std::pair{"tz=Mars/Base", "tz"}, std::pair{"limit=0", "limit"},
        std::pair{"window=400d", "window"},
        std::pair{"from=2026-11-23T10:00:00Z&to=2026-11-22T10:00:00Z", "from"},
        std::pair{"to=yesterday", "to"}}) {
    auto [bad_code, bad] = tests::HttpGet(
        server_->admin_address(), absl::StrCat("/api/v1/dashboard?", query));
    EXPECT_EQ(bad_code, 400) << query;
    const nlohmann::json error = nlohmann::json::parse(bad, nullptr, false);
    EXPECT_EQ(error["field"], field) << query << ": " << bad;
  }
  // A parameter longer than the API reads is refused, not cut short.
  auto [long_code, too_long] = tests::HttpGet(
      server_->admin_address(),
      absl::StrCat("/api/v1/dashboard?team=", std::string(300, 'x')));
  EXPECT_EQ(long_code, 400);
  EXPECT_EQ(nlohmann::json::parse(too_long, nullptr, false)["field"], "team")
      << too_long;
  grpc::ClientContext bad_context;
  v1::GetStatsRequest bad_zone;
  bad_zone.set_time_zone("Mars/Base");
  s = assignments_->GetStats(&bad_context, bad_zone, &filtered);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(s), "time_zone");

  // The page and its scripts, compiled in.
  auto [page_code, page] = tests::HttpGet(server_->admin_address(), "/");
  EXPECT_EQ(page_code, 200);
  EXPECT_NE(page.find("/dashboard/app.js"), std::string::npos);
  auto [chart_code, chart] =
      tests::HttpGet(server_->admin_address(), "/dashboard/chart.min.js");
  EXPECT_EQ(chart_code, 200);
  EXPECT_NE(chart.find("Chart.js v"), std::string::npos);
}
TEST_F(ActivationServiceTest, AMissedSlaCountsAgainstTheRepWhoMissedIt) {
  const absl::Time t0 = clock_.Now();
  Route("L1");  // r1, 1h, escalated to the next rep at 100%
  clock_.Set(t0 + absl::Hours(1) + absl::Seconds(1));
  v1::Assignment a = MovedFrom("L1", "r1");
  ASSERT_EQ(a.owner(), "r2");
  EXPECT_EQ(a.owner_sla_status(), v1::SLA_STATUS_PENDING);
  // r2 calls within their own hour.
  clock_.Advance(absl::Minutes(20));
  v1::RecordContactResponse contact;
  ASSERT_TRUE(Contact("L1", "phone", std::nullopt, &contact).ok());
  a = Get("L1");
  EXPECT_EQ(a.sla_status(), v1::SLA_STATUS_MISSED);     // the lead's
  EXPECT_EQ(a.owner_sla_status(), v1::SLA_STATUS_MET);  // r2's own
  ASSERT_EQ(a.sla_missed_by_size(), 1);
  EXPECT_EQ(a.sla_missed_by(0), "r1");

  v1::GetStatsResponse by_rep;
  ASSERT_TRUE(
      Stats(v1::STATS_DIMENSION_REP, std::nullopt, std::nullopt, &by_rep).ok());
  ASSERT_EQ(by_rep.rows_size(), 2);
  const v1::LeadStats& r1 = by_rep.rows(0);
  EXPECT_EQ(r1.key(), "r1");
  EXPECT_EQ(r1.routed(), 1);
  EXPECT_EQ(r1.sla_missed(), 1);
  EXPECT_EQ(r1.sla_met(), 0);
  EXPECT_EQ(r1.contacted(), 0);
  EXPECT_EQ(r1.reassigned_away(), 1);
  const v1::LeadStats& r2 = by_rep.rows(1);
  EXPECT_EQ(r2.key(), "r2");
  EXPECT_EQ(r2.sla_missed(), 0);
  EXPECT_EQ(r2.sla_met(), 1);
  EXPECT_EQ(r2.contacted(), 1);
  EXPECT_EQ(r2.avg_first_response().seconds(), 3600 + 1 + 20 * 60);
  EXPECT_EQ(r2.reassigned_to(), 1);
  EXPECT_EQ(by_rep.total().sla_missed(), 1);

  // `leadroute report --by rep` says the same from the data dir.
  auto [code, json_text] =
      RunLeadroute(absl::StrCat("report --data-dir ", (dir_ / "data").string(),
                                " --last 30d --by rep --format json"));
  ASSERT_EQ(code, 0) << json_text;
  const nlohmann::json json = nlohmann::json::parse(json_text);
  ASSERT_EQ(json["rows"].size(), 2u);
  EXPECT_EQ(json["rows"][0]["key"], "r1");
  EXPECT_EQ(json["rows"][0]["sla_missed"], 1);
  EXPECT_EQ(json["rows"][0]["reassigned_away"], 1);
  EXPECT_EQ(json["rows"][1]["sla_met"], 1);
}

TEST_F(ActivationServiceTest, BadStatsRequestsNameTheirField) {
  v1::GetStatsResponse response;
  const absl::Time now = clock_.Now();
  grpc::Status s = Stats(v1::STATS_DIMENSION_TEAM, now, now, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadField(s), "from");
  s = Stats(v1::STATS_DIMENSION_TEAM, now + absl::Hours(1), now, &response);
  EXPECT_EQ(BadField(s), "from");
  // A year and a day at most: the call scans every lead of its window.
  s = Stats(v1::STATS_DIMENSION_TEAM, now - absl::Hours(24 * 367), now,
            &response);
  EXPECT_EQ(BadField(s), "from");
  EXPECT_NE(s.error_message().find("a window of 367 days; at most 366"),
            std::string::npos)
      << s.error_message();
  EXPECT_TRUE(Stats(v1::STATS_DIMENSION_TEAM, now - absl::Hours(24 * 366), now,
                    &response)
                  .ok());
  {
    grpc::ClientContext context;
    v1::GetStatsRequest request;
    request.mutable_to()->set_nanos(-5);  // not a valid Timestamp
    s = assignments_->GetStats(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(BadField(s), "to");
  }
  // `leadroute report` refuses what it cannot read, with exit code 2.
  const std::string data = (dir_ / "data").string();
  EXPECT_EQ(RunLeadroute("report --data-dir " + data + " --by owner").first, 2);
  EXPECT_EQ(RunLeadroute("report --data-dir " + data + " --last 0").first, 2);
  EXPECT_EQ(
      RunLeadroute("report --data-dir " + data + " --from yesterday").first, 2);
  EXPECT_EQ(
      RunLeadroute("report --data-dir " + (dir_ / "nowhere").string()).first,
      2);
  // One store: neither, or both, is refused; so is a password in --state.
  EXPECT_EQ(RunLeadroute("report").first, 2);
  EXPECT_EQ(RunLeadroute("report --data-dir " + data + " --state host=x").first,
            2);
  EXPECT_EQ(RunLeadroute("state owners --state 'host=x password=p'").first, 2);

  server_.reset();
  Start(/*with_state=*/false);
  s = Stats(v1::STATS_DIMENSION_UNSPECIFIED, std::nullopt, std::nullopt,
            &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ActivationServiceTest, RetentionPrunesEventsAndWatchSaysWhatIsGone) {
  server_.reset();
  retention_ = absl::Hours(1);
  Start();
  Route("old", "slow");
  const std::vector<v1::AssignmentEvent> before = Watch(0, 1);
  clock_.Advance(absl::Hours(2));
  Route("new", "slow");
  // The sweeper prunes on its next tick at the advanced clock.
  uint64_t pruned = 0;
  for (int i = 0; i < 500 && pruned == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pruned = server_->assigner()->committed().PrunedThrough().value_or(0);
  }
  ASSERT_EQ(pruned, before[0].id());
  // From 0: what is left. From before the pruned ids: OUT_OF_RANGE, so a
  // subscriber knows it missed events instead of skipping them silently.
  EXPECT_EQ(Watch(0, 1)[0].lead_id(), "new");
  EXPECT_EQ(Watch(pruned, 1)[0].lead_id(), "new");
  grpc::ClientContext context;
  v1::WatchAssignmentsRequest request;
  request.set_after_event_id(pruned - 1);
  auto reader = assignments_->WatchAssignments(&context, request);
  v1::AssignmentEvent e;
  EXPECT_FALSE(reader->Read(&e));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_NE(s.error_message().find("--event-retention"), std::string::npos)
      << s.error_message();
}

TEST(WebhookSignatureTest, IsHmacSha256OfTimestampDotBody) {
  // Computed independently: Python's hmac.new(b"Jefe",
  // b'1700000000.{"events":[]}', hashlib.sha256).hexdigest().
  EXPECT_EQ(WebhookSignature("Jefe", "1700000000", "{\"events\":[]}"),
            "sha256=a110c986da302c5f37accf36f899e479e3fefc1bf8e4d6b0c91b30f38"
            "38ed197");
}

// A stream that is open: its first event read.
struct OpenStream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::AssignmentEvent>> reader;
};

TEST_F(ActivationServiceTest, WatchersAreBoundedInAllAndPerHost) {
  stream_limits_.max_streams = 3;
  stream_limits_.max_per_peer = 2;
  Restart();
  Route("W1");
  auto open = [&](OpenStream* s) {
    s->context.set_deadline(std::chrono::system_clock::now() +
                            std::chrono::seconds(30));
    s->reader = assignments_->WatchAssignments(&s->context,
                                               v1::WatchAssignmentsRequest());
    v1::AssignmentEvent e;
    return s->reader->Read(&e);
  };
  auto refused = [&](const std::string& flag) {
    OpenStream s;
    EXPECT_FALSE(open(&s));
    grpc::Status status = s.reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_NE(status.error_message().find(flag), std::string::npos)
        << status.error_message();
  };
  {
    OpenStream a, b;
    ASSERT_TRUE(open(&a) && open(&b));
    refused("(--max-watchers-per-peer 2)");
    a.context.TryCancel();
    a.reader->Finish().IgnoreError();
    // Its place is free once the server has seen it go.
    bool reopened = false;
    for (int i = 0; i < 100 && !reopened; ++i) {
      OpenStream c;
      reopened = open(&c);
      c.context.TryCancel();
      c.reader->Finish().IgnoreError();
      if (!reopened)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(reopened);
    b.context.TryCancel();
    b.reader->Finish().IgnoreError();
  }
  stream_limits_.max_streams = 2;
  stream_limits_.max_per_peer = 16;
  Restart();
  OpenStream a, b;
  ASSERT_TRUE(open(&a) && open(&b));
  refused("(--max-watchers 2)");
  a.context.TryCancel();
  b.context.TryCancel();
  a.reader->Finish().IgnoreError();
  b.reader->Finish().IgnoreError();
}

// A subscriber that stops reading holds at most its buffer of live events
// (16 KiB here); past that the stream drops them and reads on from the
// store, so when the subscriber reads again it gets every event, in order,
// once.
TEST_F(ActivationServiceTest, ASubscriberThatStopsReadingMissesNothing) {
  stream_limits_.max_buffered_bytes = 16 << 10;
  Restart();
  // A small, fixed flow-control window, so the server's writes to this
  // stream stall soon after it stops reading.
  grpc::ChannelArguments args;
  args.SetInt("grpc.http2.bdp_probe", 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 10);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(
      server_->address(), grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Assignments::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(60));
  auto reader = stub->WatchAssignments(&context, v1::WatchAssignmentsRequest());
  Route("first");
  v1::AssignmentEvent e;
  ASSERT_TRUE(reader->Read(&e));
  // It stops reading while 4,000 leads are routed.
  std::set<std::string> routed = {"first"};
  for (int b = 0; b < 4; ++b) {
    v1::RouteBatchRequest request;
    for (int i = 0; i < 1000; ++i) {
      v1::Lead* lead = request.add_leads();
      lead->set_id(absl::StrCat("S", b, "-", i));
      (*lead->mutable_attributes())["region"].set_string_value("x");
      routed.insert(lead->id());
    }
    grpc::ClientContext c;
    v1::RouteBatchResponse response;
    ASSERT_TRUE(router_->RouteBatch(&c, request, &response).ok());
  }
  std::set<std::string> seen = {e.lead_id()};
  uint64_t last = e.id();
  while (seen.size() < routed.size() && reader->Read(&e)) {
    ASSERT_GT(e.id(), last) << "out of order or twice";
    last = e.id();
    if (e.kind() == "assigned") seen.insert(e.lead_id());
  }
  EXPECT_EQ(seen, routed);
  context.TryCancel();
  reader->Finish().IgnoreError();
}

TEST(WebhookUrlTest, LogsItWithoutCredentials) {
  EXPECT_EQ(
      RedactUrl("https://crm:hunter2@hooks.example.com:8443/in?token=abc"),
      "https://***@hooks.example.com:8443/in?***");
  EXPECT_EQ(RedactUrl("http://127.0.0.1:9/hook"), "http://127.0.0.1:9/hook");
  EXPECT_EQ(RedactUrl("https://h.example.com?key=1#x"),
            "https://h.example.com?***");
  EXPECT_EQ(RedactUrl("https://u@h"), "https://***@h");
}

TEST_F(ActivationServiceTest, WebhooksAreSignedOrderedRetriedAndResumed) {
  Receiver receiver;
  receiver.Script({503, 500});  // the first two deliveries fail
  server_.reset();
  PostTo(receiver.url(), absl::Milliseconds(20), absl::Milliseconds(100),
         "s3cret");
  webhook_.max_batch = 2;
  admin_ = true;
  Start();
  for (int i = 0; i < 5; ++i) Route(absl::StrCat("W", i), "slow");
  EXPECT_EQ(receiver.Delivered(5),
            (std::vector<std::string>{"W0", "W1", "W2", "W3", "W4"}));
  std::vector<Receiver::Request> requests = receiver.requests();
  ASSERT_GE(requests.size(), 3u);
  // Delivery retried from the first event not taken until it was taken
  // (the batch may have grown meanwhile).
  EXPECT_EQ(requests[0].answered, 503);
  EXPECT_EQ(requests[1].answered, 500);
  EXPECT_EQ(requests[2].answered, 200);
  const std::string first =
      requests[0].event_ids.substr(0, requests[0].event_ids.find('-') + 1);
  EXPECT_EQ(requests[1].event_ids.substr(0, first.size()), first);
  EXPECT_EQ(requests[2].event_ids.substr(0, first.size()), first);
  uint64_t last = 0;
  for (const Receiver::Request& r : requests) {
    EXPECT_EQ(r.signature, WebhookSignature("s3cret", r.timestamp, r.body));
    if (r.answered != 200) continue;
    const nlohmann::json body = nlohmann::json::parse(r.body);
    for (const auto& e : body["events"]) {
      const uint64_t id = std::stoull(e["id"].get<std::string>());
      EXPECT_GT(id, last);
      last = id;
      EXPECT_EQ(e["kind"], "assigned");
      EXPECT_EQ(e["ownerKind"], "OWNER_KIND_REP");
    }
  }
  EXPECT_EQ(server_->webhook()->failures(), 2u);
  // The receiver has the request before the sender has its answer and
  // moves its cursor: wait for that (CI saw 13 of 16 once, under load).
  for (int i = 0; i < 500 && server_->webhook()->delivered_through() < last;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->webhook()->delivered_through(), last);
  std::string metrics =
      tests::HttpGet(server_->admin_address(), "/metrics").second;
  for (const std::string& line :
       {absl::StrCat("leadroute_webhook_delivered_event_id ", last, "\n"),
        std::string("leadroute_webhook_failed_deliveries_total 2\n"),
        std::string("leadroute_webhook_retrying 0\n")}) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line;
  }

  // Endpoint down while leads come in and the server restarts: they are
  // delivered once it is back, and nothing delivered before is sent again.
  receiver.Script(std::vector<int>(1000, 503));
  Restart();
  for (int i = 0; i < 3; ++i) Route(absl::StrCat("X", i), "slow");
  for (int i = 0; i < 500 && !server_->webhook()->retrying(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  metrics = tests::HttpGet(server_->admin_address(), "/metrics").second;
  EXPECT_NE(metrics.find("leadroute_webhook_retrying 1\n"), std::string::npos)
      << metrics;
  server_.reset();
  receiver.Script({});
  const size_t before = receiver.requests().size();
  Start();
  std::vector<std::string> delivered = receiver.Delivered(8);
  EXPECT_EQ(delivered, (std::vector<std::string>{"W0", "W1", "W2", "W3", "W4",
                                                 "X0", "X1", "X2"}));
  requests = receiver.requests();
  for (size_t i = before; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].body.find("\"W"), std::string::npos);
  }
}

// A batch the receiver keeps refusing (4xx) goes to the dead-letter file
// in the data dir, with an alert, and delivery goes on after it.
TEST_F(ActivationServiceTest, ARefusedBatchIsDeadLetteredAndDeliveryGoesOn) {
  Receiver receiver;
  receiver.Script({400, 422, 400});
  server_.reset();
  PostTo(receiver.url(), absl::Milliseconds(20), absl::Milliseconds(100));
  webhook_.max_batch = 1;
  webhook_.dead_letter_after = 3;
  admin_ = true;
  Start();
  Route("D0", "slow");
  Route("D1", "slow");
  EXPECT_EQ(receiver.Delivered(1), std::vector<std::string>{"D1"});
  const std::filesystem::path file =
      dir_ / "data" / "webhook-dead-letter.jsonl";
  std::ifstream in(file);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["error"], "HTTP 400");
  EXPECT_EQ(j["attempts"], 3);
  EXPECT_EQ(j["batch"]["events"][0]["leadId"], "D0");
  EXPECT_FALSE(std::getline(in, line));
  EXPECT_EQ(
      std::filesystem::status(file).permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(server_->webhook()->dead_lettered(), 1u);
  EXPECT_NE(
      tests::HttpGet(server_->admin_address(), "/metrics")
          .second.find("leadroute_webhook_dead_lettered_events_total 1\n"),
      std::string::npos);
  // A 503 is the receiver's trouble, not a refusal: retried, never
  // dead-lettered.
  receiver.Script(std::vector<int>(6, 503));
  Route("D2", "slow");
  EXPECT_EQ(receiver.Delivered(2), (std::vector<std::string>{"D1", "D2"}));
  EXPECT_EQ(server_->webhook()->dead_lettered(), 1u);
}

// A full dead-letter file takes nothing more: the refused batch is retried
// (delivery waits, visibly) until the file is emptied, then goes there.
TEST_F(ActivationServiceTest, AFullDeadLetterFileHoldsDeliveryInsteadOfLosing) {
  Receiver receiver;
  receiver.Script(std::vector<int>(1000, 400));
  server_.reset();
  PostTo(receiver.url(), absl::Milliseconds(20), absl::Milliseconds(50));
  webhook_.max_batch = 1;
  webhook_.dead_letter_after = 2;
  webhook_.dead_letter_max_bytes = 1024;
  Start();
  const std::filesystem::path file =
      dir_ / "data" / "webhook-dead-letter.jsonl";
  std::ofstream(file) << std::string(1000, 'x') << "\n";  // nearly full
  Route("F0", "slow");
  for (int i = 0; i < 500 && receiver.requests().size() < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Refused again and again, never written, never skipped.
  EXPECT_GE(receiver.requests().size(), 8u);
  EXPECT_EQ(server_->webhook()->dead_lettered(), 0u);
  EXPECT_EQ(std::filesystem::file_size(file), 1001u);
  for (const auto& r : receiver.requests()) {
    EXPECT_NE(r.body.find("\"F0\""), std::string::npos);
  }
  // Emptied: F0 goes to the file at its next refusal, and delivery goes
  // on.
  std::filesystem::resize_file(file, 0);
  for (int i = 0; i < 500 && server_->webhook()->dead_lettered() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->webhook()->dead_lettered(), 1u);
  receiver.Script({});
  Route("F1", "slow");
  EXPECT_EQ(receiver.Delivered(1), std::vector<std::string>{"F1"});
  std::ifstream in(file);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["batch"]["events"][0]["leadId"], "F0");
}

// Retention keeps events the webhook has not delivered: a receiver down
// past --event-retention still gets every event once it is back.
TEST_F(ActivationServiceTest, RetentionKeepsWhatTheWebhookHasNotDelivered) {
  Receiver receiver;
  receiver.Script(std::vector<int>(100000, 503));
  server_.reset();
  retention_ = absl::Hours(1);
  PostTo(receiver.url(), absl::Milliseconds(10), absl::Milliseconds(20));
  Start();
  Route("R0", "slow");
  Route("R1", "slow");
  clock_.Advance(absl::Hours(2));
  Route("R2", "slow");
  // Sweeper ticks (20 ms) while the receiver keeps failing.
  const uint64_t failed = server_->webhook()->failures();
  for (int i = 0; i < 1000 && server_->webhook()->failures() < failed + 10;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->assigner()->committed().PrunedThrough().value_or(0), 0u);
  receiver.Script({});
  EXPECT_EQ(receiver.Delivered(3),
            (std::vector<std::string>{"R0", "R1", "R2"}));
  EXPECT_EQ(server_->webhook()->gaps(), 0u);
}

// Past the bound (--webhook-keep-events), age wins: the old undelivered
// events are pruned and the webhook reports the gap instead of skipping it
// silently.
TEST_F(ActivationServiceTest, PastItsBoundTheWebhookReportsTheGap) {
  Receiver receiver;
  receiver.Script(std::vector<int>(100000, 503));
  server_.reset();
  retention_ = absl::Hours(1);
  webhook_keeps_ = 1;
  PostTo(receiver.url(), absl::Milliseconds(10), absl::Milliseconds(20));
  Start();
  Route("G0", "slow");
  Route("G1", "slow");
  clock_.Advance(absl::Hours(2));
  Route("G2", "slow");
  uint64_t pruned = 0;
  for (int i = 0; i < 1000 && pruned == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pruned = server_->assigner()->committed().PrunedThrough().value_or(0);
  }
  ASSERT_GT(pruned, 0u);
  // Back once the sender has seen the gap (a POST read before the prune
  // could still carry G0 and G1).
  for (int i = 0; i < 1000 && server_->webhook()->gaps() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->webhook()->gaps(), 1u);
  receiver.Script({});
  EXPECT_EQ(receiver.Delivered(1), std::vector<std::string>{"G2"});
  EXPECT_EQ(server_->webhook()->gaps(), 1u);
}

TEST_F(ActivationServiceTest, AWebhookStartsAfterTheEventsAlreadyStored) {
  Route("old", "slow");
  Receiver receiver;
  server_.reset();
  webhook_.url = receiver.url();
  webhook_.secret = "k";
  Start();
  Route("new", "slow");
  EXPECT_EQ(receiver.Delivered(1), std::vector<std::string>{"new"});
}

TEST_F(ActivationServiceTest, BadWebhookSettingsAreRefused) {
  server_.reset();
  auto registry = std::make_shared<RulesetRegistry>();
  ASSERT_TRUE(registry->LoadPath((dir_ / "rules.route").string()).status.ok());
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = (dir_ / "data").string();
  options.webhook.url = "ftp://example.com/hook";
  options.webhook.secret = "k";
  EXPECT_EQ(RouterServer::Start(options, registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.webhook.url = "http://127.0.0.1:1/hook";
  options.webhook.secret = "";
  EXPECT_EQ(RouterServer::Start(options, registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.webhook.secret = "k";
  options.data_dir = "";
  absl::StatusOr<std::unique_ptr<RouterServer>> no_state =
      RouterServer::Start(options, registry);
  EXPECT_EQ(no_state.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_state.status().message().find("--data-dir"), std::string::npos);
}

}  // namespace
}  // namespace leadroute
