// Rules text -> check -> lower -> the reference interpreter: the language's
// runtime meaning, one construct at a time.
#include "absl/strings/str_cat.h"
#include "base/field_error.h"
#include "compiler/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/interpreter.h"
#include "runtime/tree_policy.h"
#include "tests/runtime/same_decision.h"

namespace leadroute::compiler {
namespace {

using runtime::Decision;
using runtime::Lead;
using runtime::Value;

constexpr char kSchema[] = R"(ruleset "t" version "7"
schema {
  email: string
  country: string
  employees: int default 0
  revenue: number
  source: enum { demo, ebook } default ebook
  products: list
  visited: time
  customer: bool default false
}
rep ana { timezone = "UTC" }
team sales { members = [ana] }
queue q
queue other
table owner: string -> rep { "acme.example": ana }
table region: string -> string { "DE": "EMEA" "US": "NA" }
)";

class EvaluateTest : public testing::Test {
 protected:
  // Compiles kSchema + `rules`; fails the test on any error. Every lead is
  // decided twice, by the interpreter and by the decision trees, and the
  // two must agree.
  void Compile(const std::string& rules) {
    CheckResult r = CheckText("t.route", absl::StrCat(kSchema, rules));
    std::string rendered;
    for (const Diagnostic& d : r.diagnostics.all()) {
      rendered += RenderText(r.module->sources, d);
    }
    ASSERT_TRUE(r.ok()) << rendered;
    interpreter_ = std::make_unique<runtime::Interpreter>(r.program);
    trees_ = std::make_unique<runtime::TreePolicy>(r.program);
  }

  absl::StatusOr<Decision> Decide(Lead lead) {
    if (lead.id.empty()) lead.id = "L";
    absl::StatusOr<Decision> d = interpreter_->Decide(lead, {kNow, false, {}});
    absl::StatusOr<Decision> t = trees_->Decide(lead, {kNow, false, {}});
    EXPECT_EQ(d.status(), t.status());
    if (d.ok() && t.ok()) {
      EXPECT_EQ(tests::Difference(*d, *t), "") << "interpreter vs trees";
    }
    return d;
  }

  // The rule of `stage` that decided, or "" when none did.
  std::string RuleOf(const Lead& lead, const std::string& stage) {
    absl::StatusOr<Decision> d = Decide(lead);
    EXPECT_TRUE(d.ok()) << d.status();
    if (!d.ok()) return "";
    for (const auto& r : d->decided_by) {
      if (r.stage == stage) return r.rule;
    }
    return "";
  }

  // Which assign rule fires for `lead` given one test condition.
  std::string Fires(const std::string& condition, const Lead& lead) {
    Compile(absl::StrCat("assign {\n  rule hit when ", condition,
                         " then queue q\n  otherwise queue other\n}\n"));
    return RuleOf(lead, "assign");
  }

