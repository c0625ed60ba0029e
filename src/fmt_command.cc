// `leadroute fmt PATH...`: print rule files in the canonical layout, list
// the ones that are not (--check), or rewrite them in place (-w). A file
// with syntax errors is never rewritten.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "compiler/format.h"
#include "compiler/load_files.h"
#include "src/commands.h"

namespace leadroute {
namespace {

namespace fs = std::filesystem;

bool Expand(const std::string& path, std::vector<std::string>* out) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> found;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".route") {
        found.push_back(it->path().string());
      }
    }
    std::sort(found.begin(), found.end());
    out->insert(out->end(), found.begin(), found.end());
    return !ec;
  }
  if (!fs::exists(path, ec)) return false;
  out->push_back(path);
  return true;
}

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
    if (!Expand(p, &files)) {
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
