// Golden diagnostics: every tests/compiler/corpus/NAME.route is checked and
// its diagnostics (file:line:col, severity, message, notes, hints) must be
// exactly those in NAME.expected, then the warnings its `allow` clauses
// accept (code, message and the reason). Files with no .expected are fragments
// checked through the files that include them.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "compiler/compiler.h"
#include "gtest/gtest.h"

namespace leadroute::compiler {
namespace {

namespace fs = std::filesystem;

std::string Render(const CheckResult& r) {
  auto where = [&](const Span& span) {
    LineCol at = r.module->sources.Position(span);
    return absl::StrCat(
        fs::path(r.module->sources.file(span.file).path()).filename().string(),
        ":", at.line, ":", at.column);
  };
  std::string out;
  for (const Diagnostic& d : r.diagnostics.all()) {
    absl::StrAppend(&out, where(d.span), ": ",
                    d.severity == Severity::kError ? "error" : "warning", ": ",
                    d.message, "\n");
    for (const Note& n : d.notes) {
      absl::StrAppend(&out, where(n.span), ": note: ", n.message, "\n");
    }
    if (!d.hint.empty()) absl::StrAppend(&out, "  hint: ", d.hint, "\n");
  }
  // Warnings the rules accept with `allow`: the finding and the reason.
  for (const Diagnostic& d : r.diagnostics.allowed()) {
    absl::StrAppend(&out, where(d.span), ": allowed ", d.code, ": ", d.message,
                    "\n", where(d.allowed_at), ": because: ", d.allowed_because,
                    "\n");
  }
  return out;
}

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(LEADROUTE_CORPUS_DIR)) {
    if (entry.path().extension() == ".expected") {
      names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

class CorpusTest : public testing::TestWithParam<std::string> {};

TEST_P(CorpusTest, DiagnosticsMatchExpected) {
  const fs::path dir = LEADROUTE_CORPUS_DIR;
  // Check relative to the corpus folder so CSV and include paths in
  // messages are as a user running `leadroute check` there sees them.
  const fs::path cwd = fs::current_path();
  fs::current_path(dir);
  absl::StatusOr<CheckResult> result = Check(GetParam() + ".route");
  fs::current_path(cwd);
  ASSERT_TRUE(result.ok()) << result.status();

  std::ifstream in(dir / (GetParam() + ".expected"));
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(Render(*result), expected.str());
  EXPECT_FALSE(result->diagnostics.all().empty())
      << "a corpus file must have errors or warnings";
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusTest, testing::ValuesIn(CorpusFiles()),
                         [](const auto& info) { return info.param; });

// Every .expected belongs to a rule file, and every rule file is either
// checked against an .expected or included by one that is (a fragment).
TEST(CorpusTest, EveryExpectedFileIsUsed) {
  const fs::path dir = LEADROUTE_CORPUS_DIR;
  const std::vector<std::string> checked = CorpusFiles();
  EXPECT_GE(checked.size(), 9u);
  std::string included;  // the text of every checked file, for include lines
  for (const std::string& name : checked) {
    EXPECT_TRUE(fs::exists(dir / (name + ".route"))) << name << ".expected";
    std::ifstream in(dir / (name + ".route"));
    std::stringstream text;
    text << in.rdbuf();
    included += text.str();
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".route") continue;
    const std::string stem = entry.path().stem().string();
    if (std::find(checked.begin(), checked.end(), stem) != checked.end()) {
      continue;
    }
    EXPECT_NE(
        included.find("include \"" + entry.path().filename().string() + "\""),
        std::string::npos)
        << entry.path() << " has no .expected and no checked file includes it";
  }
}

}  // namespace
}  // namespace leadroute::compiler
