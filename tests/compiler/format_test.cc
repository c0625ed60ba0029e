// `fmt`: one canonical layout, idempotent, comments kept, meaning kept, and
// files with syntax errors left alone.
#include "compiler/format.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "compiler/compiler.h"
#include "compiler/load_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadroute::compiler {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> FormatText(const std::string& text,
                                      Diagnostics* d = nullptr) {
  SourceSet sources;
  int id = sources.Add("t.route", text);
  Diagnostics local;
  return Format(sources, id, d != nullptr ? d : &local);
}

std::string Read(const fs::path& p) {
  std::string text;
  EXPECT_TRUE(ReadFile(p.string(), &text).ok()) << p;
  return text;
}

// Every `# ...` comment in `text`, skipping quoted strings, sorted.
std::vector<std::string> CommentsOf(const std::string& text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (text[i] == '#') {
      size_t end = text.find('\n', i);
      if (end == std::string::npos) end = text.size();
      std::string c = text.substr(i, end - i);
      while (!c.empty() && c.back() == ' ') c.pop_back();
      out.push_back(c);
      i = end;
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

constexpr char kCommented[] = R"(# top comment

ruleset "c" version "1"   # trailing on header
# before schema
schema {
  # first attr
  a: int   # trailing a


  b: string
  # dangling at end of schema
}
assign {
  rule x when (a > 1 and (b == "x" or b == "y")) or not (a < 0)   # why
    then queue q
  rule y when a > 1
    # inside a rule
    then queue q
  otherwise queue q
}
queue q
# the end
)";

constexpr char kCommentedFormatted[] = R"(# top comment

ruleset "c" version "1"  # trailing on header
# before schema
schema {
  # first attr
  a: int  # trailing a

  b: string
  # dangling at end of schema
}
assign {
  # why
  rule x when a > 1 and (b == "x" or b == "y") or not a < 0 then queue q
  # inside a rule
  rule y when a > 1 then queue q
  otherwise queue q
}
queue q
# the end
)";

TEST(FormatTest, CanonicalLayoutKeepsEveryComment) {
  std::optional<std::string> out = FormatText(kCommented);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, kCommentedFormatted);
  EXPECT_EQ(CommentsOf(*out), CommentsOf(kCommented));
}

TEST(FormatTest, IsIdempotent) {
  std::optional<std::string> once = FormatText(kCommented);
  ASSERT_TRUE(once.has_value());
  EXPECT_EQ(FormatText(*once), once);
}

TEST(FormatTest, ParenthesesOnlyWhereNeeded) {
  std::optional<std::string> out = FormatText(
      "assign {\n  rule r when ((a == 1)) and (b == 2 or c == 3) and not "
      "(d == 4 and e == 5) then queue q\n}\n");
  ASSERT_TRUE(out.has_value());
  EXPECT_THAT(*out, testing::HasSubstr(
                        "rule r when a == 1 and (b == 2 or c == 3) and not "
                        "(d == 4 and e == 5) then queue q"));
}

TEST(FormatTest, KeepsWhatAnUnknownEnumValueBecomes) {
  std::optional<std::string> out = FormatText(
      "schema {\n  source:  enum {web,partner,other}  required  on  unknown "
      "other\n  on: string\n}\n");
  ASSERT_TRUE(out.has_value());
  EXPECT_THAT(*out, testing::HasSubstr(
                        "  source: enum { web, partner, other } required on "
                        "unknown other\n  on: string\n"));
}

TEST(FormatTest, LongRulesBreakBeforeThen) {
  std::string cond = "country == \"somewhere-with-a-very-long-name\"";
  std::optional<std::string> out =
      FormatText(absl::StrCat("assign { rule r when ", cond, " and ", cond,
                              " then team a else team b else queue q }"));
  ASSERT_TRUE(out.has_value());
  EXPECT_THAT(*out, testing::HasSubstr(
                        absl::StrCat("  rule r when ", cond, " and ", cond,
                                     "\n    then team a else team b else "
                                     "queue q\n")));
}

TEST(FormatTest, KeepsWhetherRepeatLeadsStick) {
  std::optional<std::string> out = FormatText(
      "assign {\n  rule r when a == 1 then team t  sticky   30d # why\n"
      "  rule s when a == 2 then queue q sticky 90d  anywhere\n"
      "  otherwise team t sticky\toff\n}\n");
  ASSERT_TRUE(out.has_value());
  EXPECT_THAT(*out,
              testing::HasSubstr(
                  "  rule r when a == 1 then team t sticky 30d  # why\n"
                  "  rule s when a == 2 then queue q sticky 90d anywhere\n"
                  "  otherwise team t sticky off\n"));
  EXPECT_EQ(FormatText(*out), out);
}

TEST(FormatTest, StringsAreReEscaped) {
  std::optional<std::string> out =
      FormatText("ruleset \"a\\u0041\\\"\\t\\u0001\" version \"1\"\n");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "ruleset \"aA\\\"\\t\\u0001\" version \"1\"\n");
  EXPECT_EQ(FormatText(*out), out);
}

TEST(FormatTest, SyntaxErrorsAreReportedNotFormatted) {
  Diagnostics d;
  EXPECT_FALSE(FormatText("assign { rule r when a = 1 then queue q }", &d));
  ASSERT_TRUE(d.has_errors());
  EXPECT_THAT(d.all()[0].message, testing::HasSubstr("use `==`"));
}

TEST(FormatTest, ExamplesAreCanonical) {
  for (const char* name : {"acme.route", "teams.route"}) {
    const std::string text = Read(fs::path(LEADROUTE_EXAMPLES_DIR) / name);
    EXPECT_EQ(FormatText(text), text) << name;
  }
}

// Over every corpus file that parses: formatting is idempotent, keeps the
// comments, and keeps the meaning (the checker says the same things).
TEST(FormatTest, CorpusRoundTripsWithTheSameMeaning) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(LEADROUTE_CORPUS_DIR)) {
    if (entry.path().extension() != ".route") continue;
    const std::string text = Read(entry.path());
    std::optional<std::string> once = FormatText(text);
    if (!once.has_value()) continue;  // syntax_errors.route
    ++files;
    EXPECT_EQ(FormatText(*once), once) << entry.path();
    EXPECT_EQ(CommentsOf(*once), CommentsOf(text)) << entry.path();

    auto messages = [&](const std::string& t) {
      const fs::path tmp = entry.path().parent_path() / ".fmt_roundtrip.route";
      std::ofstream(tmp) << t;
      absl::StatusOr<CheckResult> r = Check(tmp.string());
      fs::remove(tmp);
      std::vector<std::string> out;
      for (const Diagnostic& d : r->diagnostics.all()) out.push_back(d.message);
      std::sort(out.begin(), out.end());
      return out;
    };
    EXPECT_EQ(messages(*once), messages(text)) << entry.path();
  }
  EXPECT_GE(files, 8);
}

}  // namespace
}  // namespace leadroute::compiler
