// Diagnostic collection and rendering; see diagnostic.h.
#include "compiler/diagnostic.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"

namespace leadroute::compiler {
namespace {

// Report order: by file, then position; ties keep insertion order.
bool ByPlace(const Diagnostic& a, const Diagnostic& b) {
  if (a.span.file != b.span.file) return a.span.file < b.span.file;
  return a.span.begin < b.span.begin;
}

absl::string_view SeverityName(Severity s) {
  return s == Severity::kError ? "error" : "warning";
}

std::string Location(const SourceSet& sources, const Span& span) {
  if (span.file < 0) return "leadroute";
  LineCol at = sources.Position(span);
  return absl::StrCat(sources.file(span.file).path(), ":", at.line, ":",
                      at.column);
}

// The source line under `span`, and a caret line marking it. Tabs are kept
// in the caret line so the marker lines up in a terminal.
void AppendExcerpt(const SourceSet& sources, const Span& span,
                   std::string* out) {
  if (span.file < 0) return;
  const SourceFile& file = sources.file(span.file);
  LineCol at = file.Position(span.begin);
  absl::string_view line = file.Line(at.line);
  constexpr size_t kMaxShown = 200;
  if (line.size() > kMaxShown) line = line.substr(0, kMaxShown);
  std::string marker;
  for (int i = 0; i + 1 < at.column && i < static_cast<int>(line.size()); ++i) {
    marker.push_back(line[i] == '\t' ? '\t' : ' ');
  }
  const uint32_t line_end = span.begin + (line.size() - (at.column - 1));
  const uint32_t end = std::min(span.end, line_end);
  marker.push_back('^');
  for (uint32_t i = span.begin + 1; i < end && marker.size() < kMaxShown; ++i) {
    marker.push_back('~');
  }
  // Control bytes (binary input) would garble the terminal.
  std::string shown(line);
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = '?';
  }
  absl::StrAppend(out, "  ", shown, "\n  ", marker, "\n");
}

std::string GithubEscape(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"%", "%25"}, {"\r", "%0D"}, {"\n", "%0A"}});
}

}  // namespace

Diagnostic& Diagnostics::Error(Span span, std::string message) {
  all_.push_back({Severity::kError, span, std::move(message), {}, {}});
  return all_.back();
}

const FindingKind* FindFinding(absl::string_view code) {
  for (const FindingKind& k : kFindings) {
    if (code == k.code) return &k;
  }
  return nullptr;
}