  const absl::Time kNow = absl::FromUnixSeconds(1800000000);
  std::unique_ptr<runtime::Interpreter> interpreter_;
  std::unique_ptr<runtime::TreePolicy> trees_;
};

TEST_F(EvaluateTest, ComparisonsOnPresentValues) {
  Lead lead{"L", {{"country", std::string("DE")}, {"employees", int64_t{250}}}};
  EXPECT_EQ(Fires("country == \"DE\"", lead), "hit");
  EXPECT_EQ(Fires("country != \"DE\"", lead), "otherwise");
  EXPECT_EQ(Fires("employees between 200 and 250", lead), "hit");
  EXPECT_EQ(Fires("employees > 250", lead), "otherwise");
  EXPECT_EQ(Fires("country in [\"FR\", \"DE\"]", lead), "hit");
  EXPECT_EQ(Fires("country not in [\"FR\", \"DE\"]", lead), "otherwise");
  EXPECT_EQ(
      Fires("country starts_with \"D\" and country ends_with \"E\"", lead),
      "hit");
  EXPECT_EQ(Fires("region(country) == \"EMEA\"", lead), "hit");
  EXPECT_EQ(Fires("country in region", lead), "hit");
}

TEST_F(EvaluateTest, AMissingValueMakesAConditionFalse) {
  Lead lead{"L", {}};
  EXPECT_EQ(Fires("country == \"DE\"", lead), "otherwise");
  EXPECT_EQ(Fires("country != \"DE\"", lead), "otherwise");
  EXPECT_EQ(Fires("not country == \"DE\"", lead), "hit");
  EXPECT_EQ(Fires("has country", lead), "otherwise");
  EXPECT_EQ(Fires("region(country) == \"EMEA\"", lead), "otherwise");
  // A default is a value.
  EXPECT_EQ(Fires("employees == 0", lead), "hit");
  EXPECT_EQ(Fires("source == ebook", lead), "hit");
  // A lookup of a key the table lacks has no value.
  EXPECT_EQ(Fires("region(country) == \"EMEA\"",
                  Lead{"L", {{"country", std::string("BR")}}}),
            "otherwise");
}

TEST_F(EvaluateTest, NumbersTimesListsAndFlags) {
  Lead lead{"L",
            {{"revenue", 2.5},
             {"visited", kNow - absl::Hours(47)},
             {"products", std::vector<std::string>{"cpq", "billing"}},
             {"customer", true},
             {"email", std::string("Jo@ACME.Example")}}};
  EXPECT_EQ(Fires("revenue > 2", lead), "hit");
  EXPECT_EQ(Fires("revenue between 1 and 2.5", lead), "hit");
  EXPECT_EQ(Fires("visited within 48h", lead), "hit");
  EXPECT_EQ(Fires("visited within 46h", lead), "otherwise");
  EXPECT_EQ(Fires("visited > \"2027-01-01T00:00:00Z\"", lead), "hit");
  EXPECT_EQ(Fires("products contains \"cpq\"", lead), "hit");
  EXPECT_EQ(Fires("products contains \"crm\"", lead), "otherwise");
  EXPECT_EQ(Fires("customer", lead), "hit");
  EXPECT_EQ(Fires("domain(email) == \"acme.example\"", lead), "hit");
  EXPECT_EQ(Fires("lower(email) == \"jo@acme.example\"", lead), "hit");
  EXPECT_EQ(Fires("domain(email) in owner", lead), "hit");
}

TEST_F(EvaluateTest, FirstMatchWinsAndScoreAddsUp) {
  Compile(R"(
score {
  rule big when employees >= 100 then +30
  rule demo when source == demo then +25
  rule tiny when employees < 10 then -5
}
assign {
  rule first when employees > 10 then queue q
  rule second when employees > 5 then team sales
  otherwise queue other
}
)");
  absl::StatusOr<Decision> d = Decide(
      {"L", {{"employees", int64_t{500}}, {"source", std::string("demo")}}});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->score, 55);
  EXPECT_EQ(d->owner, "q");
  ASSERT_EQ(d->decided_by.size(), 3u);
  EXPECT_EQ(d->decided_by[2].rule, "first");
  EXPECT_EQ(d->decided_by[2].location, "t.route:25");
  d = Decide({"L", {{"employees", int64_t{7}}}});
  EXPECT_EQ(d->owner, "sales");
  EXPECT_EQ(d->owner_kind, runtime::OwnerKind::kTeam);
  EXPECT_EQ(d->team, "sales");
  EXPECT_EQ(d->score, -5);  // only `tiny`
}

TEST_F(EvaluateTest, LookupOwnersFallBackWhenTheKeyIsMissing) {
  Compile(R"(
assign {
  rule account when has email then owner(domain(email)) else team sales
  otherwise queue q
}
)");
  absl::StatusOr<Decision> d =
      Decide({"L", {{"email", std::string("a@acme.example")}}});
  EXPECT_EQ(d->owner, "ana");
  EXPECT_EQ(d->owner_kind, runtime::OwnerKind::kRep);
  d = Decide({"L", {{"email", std::string("a@unknown.example")}}});
  EXPECT_EQ(d->owner, "sales");
  // A chain that runs out goes on to the next rules.
  Compile(R"(
assign {
  rule account when has email then owner(domain(email))
  otherwise queue q
}
)");
  d = Decide({"L", {{"email", std::string("a@unknown.example")}}});
  EXPECT_EQ(d->owner, "q");
  EXPECT_EQ(d->decided_by.back().rule, "otherwise");
}

