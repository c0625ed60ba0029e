// The load pass: reads the root .route file and, transitively, the files it
// includes (paths relative to the including file), each once. Include
// cycles and unreadable includes are diagnostics; an unreadable root is a
// Status.
#ifndef LEADROUTE_COMPILER_LOAD_FILES_H_
#define LEADROUTE_COMPILER_LOAD_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "compiler/module.h"

namespace leadroute::compiler {

// Files larger than this are rejected with a diagnostic, not read.
inline constexpr size_t kMaxFileBytes = 64 << 20;

absl::Status LoadFiles(const std::string& root_path, Module* module,
                       Diagnostics* diagnostics);

// The same for a root file already in memory; includes and CSV tables are
// read through module->reader.
void LoadText(const std::string& root_path, std::string text, Module* module,
              Diagnostics* diagnostics);

// `path` made absolute with symlinks and `..` resolved where possible; the
// key under which a file counts as already loaded.
std::string CanonicalPath(const std::string& path);

// Reads a whole file; NOT_FOUND / PERMISSION_DENIED / FAILED_PRECONDITION
// (too large, a folder) with the path in the message.
absl::Status ReadFile(const std::string& path, std::string* out);

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_LOAD_FILES_H_
