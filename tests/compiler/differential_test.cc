// Differential tests: random rulesets x random leads, decided by the
// decision trees and by the reference interpreter, must give identical
// decisions (owner, priority, SLA, channel, score and the rules that set
// them). The rulesets come through the real front end as text, so what is
// compared is exactly what `leadroute serve` would run.
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/compiler.h"
#include "gtest/gtest.h"
#include "runtime/interpreter.h"
#include "runtime/tree_policy.h"
#include "tests/runtime/same_decision.h"

namespace leadroute::compiler {
namespace {

using runtime::Lead;
using runtime::Value;

constexpr char kHeader[] = R"(ruleset "random" version "1"
schema {
  country: string
  state: string
  employees: int default 0
  headcount: int
  revenue: number
  industry: enum { software, finance, retail, health } required
  source: enum { demo, trial, ebook }
  vip: bool
  created: time
  products: list
  email: string
}
rep r0 { timezone = "UTC" }
rep r1 { timezone = "UTC" }
rep r2 { timezone = "UTC" }
team t0 { members = [r0, r1] }
queue q0
queue q1
table region: string -> string { "US": "NA" "CA": "NA" "DE": "EMEA" }
table owner: string -> rep { "a.example": r0 "b.example": r2 }
)";

// A random ruleset in the rule language, and random leads for it. Values
// are drawn from small pools that overlap the rules' constants, so
// equalities, boundaries and missing values all occur often.
class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  std::string Ruleset() {
    std::string text = kHeader;
    Stage(&text, "score", 0, 5, false);
    Stage(&text, "assign", 1, 25, Chance(0.7));
    text += "priority {\n  labels urgent > high > normal > low\n";
    Rules(&text, "priority", 0, 6);
    if (Chance(0.7)) text += "  otherwise normal\n";
    text += "}\n";
    Stage(&text, "sla", 0, 5, Chance(0.7));
    Stage(&text, "channel", 0, 4, Chance(0.5));
    return text;
  }

  Lead RandomLead() {
    Lead lead;
    lead.id = "lead";
    auto& a = lead.attributes;
    if (Chance(0.8))
      a["country"] = Pick<std::string>({"US", "CA", "DE", "FR", "", "us"});
    if (Chance(0.6)) a["state"] = Pick<std::string>({"WA", "OR", "NY", "TX"});
    if (Chance(0.8))
      a["employees"] = Pick<int64_t>(
          {-1, 0, 1, 49, 50, 51, 99, 100, 101, 999, 1000, 1001, 5000});
    if (Chance(0.6)) a["headcount"] = Pick<int64_t>({0, 10, 11, 12, 200});
    if (Chance(0.7))
      a["revenue"] = Pick<double>({-2.5, 0.0, 1.5, 1.50001, 2e6, 1e9});
    a["industry"] =
        Pick<std::string>({"software", "finance", "retail", "health"});
    if (Chance(0.8))
      a["source"] = Pick<std::string>({"demo", "trial", "ebook"});
    if (Chance(0.7)) a["vip"] = Chance(0.5);
    if (Chance(0.7))
      a["created"] = absl::FromUnixSeconds(Pick<int64_t>(
          {1767225600 - 1, 1767225600, 1767225600 + 1, 1800000000 - 3600}));
    if (Chance(0.6))
      a["products"] =
          Pick<std::vector<std::string>>({{}, {"cpq"}, {"cpq", "crm"}});
    if (Chance(0.7))
      a["email"] = Pick<std::string>(
          {"x@a.example", "y@b.example", "z@c.edu", "nobody"});
    return lead;
  }

 private:
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  int Int(int lo, int hi) {
    return std::uniform_int_distribution(lo, hi)(rng_);
  }
  template <typename T>
  T Pick(std::initializer_list<T> items) {
    return *(items.begin() + Int(0, static_cast<int>(items.size()) - 1));
  }

  void Stage(std::string* text, const char* stage, int min, int max,
             bool otherwise) {
    absl::StrAppend(text, stage, " {\n");
    Rules(text, stage, min, max);
    if (otherwise) absl::StrAppend(text, "  otherwise ", Outcome(stage), "\n");
    *text += "}\n";
  }

  void Rules(std::string* text, const std::string& stage, int min, int max) {
    const int n = Int(min, max);
    for (int i = 0; i < n; ++i) {
      absl::StrAppend(text, "  rule ", stage, i, " when ", Condition(stage, 0),
                      " then ", Outcome(stage), "\n");
    }
  }

  std::string Outcome(const std::string& stage) {
    if (stage == "score") return Pick<std::string>({"+10", "+25", "-5"});
    if (stage == "assign") {
      return Pick<std::string>({"rep r0", "rep r1", "team t0", "queue q0",
                                "owner(domain(email)) else queue q1",
                                "owner(domain(email)) else rep r2",
                                "owner(lower(email))", "queue q1"});
    }
    if (stage == "priority")
      return Pick<std::string>({"urgent", "high", "normal", "low"});
    if (stage == "sla") return Pick<std::string>({"15m", "1h", "1d"});
    return Pick<std::string>({"phone", "email"});
  }

  std::string Condition(const std::string& stage, int depth) {
    const int roll = Int(0, depth >= 2 ? 9 : 13);
    if (roll == 10)
      return absl::StrCat("not (", Condition(stage, depth + 1), ")");
    if (roll >= 11) {
      return absl::StrCat("(", Condition(stage, depth + 1),
                          roll == 11 ? " or " : " and ",
                          Condition(stage, depth + 1), ")");
    }
    // Mostly conjunctions of indexable tests, as territory plans are.
    std::vector<std::string> parts;
    const int n = Int(1, 3);
    for (int i = 0; i < n; ++i) parts.push_back(Atom(stage));
    return absl::StrJoin(parts, " and ");
  }