TEST_F(EvaluateTest, PriorityLabelsCompareByUrgency) {
  Compile(R"(
assign { otherwise queue q }
priority {
  labels urgent > high > normal > low
  rule u when employees > 1000 then urgent
  rule h when employees > 100 then high
  otherwise low
}
sla {
  rule fast when priority >= high then 1h
  rule slow when priority < normal then 3d
  otherwise 24h
}
channel {
  rule quick when sla <= 1h then phone
  otherwise email
}
)");
  auto with = [&](int64_t employees) {
    return Decide({"L", {{"employees", employees}}});
  };
  absl::StatusOr<Decision> d = with(5000);
  EXPECT_EQ(d->priority->label, "urgent");
  EXPECT_EQ(d->priority->rank, 0);
  EXPECT_EQ(d->sla, absl::Hours(1));
  EXPECT_EQ(d->respond_by, kNow + absl::Hours(1));
  EXPECT_EQ(d->channel, "phone");
  d = with(500);
  EXPECT_EQ(d->priority->label, "high");
  EXPECT_EQ(d->sla, absl::Hours(1));
  d = with(5);
  EXPECT_EQ(d->priority->label, "low");
  EXPECT_EQ(d->priority->rank, 3);
  EXPECT_EQ(d->sla, absl::Hours(72));
  EXPECT_EQ(d->channel, "email");
}

TEST_F(EvaluateTest, LeadsThatDoNotFitTheSchemaAreRejectedByField) {
  Compile("schema { must: string required }\nassign { otherwise queue q }\n");
  auto field = [&](Lead lead) {
    return ErrorField(Decide(std::move(lead)).status());
  };
  EXPECT_EQ(field({"L", {}}), "attributes.must");
  EXPECT_EQ(
      field(
          {"L", {{"must", std::string("x")}, {"employees", std::string("9")}}}),
      "attributes.employees");
  EXPECT_EQ(
      field(
          {"L", {{"must", std::string("x")}, {"source", std::string("web")}}}),
      "attributes.source");
  // An int is a fine number; unknown attributes are ignored.
  EXPECT_TRUE(Decide({"L",
                      {{"must", std::string("x")},
                       {"revenue", int64_t{3}},
                       {"unknown", true}}})
                  .ok());
}

TEST_F(EvaluateTest, EnumValuesMatchIgnoringCaseAndUnknownOnesAreTheSchemas) {
  Compile(
      "schema { channel_in: enum { web_form, Partner, other } on unknown "
      "other }\n"
      "assign {\n"
      "  rule demo when source == demo then queue q\n"
      "  rule partner when channel_in == Partner then queue q\n"
      "  rule unknown when channel_in == other then rep ana\n"
      "  otherwise queue other\n}\n");
  // Written in any case, a value is the enum's own.
  EXPECT_EQ(RuleOf({"L", {{"source", std::string("DEMO")}}}, "assign"), "demo");
  EXPECT_EQ(RuleOf({"L", {{"channel_in", std::string("partner")}}}, "assign"),
            "partner");
  // `on unknown other`: a value the enum lacks is `other`, not an error.
  EXPECT_EQ(
      RuleOf({"L", {{"channel_in", std::string("Trade Show")}}}, "assign"),
      "unknown");
  // Without it, the error lists the values and suggests the closest.
  absl::Status s = Decide({"L", {{"source", std::string("ebok")}}}).status();
  EXPECT_EQ(ErrorField(s), "attributes.source");
  EXPECT_THAT(std::string(s.message()),
              testing::HasSubstr("\"ebok\" is not one of the enum's values: "
                                 "demo, ebook (did you mean ebook?)"));
  s = Decide({"L", {{"source", std::string("webinar")}}}).status();
  EXPECT_THAT(std::string(s.message()),
              testing::EndsWith("values: demo, ebook"));
}

