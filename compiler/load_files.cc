// The load pass; see load_files.h.
#include "compiler/load_files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "compiler/parse.h"

namespace leadroute::compiler {
namespace {

namespace fs = std::filesystem;

class Loader {
 public:
  Loader(Module* module, Diagnostics* diagnostics)
      : module_(module), diagnostics_(diagnostics) {}

  // Parses `path` (already read into `text`) and then its includes.
  void Load(const std::string& path, std::string text) {
    const std::string key = module_->reader->Key(path);
    loaded_.insert(key);
    const int id = module_->sources.Add(path, std::move(text));
    module_->files.push_back(Parse(module_->sources, id, diagnostics_));
    // Copy the includes out: recursion appends to module_->files.
    std::vector<ast::Include> includes;
    for (const ast::Declaration& d : module_->files.back().declarations) {
      if (const auto* inc = std::get_if<ast::Include>(&d)) {
        includes.push_back(*inc);
      }
    }
    stack_.push_back(key);
    for (const ast::Include& inc : includes) {
      const std::string target =
          (fs::path(path).parent_path() / inc.path.text).string();
      const std::string target_key = module_->reader->Key(target);
      if (std::find(stack_.begin(), stack_.end(), target_key) != stack_.end()) {
        diagnostics_->Error(inc.path.span,
                            absl::StrCat("include cycle: \"", inc.path.text,
                                         "\" is already being included"));
        continue;
      }
      if (loaded_.contains(target_key)) continue;  // diamond: once is enough
      std::string included;
      if (absl::Status s = module_->reader->Read(target, &included); !s.ok()) {
        diagnostics_->Error(inc.path.span,
                            absl::StrCat("cannot include: ", s.message()));
        continue;
      }
      Load(target, std::move(included));
    }
    stack_.pop_back();
  }

 private:
  Module* module_;
  Diagnostics* diagnostics_;
  absl::flat_hash_set<std::string> loaded_;
  std::vector<std::string> stack_;
};

}  // namespace

std::string CanonicalPath(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(path, ec);
  return ec ? path : p.string();
}

absl::Status ReadFile(const std::string& path, std::string* out) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": is a folder, not a file"));
  }
  // Devices and pipes (/dev/zero, /dev/stdin) could be read forever.
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a regular file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::string message = absl::StrCat(path, ": ", std::strerror(err));
    return err == EACCES ? absl::PermissionDeniedError(message)
                         : absl::NotFoundError(message);
  }
  const uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": ", size, " bytes is larger than the limit of ",
                     kMaxFileBytes));
  }
  out->assign(std::istreambuf_iterator<char>(in),
              std::istreambuf_iterator<char>());
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat(path, ": read error"));
  }
  return absl::OkStatus();
}

absl::Status LoadFiles(const std::string& root_path, Module* module,
                       Diagnostics* diagnostics) {
  std::string text;
  RETURN_IF_ERROR(ReadFile(root_path, &text));
  LoadText(root_path, std::move(text), module, diagnostics);
  return absl::OkStatus();
}

void LoadText(const std::string& root_path, std::string text, Module* module,
              Diagnostics* diagnostics) {
  Loader(module, diagnostics).Load(root_path, std::move(text));
}

}  // namespace leadroute::compiler