  std::string Atom(const std::string& stage) {
    const std::string cmp =
        Pick<std::string>({"==", "!=", "<", "<=", ">", ">="});
    const std::string eq = Pick<std::string>({"==", "!="});
    // Later stages may also read earlier stages' outputs.
    const int last = stage == "score"      ? 15
                     : stage == "assign"   ? 16
                     : stage == "priority" ? 16
                     : stage == "sla"      ? 18
                                           : 19;
    switch (Int(0, last)) {
      case 0:
        return absl::StrCat("country ", eq, " \"",
                            Pick<std::string>({"US", "CA", "DE", ""}), "\"");
      case 1:
        return absl::StrCat("country ", Chance(0.5) ? "in" : "not in",
                            " [\"US\", \"CA\"]");
      case 2:
        return absl::StrCat("state ", eq, " \"",
                            Pick<std::string>({"WA", "OR", "NY"}), "\"");
      case 3:
        return Chance(0.5) ? "has state" : "not has country";
      case 4:
        return absl::StrCat("employees ", cmp, " ",
                            Pick<int>({0, 50, 100, 1000}));
      case 5:
        return absl::StrCat("employees between ", Pick<int>({0, 50, 100}),
                            " and ", Pick<int>({99, 100, 1000}));
      case 6:
        return absl::StrCat("headcount ", cmp, " ", Pick<int>({10, 11, 12}));
      case 7:
        return absl::StrCat("revenue ", cmp, " ",
                            Pick<std::string>({"1.5", "0", "1000000"}));
      case 8:
        return absl::StrCat(
            "industry ", eq, " ",
            Pick<std::string>({"software", "finance", "retail"}));
      case 9:
        return absl::StrCat("industry ", Chance(0.5) ? "in" : "not in",
                            " [software, health]");
      case 10:
        return absl::StrCat("source ", eq, " ",
                            Pick<std::string>({"demo", "ebook"}));
      case 11:
        return Pick<std::string>(
            {"vip", "not vip", "vip == false", "vip != true"});
      case 12:
        return absl::StrCat("created ", cmp, " \"2026-01-01T00:00:00Z\"");
      case 13:
        return "created within 48h";
      case 14:
        return "products contains \"cpq\"";
      case 15:
        return Pick<std::string>({"region(country) == \"NA\"",
                                  "domain(email) in owner",
                                  "email ends_with \".edu\""});
      case 16:
        return absl::StrCat("score ", cmp, " ", Pick<int>({0, 10, 25, 35}));
      case 17:
        return absl::StrCat("priority ", cmp, " ",
                            Pick<std::string>({"urgent", "high", "low"}));
      case 18:
        return absl::StrCat("score ", cmp, " ", Pick<int>({0, 10, 25}));
      default:
        return absl::StrCat("sla ", cmp, " ", Pick<std::string>({"15m", "1h"}));
    }
  }

  std::mt19937 rng_;
};

// Runs `rulesets` random rulesets with `leads` random leads each, with the
// given tree budget, and reports the first disagreement in full.
void Differential(int rulesets, int leads, const TreeOptions& options,
                  uint32_t seed) {
  int decided = 0, rejected = 0;
  for (int i = 0; i < rulesets; ++i) {
    Generator gen(seed + static_cast<uint32_t>(i));
    const std::string text = gen.Ruleset();
    CheckResult r = CheckText("random.route", text, options);
    if (!r.ok()) {
      std::string rendered;
      for (const Diagnostic& d : r.diagnostics.all())
        rendered += RenderText(r.module->sources, d);
      FAIL() << "generated ruleset " << i << " has errors:\n"
             << rendered << text;
    }
    runtime::Interpreter interpreter(r.program);
    runtime::TreePolicy trees(r.program);
    for (int j = 0; j < leads; ++j) {
      const Lead lead = gen.RandomLead();
      const runtime::DecideOptions at{
          absl::FromUnixSeconds(1767225600 + 3600), false, {}};
      absl::StatusOr<runtime::Decision> want = interpreter.Decide(lead, at);
      absl::StatusOr<runtime::Decision> got = trees.Decide(lead, at);
      ASSERT_EQ(want.status(), got.status());
      if (!want.ok()) {
        ++rejected;
        continue;
      }
      ++decided;
      const std::string diff = tests::Difference(*want, *got);
      if (!diff.empty()) {
        std::string attrs;
        for (const auto& [name, value] : lead.attributes)
          absl::StrAppend(&attrs, name, "=", runtime::DebugString(value), " ");
        std::string dumps;
        for (int s = 0; s < runtime::kStageCount; ++s)
          absl::StrAppend(&dumps,
                          r.program->trees[s].DebugString(*r.program, s));
        FAIL() << "ruleset " << i << ", lead " << j << ": " << attrs
               << "\ninterpreter vs trees:" << diff << "\n"
               << text << dumps;
      }
    }
  }
  // The generator must exercise what it claims to: most leads are decided.
  EXPECT_GT(decided, rulesets * leads / 2) << rejected << " rejected";
}

TEST(DifferentialTest, TreesDecideExactlyAsTheInterpreter) {
  Differential(300, 1000, TreeOptions{}, 1);
}

// A budget so small that most of every tree falls back to leaves that scan
// their rules: still exact.
TEST(DifferentialTest, OverBudgetTreesStillDecideExactly) {
  Differential(100, 200, TreeOptions{40}, 100000);
}

}  // namespace
}  // namespace leadroute::compiler
