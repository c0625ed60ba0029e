// FileReader: where the compiler reads included .route files and CSV
// tables from. DiskReader() is the file system; MemoryReader serves a fixed
// set of files held in memory (a ruleset published over RPC), so such a
// ruleset can never read the server's own disk.
#ifndef LEADROUTE_COMPILER_FILE_READER_H_
#define LEADROUTE_COMPILER_FILE_READER_H_

#include <map>
#include <string>

#include "absl/status/status.h"

namespace leadroute::compiler {

class FileReader {
 public:
  virtual ~FileReader() = default;
  // The whole file; a Status naming `path` when it cannot be read.
  virtual absl::Status Read(const std::string& path,
                            std::string* out) const = 0;
  // The key under which `path` counts as already loaded.
  virtual std::string Key(const std::string& path) const = 0;
};

// The file system (ReadFile, CanonicalPath).
const FileReader& DiskReader();

// Files by path. Paths are compared after lexical normalisation
// ("a/./b/../c.route" is "a/c.route"); nothing else exists.
class MemoryReader final : public FileReader {
 public:
  explicit MemoryReader(std::map<std::string, std::string> files);
  absl::Status Read(const std::string& path, std::string* out) const override;
  std::string Key(const std::string& path) const override;

 private:
  std::map<std::string, std::string> files_;  // by Key()
};

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_FILE_READER_H_
