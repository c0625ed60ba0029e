// Line tables for source files; see source.h.
#include "compiler/source.h"

#include <algorithm>

namespace leadroute::compiler {

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (uint32_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
}

LineCol SourceFile::Position(uint32_t offset) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const int line = static_cast<int>(it - line_starts_.begin());
  return {line, static_cast<int>(offset - line_starts_[line - 1]) + 1};
}

absl::string_view SourceFile::Line(int line) const {
  if (line < 1 || line > static_cast<int>(line_starts_.size())) return {};
  const uint32_t begin = line_starts_[line - 1];
  uint32_t end = line < static_cast<int>(line_starts_.size())
                     ? line_starts_[line] - 1
                     : static_cast<uint32_t>(text_.size());
  if (end > begin && text_[end - 1] == '\r') --end;
  return absl::string_view(text_).substr(begin, end - begin);
}

int SourceSet::Add(std::string path, std::string text) {
  files_.push_back(
      std::make_unique<SourceFile>(std::move(path), std::move(text)));
  return static_cast<int>(files_.size()) - 1;
}

absl::string_view SourceSet::Text(const Span& span) const {
  if (span.file < 0) return {};
  return absl::string_view(file(span.file).text())
      .substr(span.begin, span.end - span.begin);
}

}  // namespace leadroute::compiler
