// Diagnostics: the rule author's mistakes, reported like a good compiler
// (file:line:col, the source line with a caret, notes and a hint). These are
// data, not errors of the compiler itself: those travel as absl::Status.
#ifndef LEADROUTE_COMPILER_DIAGNOSTIC_H_
#define LEADROUTE_COMPILER_DIAGNOSTIC_H_

#include <string>
#include <vector>

#include "compiler/source.h"

namespace leadroute::compiler {

enum class Severity { kError, kWarning };

struct Note {
  Span span;
  std::string message;  // e.g. "first defined here"
};

struct Diagnostic {
  Severity severity = Severity::kError;
  Span span;
  std::string message;
  std::vector<Note> notes;
  std::string hint;  // e.g. "did you mean `employees`?"; may be empty
};

class Diagnostics {
 public:
  Diagnostic& Error(Span span, std::string message);
  Diagnostic& Warning(Span span, std::string message);

  const std::vector<Diagnostic>& all() const { return all_; }
  int error_count() const;
  int warning_count() const;
  bool has_errors() const { return error_count() > 0; }
  // Orders by file, then position, keeping insertion order for ties.
  void Sort();

 private:
  std::vector<Diagnostic> all_;
};

// "file:line:col: error: message", the line, a caret under the span, then
// notes and the hint. One block per diagnostic.
std::string RenderText(const SourceSet& sources, const Diagnostic& d);
// One JSON array of objects {file, line, column, end_line, end_column,
// severity, message, notes: [...], hint}.
std::string RenderJson(const SourceSet& sources,
                       const std::vector<Diagnostic>& all);
// GitHub Actions workflow commands: ::error file=F,line=L,col=C::message
std::string RenderGithub(const SourceSet& sources, const Diagnostic& d);

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_DIAGNOSTIC_H_
