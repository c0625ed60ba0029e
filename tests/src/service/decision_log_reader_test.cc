// The decision log read back (decision_log_reader.h): what DecisionLog
// writes comes back field for field; lines written before `received_at`
// and `target` existed still read; a wrong line is an error naming the
// field.
#include "src/service/decision_log_reader.h"

#include <gtest/gtest.h>

#include "absl/strings/str_replace.h"
#include "base/keyed_hash.h"
#include "compiler/compiler.h"
#include "runtime/masked.h"
#include "runtime/tree_policy.h"
#include "src/service/decision_log.h"
#include "src/service/lead_attributes.h"
#include "src/service/ruleset_registry.h"
#include "src/wire/lead_reader.h"

namespace leadroute {
namespace {

constexpr const char* kRules = R"(ruleset "r" version "7"
schema {
  email: string pii
  country: string required
  employees: int default 0
  score_hint: number
  vip: bool
  tags: list
  seen: time
}
rep ann {}
team emea { members = [ann] }
queue triage
assign {
  rule emea when country == "DE" then team emea else queue triage
  otherwise queue triage
}
priority {
  labels high > normal
  otherwise normal
}
sla {
  otherwise 2h
}
)";

TEST(DecisionLogReaderTest, ReadsBackWhatTheLogWrites) {
  compiler::CheckResult checked = compiler::CheckText("r.route", kRules);
  ASSERT_TRUE(checked.ok());
  Ruleset ruleset;
  ruleset.name = "r";
  ruleset.version = "7";
  ruleset.revision = 3;
  ruleset.fingerprint = "0123456789abcdef";

  runtime::Lead lead;
  lead.id = "L-1";
  lead.attributes["email"] = std::string("ann@example.com");
  lead.attributes["country"] = std::string("DE");
  lead.attributes["employees"] = int64_t{1200};
  lead.attributes["score_hint"] = 2.5;
  lead.attributes["vip"] = true;
  lead.attributes["tags"] = std::vector<std::string>{"a", "b"};
  const absl::Time seen = absl::FromUnixSeconds(1764000000);
  lead.attributes["seen"] = seen;
  const absl::Time received = absl::FromUnixSeconds(1764003600);
  const absl::Time decided = received + absl::Milliseconds(1500);
  runtime::DecideOptions options;
  options.received_at = received;
  absl::StatusOr<runtime::Decision> d =
      runtime::TreePolicy(checked.program).Decide(lead, options);
  ASSERT_TRUE(d.ok());
  // The Assigner picked ann from the team: the owner is hers, the target
  // (what the rules chose) the team.
  d->owner = "ann";
  d->owner_kind = runtime::OwnerKind::kRep;
  d->team = "emea";

  std::vector<LeadReader::Attribute> read;
  for (const auto& [name, value] : lead.attributes) {
    read.push_back({name, value});
  }
  absl::StatusOr<std::unique_ptr<DecisionLog>> log = DecisionLog::Open({"-"});
  const LeadAttributes kept({{"vip"}, nullptr});
  ASSERT_TRUE(log.ok());
  const std::string line =
      (*log)->Line(ruleset, kept.Json(read, checked.program.get()), *d, "did",
                   decided, received);

  LoggedDecision out;
  ASSERT_TRUE(ReadDecisionLine(line, &out).ok()) << line;
  EXPECT_EQ(out.lead_id, "L-1");
  EXPECT_EQ(out.decided_at, decided);
  EXPECT_EQ(out.received_at, received);
  EXPECT_EQ(out.ruleset, "r 7");
  EXPECT_EQ(out.decision.owner, "team:emea");
  EXPECT_EQ(out.decision.priority, "normal");
  EXPECT_EQ(out.decision.sla, absl::Hours(2));
  EXPECT_EQ(out.decision.channel, "");
  EXPECT_EQ(out.decision.escalation, "");
  ASSERT_EQ(out.decision.rules.size(), 3u);
  EXPECT_EQ(out.decision.rules[0].first, "assign/emea");
  EXPECT_EQ(out.decision.rules[0].second, "r.route:15");
  // email is pii and vip masked by the log: named, not given.
  EXPECT_EQ(out.masked, (std::vector<std::string>{"email", "vip"}));
  std::map<std::string, runtime::Value> attributes(out.attributes.begin(),
                                                   out.attributes.end());
  EXPECT_EQ(attributes.size(), 5u);
  EXPECT_EQ(std::get<std::string>(attributes["country"]), "DE");
  EXPECT_EQ(std::get<int64_t>(attributes["employees"]), 1200);
  EXPECT_EQ(std::get<double>(attributes["score_hint"]), 2.5);
  EXPECT_EQ(std::get<std::vector<std::string>>(attributes["tags"]),
            (std::vector<std::string>{"a", "b"}));
  // A time is written as RFC 3339 text; the schema reads it back as time.
  EXPECT_EQ(std::get<std::string>(attributes["seen"]),
            "2025-11-24T16:00:00.000000Z");
}

// With a key, a masked string attribute the rules read is written as its
// keyed hashes and read back as them; one they do not read, or one not a
// string, stays "***".
TEST(DecisionLogReaderTest, MaskedAttributesTheRulesReadAreKeptAsKeyedHashes) {
  const std::string reads_email = absl::StrReplaceAll(
      kRules, {{"  otherwise queue triage\n}",
                "  rule acme when domain(email) == \"acme.com\" and vip then "
                "queue triage\n  otherwise queue triage\n}"}});
  ASSERT_NE(reads_email, kRules);
  Ruleset ruleset;
  ruleset.name = "r";
  auto key = std::make_shared<const KeyedHash>(
      *KeyedHash::FromKey(std::string(32, 'k')));
  absl::StatusOr<std::unique_ptr<DecisionLog>> log = DecisionLog::Open({"-"});
  const LeadAttributes kept({{"vip"}, key});
  ASSERT_TRUE(log.ok());
  std::vector<LeadReader::Attribute> read = {
      {"email", std::string("Ann@Example.com")},
      {"country", std::string("DE")},
      {"vip", true}};
  runtime::Decision d;
  d.lead_id = "L-1";

  compiler::CheckResult checked = compiler::CheckText("r.route", reads_email);
  ASSERT_TRUE(checked.ok());
  const std::string line =
      (*log)->Line(ruleset, kept.Json(read, checked.program.get()), d, "did",
                   absl::UnixEpoch(), absl::UnixEpoch());
  EXPECT_EQ(line.find("Ann"), std::string::npos) << line;
  EXPECT_EQ(line.find("xample"), std::string::npos) << line;
  LoggedDecision out;
  ASSERT_TRUE(ReadDecisionLine(line, &out).ok()) << line;
  EXPECT_EQ(out.masked, std::vector<std::string>{"vip"});  // a bool
  ASSERT_EQ(out.hashed.size(), 1u) << line;
  const runtime::MaskedHashes want =
      runtime::HashMasked(*key, "Ann@Example.com");
  EXPECT_EQ(out.hashed[0].name, "email");
  EXPECT_EQ(out.hashed[0].hashes.value, want.value);
  EXPECT_EQ(out.hashed[0].hashes.value, key->Hash("Ann@Example.com"));
  EXPECT_EQ(out.hashed[0].hashes.lower, key->Hash("ann@example.com"));
  EXPECT_EQ(out.hashed[0].hashes.domain, key->Hash("example.com"));
  EXPECT_EQ(out.hashed[0].hashes.key_id, key->id());

  // The rules before never read email: "***", as without a key.
  compiler::CheckResult unread = compiler::CheckText("r.route", kRules);
  ASSERT_TRUE(unread.ok());
  ASSERT_TRUE(ReadDecisionLine(
                  (*log)->Line(ruleset, kept.Json(read, unread.program.get()),
                               d, "did", absl::UnixEpoch(), absl::UnixEpoch()),
                  &out)
                  .ok());
  EXPECT_EQ(out.masked, (std::vector<std::string>{"email", "vip"}));
  EXPECT_TRUE(out.hashed.empty());
}

TEST(DecisionLogReaderTest, OlderLinesDeriveTheReceivedTimeAndTheTarget) {
  LoggedDecision out;
  // No received_at, no target: respond_by less the SLA, and the team.
  ASSERT_TRUE(ReadDecisionLine(
                  R"({"ts":"2026-11-02T10:00:05Z","lead_id":"L-2",)"
                  R"("owner":"ann","owner_kind":"rep","team":"emea",)"
                  R"("sla_seconds":3600,"respond_by":"2026-11-02T11:00:00Z"})",
                  &out)
                  .ok());
  EXPECT_EQ(out.received_at, absl::FromUnixSeconds(1793613600));
  EXPECT_EQ(out.decision.owner, "team:emea");
  // No SLA either: the decision's time; a queue as it was.
  ASSERT_TRUE(
      ReadDecisionLine(R"({"ts":"2026-11-02T10:00:05Z","lead_id":"L-3",)"
                       R"("owner":"triage","owner_kind":"queue","team":""})",
                       &out)
          .ok());
  EXPECT_EQ(out.received_at, absl::FromUnixSeconds(1793613605));
  EXPECT_EQ(out.decision.owner, "queue:triage");
  EXPECT_FALSE(out.decision.sla.has_value());
  ASSERT_TRUE(
      ReadDecisionLine(R"({"ts":"2026-11-02T10:00:05Z","lead_id":"L-4",)"
                       R"("owner":"","owner_kind":"none"})",
                       &out)
          .ok());
  EXPECT_EQ(out.decision.owner, "none");
}

TEST(DecisionLogReaderTest, AWrongLineNamesTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"ts":"2026-11-02T10:00:05Z"})", "lead_id: required"},
      {R"({"lead_id":"L"})", "ts: required"},
      {R"({"lead_id":"L","ts":"yesterday"})", "ts: not an RFC 3339 time"},
      {R"({"lead_id":7,"ts":"2026-11-02T10:00:05Z"})",
       "lead_id: must be a string"},
      {R"({"lead_id":"L","ts":"2026-11-02T10:00:05Z","sla_seconds":-1})",
       "sla_seconds: must be a whole number"},
      {R"({"lead_id":"L","ts":"2026-11-02T10:00:05Z","attributes":{"x":{}}})",
       "attributes.x: keyed hashes need \"hmac\" and \"key\""},
      {R"({"lead_id":"L","ts":"2026-11-02T10:00:05Z",)"
       R"("attributes":{"x":{"hmac":7,"key":"k"}}})",
       "attributes.x.hmac: must be a short string"},
      {R"({"lead_id":"L","ts":"2026-11-02T10:00:05Z",)"
       R"("attributes":{"x":{"hmac":"h"}}})",
       "attributes.x: keyed hashes need"},
      {R"({"lead_id":"L","ts":"2026-11-02T10:00:05Z","attributes":{"x":null}})",
       ""},
      {R"({"lead_id":"L","ts":"2026-11-02T10:00:05Z","attributes":{"x":[1]}})",
       "attributes.x: a list holds strings"},
      {R"({"lead_id":"L","ts":"2026-11-02T10:00:05Z","decided_by":{}})",
       "decided_by: must be a list"},
      {R"([1,2])", "line: must be a JSON object"},
      {R"({"lead_id":"L",)", "not JSON: "},
  };
  for (const auto& [line, want] : cases) {
    LoggedDecision out;
    absl::Status s = ReadDecisionLine(line, &out);
    if (*want == '\0') {  // a null attribute is one not sent
      EXPECT_TRUE(s.ok()) << line << " -> " << s;
      continue;
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << line;
    EXPECT_NE(s.message().find(want), absl::string_view::npos)
        << line << " -> " << s.message();
  }
}

}  // namespace
}  // namespace leadroute
