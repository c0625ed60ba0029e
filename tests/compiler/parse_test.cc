// What the parser puts into the AST: literals, escapes, durations, hours,
// conditions, outcomes, and spans that point at the source.
#include "compiler/parse.h"

#include "gtest/gtest.h"

namespace leadroute::compiler {
namespace {

struct Parsed {
  SourceSet sources;
  Diagnostics diagnostics;
  ast::File file;
};

std::unique_ptr<Parsed> ParseText(const std::string& text) {
  auto p = std::make_unique<Parsed>();
  int id = p->sources.Add("t.route", text);
  p->file = Parse(p->sources, id, &p->diagnostics);
  return p;
}

template <typename T>
const T& Decl(const Parsed& p, size_t i) {
  return std::get<T>(p.file.declarations.at(i));
}

TEST(ParseTest, StringEscapesAreDecoded) {
  auto p = ParseText(R"(ruleset "a\"b\\c\u00e9\n" version "1")");
  ASSERT_FALSE(p->diagnostics.has_errors());
  EXPECT_EQ(Decl<ast::RulesetHeader>(*p, 0).name.text, "a\"b\\c\xC3\xA9\n");
}

TEST(ParseTest, DurationsAddUpTheirUnits) {
  auto p = ParseText("sla { rule a when x > 1 then 1h30m\n otherwise 2d }");
  ASSERT_FALSE(p->diagnostics.has_errors());
  const auto& stage = Decl<ast::Stage>(*p, 0);
  EXPECT_EQ(stage.rules[0].outcome[0].duration,
            absl::Hours(1) + absl::Minutes(30));
  EXPECT_EQ(stage.rules[1].outcome[0].duration, absl::Hours(48));
  EXPECT_TRUE(stage.rules[1].is_otherwise);
}

TEST(ParseTest, WorkingHoursBecomeMinutesAndDays) {
  auto p = ParseText("rep a { hours = mon-thu 08:30-17:00, fri 09:00-24:00 }");
  ASSERT_FALSE(p->diagnostics.has_errors());
  const auto& hours = std::get<std::vector<ast::HoursSpan>>(
      Decl<ast::Entity>(*p, 0).properties[0].value);
  ASSERT_EQ(hours.size(), 2u);
  EXPECT_EQ(hours[0].first_day, 0);
  EXPECT_EQ(hours[0].last_day, 3);
  EXPECT_EQ(hours[0].start_minute, 8 * 60 + 30);
  EXPECT_EQ(hours[1].first_day, 4);
  EXPECT_EQ(hours[1].last_day, 4);
  EXPECT_EQ(hours[1].end_minute, 24 * 60);
}

TEST(ParseTest, ConditionsKeepPrecedenceAndSpans) {
  auto p = ParseText(
      "assign { rule r when a == 1 or not b in [\"x\"] and c between 1 and 2 "
      "then team t else queue q }");
  ASSERT_FALSE(p->diagnostics.has_errors());
  const ast::Rule& rule = Decl<ast::Stage>(*p, 0).rules[0];
  const ast::Expr& e = *rule.when;
  ASSERT_EQ(e.kind, ast::Expr::Kind::kOr);
  ASSERT_EQ(e.children.size(), 2u);
  EXPECT_EQ(e.children[0]->kind, ast::Expr::Kind::kCompare);
  const ast::Expr& conj = *e.children[1];
  ASSERT_EQ(conj.kind, ast::Expr::Kind::kAnd);
  EXPECT_EQ(conj.children[0]->kind, ast::Expr::Kind::kNot);
  EXPECT_EQ(conj.children[0]->children[0]->kind, ast::Expr::Kind::kIn);
  EXPECT_EQ(conj.children[1]->kind, ast::Expr::Kind::kBetween);
  EXPECT_EQ(p->sources.Text(conj.children[1]->span), "c between 1 and 2");
  ASSERT_EQ(rule.outcome.size(), 2u);
  EXPECT_EQ(rule.outcome[0].kind, ast::Target::Kind::kTeam);
  EXPECT_EQ(rule.outcome[1].kind, ast::Target::Kind::kQueue);
  EXPECT_EQ(rule.outcome[1].name.text, "q");
  EXPECT_EQ(p->sources.Position(rule.outcome[1].name.span).column, 92);
}

TEST(ParseTest, NotInAndCallsAndPoints) {
  auto p =
      ParseText("score { rule r when domain(email) not in accounts then -15 }");
  ASSERT_FALSE(p->diagnostics.has_errors());
  const ast::Rule& rule = Decl<ast::Stage>(*p, 0).rules[0];
  EXPECT_EQ(rule.when->kind, ast::Expr::Kind::kNotIn);
  EXPECT_EQ(rule.when->lhs.kind, ast::Operand::Kind::kCall);
  EXPECT_EQ(rule.when->lhs.name.text, "domain");
  EXPECT_EQ(rule.when->lhs.args[0].name.text, "email");
  EXPECT_EQ(rule.when->set_table->text, "accounts");
  EXPECT_EQ(rule.outcome[0].kind, ast::Target::Kind::kPoints);
  EXPECT_EQ(rule.outcome[0].number, -15);
}

TEST(ParseTest, KeywordsAreNotNames) {
  auto p = ParseText("assign { rule and when x then queue q }");
  ASSERT_TRUE(p->diagnostics.has_errors());
  LineCol at = p->sources.Position(p->diagnostics.all()[0].span);
  EXPECT_EQ(at.column, 15);
}

}  // namespace
}  // namespace leadroute::compiler
