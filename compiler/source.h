// Source files and spans. Every AST node carries a Span (file id + byte
// offsets); line:column (1-based, in bytes) is computed only for display.
#ifndef LEADROUTE_COMPILER_SOURCE_H_
#define LEADROUTE_COMPILER_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace leadroute::compiler {

struct Span {
  int file = -1;       // index into SourceSet; -1 for "no location"
  uint32_t begin = 0;  // byte offset of the first byte
  uint32_t end = 0;    // byte offset one past the last byte
};

struct LineCol {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
};

class SourceFile {
 public:
  SourceFile(std::string path, std::string text);

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  LineCol Position(uint32_t offset) const;
  // The text of a 1-based line, without its line break.
  absl::string_view Line(int line) const;

 private:
  std::string path_;
  std::string text_;
  std::vector<uint32_t> line_starts_;
};

// All files of one compilation (the root file and its includes), owned in
// one place so spans stay valid for the life of the diagnostics.
class SourceSet {
 public:
  int Add(std::string path, std::string text);
  const SourceFile& file(int id) const { return *files_[id]; }
  int size() const { return static_cast<int>(files_.size()); }
  LineCol Position(const Span& span) const {
    return span.file < 0 ? LineCol{} : file(span.file).Position(span.begin);
  }
  absl::string_view Text(const Span& span) const;

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_SOURCE_H_
