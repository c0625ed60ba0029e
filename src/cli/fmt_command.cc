// `leadroute fmt PATH...`: print rule files in the canonical layout, list
// the ones that are not (--check), or rewrite them in place (-w). A file
// with syntax errors is never rewritten.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "compiler/format.h"
#include "compiler/load_files.h"
#include "src/cli/commands.h"
#include "src/service/rule_files.h"

namespace leadroute {
namespace {

namespace fs = std::filesystem;

// Writes beside the file and renames over it, so a failure never leaves a
// half-written rule file.
bool WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".leadroute-fmt.tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fs::remove(tmp, ec);
  return !ec;
}

}  // namespace

int FmtCommand(const FmtFlags& flags) {
  std::vector<std::string> files;
  for (const std::string& p : flags.paths) {
    if (!ExpandRuleFiles(p, &files)) {
      std::cerr << "leadroute fmt: " << p << ": no such file or folder\n";
      return kExitUsageOrIo;
    }
  }
  int result = kExitOk;
  for (const std::string& path : files) {
    std::string text;
    if (absl::Status s = compiler::ReadFile(path, &text); !s.ok()) {
      std::cerr << "leadroute fmt: " << s.message() << "\n";
      return kExitUsageOrIo;
    }
    compiler::SourceSet sources;
    const int id = sources.Add(path, text);
    compiler::Diagnostics diagnostics;
    std::optional<std::string> formatted =
        compiler::Format(sources, id, &diagnostics);
    if (!formatted.has_value()) {
      for (const compiler::Diagnostic& d : diagnostics.all()) {
        std::cerr << compiler::RenderText(sources, d);
      }
      result = kExitRulesOrInput;
      continue;
    }
    const bool changed = *formatted != text;
    if (flags.check) {
      if (changed) {
        std::cout << path << "\n";
        result = kExitRulesOrInput;
      }
    } else if (flags.write) {
      if (changed && !WriteAtomically(path, *formatted)) {
        std::cerr << "leadroute fmt: cannot write " << path << "\n";
        return kExitUsageOrIo;
      }
    } else {
      std::cout << *formatted;
    }
  }
  return result;
}

}  // namespace leadroute