int Diagnostics::Covering(Span span, absl::string_view code) const {
  for (size_t i = 0; i < allowances_.size(); ++i) {
    const Allowance& a = allowances_[i];
    if (a.scope.file == span.file && a.scope.begin <= span.begin &&
        span.end <= a.scope.end &&
        std::find(a.codes.begin(), a.codes.end(), code) != a.codes.end()) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool Diagnostics::IsAllowed(Span span, absl::string_view code) const {
  return Covering(span, code) >= 0;
}

void Diagnostics::Allow(Allowance allowance) {
  allowances_.push_back(std::move(allowance));
}

Diagnostic& Diagnostics::Warning(Span span, absl::string_view code,
                                 std::string message) {
  Diagnostic d{Severity::kWarning, span, std::move(message), {}, {}};
  d.code = std::string(code);
  if (const int i = Covering(span, code); i >= 0) {
    Allowance& a = allowances_[i];
    ++a.uses;
    d.allowed_because = a.reason;
    d.allowed_at = a.clause;
    allowed_.push_back(std::move(d));
    return allowed_.back();
  }
  all_.push_back(std::move(d));
  return all_.back();
}

void Diagnostics::ReportUnusedAllowances() {
  for (const Allowance& a : allowances_) {
    if (a.uses > 0) continue;
    Warning(a.clause, "unused_allow",
            absl::StrCat("`allow ", absl::StrJoin(a.codes, ", "),
                         "` accepts nothing here: no such finding"))
        .hint = "the rules changed since; delete the `allow`";
  }
}

int Diagnostics::error_count() const {
  return static_cast<int>(std::count_if(
      all_.begin(), all_.end(),
      [](const Diagnostic& d) { return d.severity == Severity::kError; }));
}

int Diagnostics::warning_count() const {
  return static_cast<int>(all_.size()) - error_count();
}

void Diagnostics::Sort() {
  std::stable_sort(all_.begin(), all_.end(), ByPlace);
  std::stable_sort(allowed_.begin(), allowed_.end(), ByPlace);
}

std::vector<Diagnostic> Diagnostics::WithAllowed() const {
  std::vector<Diagnostic> out = all_;
  out.insert(out.end(), allowed_.begin(), allowed_.end());
  std::stable_sort(out.begin(), out.end(), ByPlace);
  return out;
}

std::string RenderText(const SourceSet& sources, const Diagnostic& d) {
  std::string out =
      absl::StrCat(Location(sources, d.span), ": ", SeverityName(d.severity),
                   ": ", d.message, d.code.empty() ? "" : " [", d.code,
                   d.code.empty() ? "" : "]", "\n");
  AppendExcerpt(sources, d.span, &out);
  for (const Note& note : d.notes) {
    absl::StrAppend(&out, Location(sources, note.span),
                    ": note: ", note.message, "\n");
    AppendExcerpt(sources, note.span, &out);
  }
  if (!d.allowed_because.empty()) {
    absl::StrAppend(&out, Location(sources, d.allowed_at),
                    ": note: allowed: ", d.allowed_because, "\n");
  }
  if (!d.hint.empty()) absl::StrAppend(&out, "  hint: ", d.hint, "\n");
  return out;
}

std::string RenderJson(const SourceSet& sources,
                       const std::vector<Diagnostic>& all) {
  auto located = [&](const Span& span) {
    nlohmann::json j = nlohmann::json::object();
    if (span.file < 0) return j;
    LineCol begin = sources.Position(span);
    LineCol end = sources.file(span.file).Position(span.end);
    j["file"] = sources.file(span.file).path();
    j["line"] = begin.line;
    j["column"] = begin.column;
    j["end_line"] = end.line;
    j["end_column"] = end.column;
    return j;
  };
  nlohmann::json out = nlohmann::json::array();
  for (const Diagnostic& d : all) {
    nlohmann::json j = located(d.span);
    j["severity"] = SeverityName(d.severity);
    j["message"] = d.message;
    nlohmann::json notes = nlohmann::json::array();
    for (const Note& n : d.notes) {
      nlohmann::json note = located(n.span);
      note["message"] = n.message;
      notes.push_back(std::move(note));
    }
    j["notes"] = std::move(notes);
    if (!d.hint.empty()) j["hint"] = d.hint;
    if (!d.code.empty()) j["code"] = d.code;
    if (!d.allowed_because.empty()) {
      nlohmann::json allowed = located(d.allowed_at);
      allowed["reason"] = d.allowed_because;
      j["allowed"] = std::move(allowed);
    }
    out.push_back(std::move(j));
  }
  // Replace invalid UTF-8 (binary input) instead of throwing.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string RenderGithub(const SourceSet& sources, const Diagnostic& d) {
  std::string message = d.message;
  if (!d.code.empty()) absl::StrAppend(&message, " [", d.code, "]");
  if (!d.hint.empty()) absl::StrAppend(&message, " (hint: ", d.hint, ")");
  if (!d.allowed_because.empty()) {
    absl::StrAppend(&message, " (allowed: ", d.allowed_because, ")");
  }
  // An accepted warning is a notice: visible in the run, not an annotation
  // that asks for a fix.
  const absl::string_view level =
      d.allowed_because.empty() ? SeverityName(d.severity) : "notice";
  if (d.span.file < 0) {
    return absl::StrCat("::", level, "::", GithubEscape(message), "\n");
  }
  LineCol at = sources.Position(d.span);
  std::string file =
      absl::StrReplaceAll(sources.file(d.span.file).path(),
                          {{"%", "%25"}, {",", "%2C"}, {":", "%3A"}});
  return absl::StrCat("::", level, " file=", file, ",line=", at.line,
                      ",col=", at.column, "::", GithubEscape(message), "\n");
}

}  // namespace leadroute::compiler