TEST_F(EvaluateTest, ExplainsWhatDecidedAndWhyNotTheAlternatives) {
  Compile(R"(
assign {
  rule emea when region(country) == "EMEA" and employees > 100 then team sales
  rule big when employees > 100 or customer then queue q
  rule also_big when employees > 50 then queue q
  rule account when has email then owner(domain(email))
  otherwise queue other
}
)");
  runtime::DecideOptions options{
      kNow, true, {"emea", "also_big", "assign/big", "account", "missing"}};
  absl::StatusOr<Decision> d =
      interpreter_->Decide({"L",
                            {{"country", std::string("US")},
                             {"employees", int64_t{500}},
                             {"email", std::string("x@nowhere.example")}}},
                           options);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->explanation.has_value());
  ASSERT_EQ(d->explanation->stages.size(), 1u);
  const runtime::StageExplanation& s = d->explanation->stages[0];
  EXPECT_EQ(s.rule.rule, "big");
  // Only the part of the `or` that held.
  EXPECT_THAT(s.conditions, testing::ElementsAre("employees > 100"));

  const auto& alt = d->explanation->alternatives;
  ASSERT_EQ(alt.size(), 5u);
  EXPECT_EQ(alt[0].failed_condition, "region(country) == \"EMEA\"");
  EXPECT_EQ(alt[0].reason,
            "region(country) == \"EMEA\" is false: region(country) is "
            "\"NA\"");
  EXPECT_EQ(alt[1].failed_condition, "");
  EXPECT_EQ(alt[1].reason, "it matched, but `big` comes first and decided");
  EXPECT_EQ(alt[2].reason, "it is the rule that decided");
  EXPECT_EQ(alt[3].reason,
            "it matched, but none of its owners could be looked up");
  EXPECT_EQ(alt[4].reason, "no rule named `missing`");
  EXPECT_EQ(alt[0].rule.location, "t.route:20");

  // Without `explain`, no explanation.
  d = interpreter_->Decide({"L", {}}, {kNow, false, {}});
  EXPECT_FALSE(d->explanation.has_value());
}

TEST_F(EvaluateTest, WhyNotNamesAMissingValue) {
  Compile(
      "assign {\n  rule de when country == \"DE\" then queue q\n"
      "  otherwise queue other\n}\n");
  absl::StatusOr<Decision> d =
      interpreter_->Decide({"L", {}}, {kNow, true, {"de"}});
  ASSERT_EQ(d->explanation->alternatives.size(), 1u);
  EXPECT_EQ(d->explanation->alternatives[0].reason,
            "country == \"DE\" is false: country has no value");
}

TEST_F(EvaluateTest, WhyNotNamesARuleOfOneStageOrSaysWhichToChoose) {
  Compile(
      "assign {\n  rule de when country == \"DE\" then queue q\n"
      "  otherwise queue other\n}\n"
      "channel {\n  rule de when country == \"DE\" then phone\n"
      "  otherwise email\n}\n");
  absl::StatusOr<Decision> d = interpreter_->Decide(
      {"L", {{"country", std::string("DE")}}},
      {kNow, true, {"de", "channel/de", "dee", "nothing"}});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->explanation->alternatives.size(), 4u);
  EXPECT_EQ(d->explanation->alternatives[0].reason,
            "`de` names a rule in several stages (assign/de, channel/de): "
            "write one of those");
  EXPECT_EQ(d->explanation->alternatives[1].rule.stage, "channel");
  EXPECT_EQ(d->explanation->alternatives[1].reason,
            "it is the rule that decided");
  EXPECT_EQ(d->explanation->alternatives[2].reason,
            "no rule named `dee` (did you mean `de`?)");
  EXPECT_EQ(d->explanation->alternatives[3].reason, "no rule named `nothing`");
}

}  // namespace
}  // namespace leadroute::compiler
