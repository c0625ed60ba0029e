// `leadroute check PATH...`: lint rule files. A folder is searched for
// .route files; those with a `ruleset` declaration are checked as roots
// (with everything they include), and a file that no root includes is
// checked on its own, so nothing in the folder goes unchecked.
#include <algorithm>
#include <iostream>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "compiler/compiler.h"
#include "compiler/load_files.h"
#include "src/cli/commands.h"
#include "src/service/rule_files.h"

namespace leadroute {
namespace {

// --stats: per stage, the rules, the tree's nodes and leaves, the most
// tests one lead can need (key tests plus conditions left to the leaves)
// and the most rules one leaf tries. --dump-trees: the trees.
void PrintTrees(const compiler::CheckResult& r, const CheckFlags& flags) {
  const runtime::Program& p = *r.program;
  std::cout << r.module->sources.file(0).path() << ": ruleset \"" << p.name
            << "\" version \"" << p.version << "\"\n";
  if (flags.stats) {
    std::cout << absl::StrFormat("  %-9s %7s %7s %7s %10s %12s\n", "stage",
                                 "rules", "nodes", "leaves", "max tests",
                                 "rules/leaf");
  }
  for (int s = 0; s < runtime::kStageCount; ++s) {
    if (p.stages[s].empty()) continue;
    const runtime::DecisionTree& t = p.trees[s];
    const char* stage = runtime::StageIdName(static_cast<runtime::StageId>(s));
    if (flags.stats) {
      std::cout << absl::StrFormat(
          "  %-9s %7d %7d %7d %10d %12d%s\n", stage, p.stages[s].size(),
          t.stats.nodes, t.stats.leaves, t.stats.max_tests, t.stats.max_entries,
          t.stats.over_budget ? "  (over budget: some leaves scan)" : "");
    }
    if (flags.dump_trees) {
      std::cout << "  " << stage << ":\n" << t.DebugString(p, s);
    }
  }
}

}  // namespace

int CheckCommand(const CheckFlags& flags) {
  std::vector<std::string> files;
  for (const std::string& p : flags.paths) {
    if (!ExpandRuleFiles(p, &files)) {
      std::cerr << "leadroute check: " << p << ": no such file or folder\n";
      return kExitUsageOrIo;
    }
  }
  // Check every file; keep roots' results and remember what they include.
  std::vector<compiler::CheckResult> roots;
  std::vector<compiler::CheckResult> fragments;
  std::set<std::string> included;
  for (const std::string& f : files) {
    absl::StatusOr<compiler::CheckResult> r = compiler::Check(f);
    if (!r.ok()) {
      std::cerr << "leadroute check: " << r.status().message() << "\n";
      return kExitUsageOrIo;
    }
    if (r->module->header != nullptr) {
      for (int i = 1; i < r->module->sources.size(); ++i) {
        included.insert(
            compiler::CanonicalPath(r->module->sources.file(i).path()));
      }
      roots.push_back(*std::move(r));
    } else {
      fragments.push_back(*std::move(r));
    }
  }
  std::vector<const compiler::CheckResult*> reported;
  for (const auto& r : roots) reported.push_back(&r);
  for (const auto& r : fragments) {
    if (!included.contains(
            compiler::CanonicalPath(r.module->sources.file(0).path()))) {
      reported.push_back(&r);
    }
  }

  int errors = 0;
  int warnings = 0;
  int allowed = 0;
  std::string json_items;
  for (const compiler::CheckResult* r : reported) {
    errors += r->diagnostics.error_count();
    warnings += r->diagnostics.warning_count();
    allowed += static_cast<int>(r->diagnostics.allowed().size());
    std::vector<compiler::Diagnostic> with_allowed;
    if (flags.show_allowed) with_allowed = r->diagnostics.WithAllowed();
    const std::vector<compiler::Diagnostic>& all =
        flags.show_allowed ? with_allowed : r->diagnostics.all();
    if (flags.format == "json") {
      std::string items = compiler::RenderJson(r->module->sources, all);
      // Splice the per-ruleset arrays into one.
      items = items.substr(1, items.size() - 2);
      if (items.find_first_not_of(" \n") != std::string::npos) {
        absl::StrAppend(&json_items, json_items.empty() ? "" : ",", items);
      }
      continue;
    }
    for (const compiler::Diagnostic& d : all) {
      std::cout << (flags.format == "github"
                        ? compiler::RenderGithub(r->module->sources, d)
                        : compiler::RenderText(r->module->sources, d));
    }
  }
  if (flags.format == "json") {
    std::cout << "[" << json_items << (json_items.empty() ? "]\n" : "\n]\n");
  } else if (flags.format == "text") {
    std::cout << absl::StrCat(
        "checked ", reported.size(),
        reported.size() == 1 ? " ruleset: " : " rulesets: ", errors,
        errors == 1 ? " error, " : " errors, ", warnings,
        warnings == 1 ? " warning" : " warnings",
        allowed == 0
            ? ""
            : absl::StrCat(" (", allowed, " more allowed by the rules",
                           flags.show_allowed ? ")" : "; --show-allowed)"),
        "\n");
  }
  if (flags.stats || flags.dump_trees) {
    for (const compiler::CheckResult* r : reported) {
      if (r->program != nullptr) PrintTrees(*r, flags);
    }
  }
  if (errors > 0 || (flags.strict && warnings > 0)) return kExitRulesOrInput;
  return kExitOk;
}

}  // namespace leadroute
