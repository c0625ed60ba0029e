// Diagnostics: the rule author's mistakes, reported like a good compiler
// (file:line:col, the source line with a caret, notes and a hint). These are
// data, not errors of the compiler itself: those travel as absl::Status.
#ifndef LEADROUTE_COMPILER_DIAGNOSTIC_H_
#define LEADROUTE_COMPILER_DIAGNOSTIC_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "compiler/source.h"

namespace leadroute::compiler {

enum class Severity { kError, kWarning };

struct Note {
  Span span;
  std::string message;  // e.g. "first defined here"
};

// What a warning is about, by the name a rule author writes in
// `allow NAME "reason"` to accept it (docs/language.md, "Accepting a
// finding"). Errors have no code: they cannot be accepted.
struct FindingKind {
  const char* code;  // e.g. "overlap"
  bool rule_level;   // found at a rule: a rule's `allow` can accept it
  bool allowable;    // false: `allow` refuses it (fix it instead)
};
inline constexpr FindingKind kFindings[] = {
    {"overlap", true, true},        {"never_fires", true, true},
    {"never_matches", true, true},  {"always_true", true, true},
    {"sticky_no_team", true, true}, {"fall_through", false, true},
    {"tree_budget", false, true},   {"unused_escalation", false, false},
    {"unused_allow", false, false},
};
// The finding named `code`, or null.
const FindingKind* FindFinding(absl::string_view code);

struct Diagnostic {
  Severity severity = Severity::kError;
  Span span;
  std::string message;
  std::vector<Note> notes;
  std::string hint;  // e.g. "did you mean `employees`?"; may be empty
  std::string code;  // warnings: a kFindings code
  // An accepted warning: the reason its `allow` gives, and where that is.
  std::string allowed_because;
  Span allowed_at;
};

// One `allow CODE, ... "reason"`: the findings it accepts inside `scope`
// (the rule or stage that carries it).
struct Allowance {
  Span scope;
  Span clause;
  std::vector<std::string> codes;
  std::string reason;
  int uses = 0;  // findings it accepted
};

class Diagnostics {
 public:
  Diagnostic& Error(Span span, std::string message);
  // A warning whose span lies in the scope of an allowance for `code` is
  // recorded as accepted (allowed()) instead of shown (all()).
  Diagnostic& Warning(Span span, absl::string_view code, std::string message);
  // Allowances apply to warnings reported after they are added.
  void Allow(Allowance allowance);
  // Whether a warning `code` at `span` would be accepted; counts nothing.
  bool IsAllowed(Span span, absl::string_view code) const;
  // A warning at every allowance that accepted nothing.
  void ReportUnusedAllowances();

  // Errors and the warnings shown, in report order.
  const std::vector<Diagnostic>& all() const { return all_; }
  // The warnings the rules accepted with `allow`.
  const std::vector<Diagnostic>& allowed() const { return allowed_; }
  // all() and allowed() together, in report order.
  std::vector<Diagnostic> WithAllowed() const;
  int error_count() const;
  int warning_count() const;  // shown ones only
  bool has_errors() const { return error_count() > 0; }
  // Orders by file, then position, keeping insertion order for ties.
  void Sort();

 private:
  // The index of the allowance for `code` whose scope holds `span`, or -1.
  int Covering(Span span, absl::string_view code) const;

  std::vector<Diagnostic> all_;
  std::vector<Diagnostic> allowed_;
  std::vector<Allowance> allowances_;
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
