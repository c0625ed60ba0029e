// Hostile input: no crash, no hang, no partial success, a clear diagnostic.
#include <random>

#include "absl/strings/str_cat.h"
#include "compiler/compiler.h"
#include "compiler/parse.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadroute::compiler {
namespace {

using testing::HasSubstr;

std::string Messages(const CheckResult& r) {
  std::string out;
  for (const Diagnostic& d : r.diagnostics.all()) {
    LineCol at = r.module->sources.Position(d.span);
    absl::StrAppend(&out, at.line, ":", at.column, ": ", d.message, "\n");
  }
  return out;
}

constexpr char kHeader[] =
    "ruleset \"r\" version \"1\"\nschema { n: int default 0 }\nqueue q\n";

TEST(RobustnessTest, EmptyFileSaysWhatIsMissing) {
  CheckResult r = CheckText("empty.route", "");
  ASSERT_EQ(r.diagnostics.all().size(), 1u);
  EXPECT_THAT(Messages(r), HasSubstr("1:1: missing `ruleset"));
}

TEST(RobustnessTest, BinaryJunkIsRejectedWithoutCrashing) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::string junk(1 + rng() % 4096, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    CheckResult r = CheckText("junk.route", junk);
    EXPECT_FALSE(r.ok());
    // Every diagnostic points inside the file.
    for (const Diagnostic& d : r.diagnostics.all()) {
      EXPECT_LE(d.span.end, junk.size());
      EXPECT_FALSE(RenderText(r.module->sources, d).empty());
    }
  }
}

TEST(RobustnessTest, TenThousandNestedParenthesesAreRejected) {
  std::string text = absl::StrCat(
      kHeader, "assign {\n  rule deep when ", std::string(10000, '('), "n > 1",
      std::string(10000, ')'), " then queue q\n  otherwise queue q\n}\n");
  CheckResult r = CheckText("deep.route", text);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(Messages(r), HasSubstr("nesting is too deep"));
}

TEST(RobustnessTest, TenThousandNotsAreRejected) {
  std::string nots;
  for (int i = 0; i < 10000; ++i) nots += "not ";
  std::string text =
      absl::StrCat(kHeader, "assign {\n  rule deep when ", nots,
                   "n > 1 then queue q\n  otherwise queue q\n}\n");
  CheckResult r = CheckText("nots.route", text);
  EXPECT_THAT(Messages(r), HasSubstr("nesting is too deep"));
}

TEST(RobustnessTest, ModerateNestingIsFine) {
  std::string text = absl::StrCat(
      kHeader, "assign {\n  rule nested when ", std::string(40, '('), "n > 1",
      std::string(40, ')'), " then queue q\n  otherwise queue q\n}\n");
  CheckResult r = CheckText("ok.route", text);
  EXPECT_TRUE(r.ok()) << Messages(r);
}

TEST(RobustnessTest, TenMegabyteRulesetChecksClean) {
  std::string text = kHeader;
  text += "assign {\n";
  int i = 0;
  while (text.size() < (10u << 20)) {
    absl::StrAppend(&text, "  rule r", i, " when n == ", i, " or n between ", i,
                    " and ", i + 7, " then queue q   # a comment\n");
    ++i;
  }
  text += "  otherwise queue q\n}\n";
  CheckResult r = CheckText("big.route", text);
  EXPECT_TRUE(r.ok()) << Messages(r).substr(0, 2000);
  ASSERT_EQ(r.module->stages.size(), 1u);
  EXPECT_EQ(r.module->stages.at(ast::StageKind::kAssign)->rules.size(),
            static_cast<size_t>(i) + 1);
}

TEST(RobustnessTest, UnterminatedStringAtEndOfFile) {
  CheckResult r = CheckText("eof.route", "ruleset \"r");
  EXPECT_THAT(Messages(r), HasSubstr("1:11: unterminated string"));
}

TEST(RobustnessTest, UnreadableRootIsAStatusNotADiagnostic) {
  absl::StatusOr<CheckResult> r = Check("/nonexistent/rules.route");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("/nonexistent/rules.route"));
}

TEST(RobustnessTest, IncludingADeviceIsRefusedNotReadForever) {
  CheckResult r = CheckText(
      "dev.route",
      "ruleset \"r\" version \"1\"\ninclude \"/dev/zero\"\n"
      "table t: string -> string from csv \"/dev/zero\" key \"a\" value \"b\"\n"
      "queue q\nassign { otherwise queue q }\n");
  EXPECT_THAT(Messages(r), HasSubstr("2:9: cannot include: /dev/zero: not a "
                                     "regular file"));
  EXPECT_THAT(Messages(r), HasSubstr("/dev/zero: not a regular file"));
}

TEST(RobustnessTest, AFolderIsNotARuleFile) {
  absl::StatusOr<CheckResult> r = Check(LEADROUTE_CORPUS_DIR);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace leadroute::compiler
