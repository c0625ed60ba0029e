// The two file readers; see file_reader.h.
#include "compiler/file_reader.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "compiler/load_files.h"

namespace leadroute::compiler {
namespace {

class Disk final : public FileReader {
 public:
  absl::Status Read(const std::string& path, std::string* out) const override {
    return ReadFile(path, out);
  }
  std::string Key(const std::string& path) const override {
    return CanonicalPath(path);
  }
};

}  // namespace

const FileReader& DiskReader() {
  static const Disk* const disk = new Disk;
  return *disk;
}

MemoryReader::MemoryReader(std::map<std::string, std::string> files) {
  for (auto& [path, text] : files) files_[Key(path)] = std::move(text);
}

absl::Status MemoryReader::Read(const std::string& path,
                                std::string* out) const {
  auto it = files_.find(Key(path));
  if (it == files_.end()) {
    return absl::NotFoundError(
        absl::StrCat(path, ": not among the ruleset's files"));
  }
  *out = it->second;
  return absl::OkStatus();
}

std::string MemoryReader::Key(const std::string& path) const {
  return std::filesystem::path(path).lexically_normal().string();
}

}  // namespace leadroute::compiler
