// The format pass; see format.h. Comments are found by a scan of the source
// (they are not in the AST) and placed by position: a comment on a line of
// its own goes before the next item, a comment after code stays at the end
// of that item's line.
#include "compiler/format.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "compiler/ast.h"
#include "compiler/parse.h"

namespace leadroute::compiler {
namespace {

struct Comment {
  uint32_t offset;
  std::string text;  // from '#' to the end of the line
  bool own_line;     // nothing but blanks before it on its line
  bool emitted = false;
};

std::vector<Comment> ScanComments(const std::string& text) {
  std::vector<Comment> out;
  bool line_has_code = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      line_has_code = false;
    } else if (c == '"') {
      line_has_code = true;
      for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '#') {
      size_t end = text.find('\n', i);
      if (end == std::string::npos) end = text.size();
      std::string body = text.substr(i, end - i);
      while (!body.empty() && (body.back() == ' ' || body.back() == '\t' ||
                               body.back() == '\r')) {
        body.pop_back();
      }
      out.push_back({static_cast<uint32_t>(i), body, !line_has_code});
      i = end - 1;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      line_has_code = true;
    }
  }
  return out;
}

std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

std::string Lit(const ast::Literal& l) {
  switch (l.kind) {
    case ast::Literal::Kind::kString:
      return Quote(l.text);
    case ast::Literal::Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < l.items.size(); ++i) {
        absl::StrAppend(&out, i ? ", " : "", Lit(l.items[i]));
      }
      return out + "]";
    }
    default:
      return l.text;  // numbers, durations, bools and names as written
  }
}

std::string Hours(const std::vector<ast::HoursSpan>& spans) {
  static constexpr const char* kDays[] = {"mon", "tue", "wed", "thu",
                                          "fri", "sat", "sun"};
  std::string out;
  for (const ast::HoursSpan& h : spans) {
    if (!out.empty()) out += ", ";
    out += kDays[h.first_day];
    if (h.last_day != h.first_day)
      absl::StrAppend(&out, "-", kDays[h.last_day]);
    absl::StrAppend(&out, " ", h.start_text, "-", h.end_text);
  }
  return out;
}

std::string TypeText(ast::Type t, const std::vector<ast::Name>& values) {
  if (t != ast::Type::kEnum) return std::string(ast::TypeName(t));
  std::string out = "enum { ";
  for (size_t i = 0; i < values.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", values[i].text);
  }
  return out + " }";
}

std::string Operand(const ast::Operand& o) {
  switch (o.kind) {
    case ast::Operand::Kind::kAttribute:
      return o.name.text;
    case ast::Operand::Kind::kLiteral:
      return Lit(o.literal);
    case ast::Operand::Kind::kCall: {
      std::string out = o.name.text + "(";
      for (size_t i = 0; i < o.args.size(); ++i) {
        absl::StrAppend(&out, i ? ", " : "", Operand(o.args[i]));
      }
      return out + ")";
    }
  }
  return "";
}

absl::string_view OpText(ast::CompareOp op) {
  switch (op) {
    case ast::CompareOp::kEq:
      return "==";
    case ast::CompareOp::kNe:
      return "!=";
    case ast::CompareOp::kLt:
      return "<";
    case ast::CompareOp::kLe:
      return "<=";
    case ast::CompareOp::kGt:
      return ">";
    case ast::CompareOp::kGe:
      return ">=";
    case ast::CompareOp::kStartsWith:
      return "starts_with";
    case ast::CompareOp::kEndsWith:
      return "ends_with";
    case ast::CompareOp::kContains:
      return "contains";
  }
  return "==";
}

// Binding strength: or < and < not < a single test.
int Strength(const ast::Expr& e) {
  switch (e.kind) {
    case ast::Expr::Kind::kOr:
      return 0;
    case ast::Expr::Kind::kAnd:
      return 1;
    case ast::Expr::Kind::kNot:
      return 2;
    default:
      return 3;
  }
}

std::string Expr(const ast::Expr& e);

// `child` printed inside a parent of strength `parent`, with parentheses
// only where they are needed.
std::string Sub(const ast::Expr& child, int parent) {
  std::string s = Expr(child);
  return Strength(child) <= parent && Strength(child) < 3 ? "(" + s + ")" : s;
}

std::string Expr(const ast::Expr& e) {
  switch (e.kind) {
    case ast::Expr::Kind::kOr:
    case ast::Expr::Kind::kAnd: {
      const bool is_or = e.kind == ast::Expr::Kind::kOr;
      std::string out;
      for (size_t i = 0; i < e.children.size(); ++i) {
        absl::StrAppend(&out, i ? (is_or ? " or " : " and ") : "",
                        // Same-kind children were flattened by the parser
                        // only when unparenthesized; keep grouping exact.
                        Sub(*e.children[i], Strength(e)));
      }
      return out;
    }
    case ast::Expr::Kind::kNot:
      return "not " + Sub(*e.children[0], 1);
    case ast::Expr::Kind::kHas:
      return "has " + e.lhs.name.text;
    case ast::Expr::Kind::kTruthy:
      return Operand(e.lhs);
    case ast::Expr::Kind::kCompare:
      return absl::StrCat(Operand(e.lhs), " ", OpText(e.op), " ",
                          Operand(e.rhs));
    case ast::Expr::Kind::kIn:
    case ast::Expr::Kind::kNotIn: {
      std::string set;
      if (e.set_table.has_value()) {
        set = e.set_table->text;
      } else {
        set = "[";
        for (size_t i = 0; i < e.set_items.size(); ++i) {
          absl::StrAppend(&set, i ? ", " : "", Lit(e.set_items[i]));
        }
        set += "]";
      }
      return absl::StrCat(Operand(e.lhs),
                          e.kind == ast::Expr::Kind::kIn ? " in " : " not in ",
                          set);
    }
    case ast::Expr::Kind::kBetween:
      return absl::StrCat(Operand(e.lhs), " between ", Operand(e.rhs), " and ",
                          Operand(*e.rhs2));
    case ast::Expr::Kind::kWithin:
      return absl::StrCat(Operand(e.lhs), " within ", e.duration_text);
  }
  return "";
}

std::string Target(const ast::Target& t) {
  switch (t.kind) {
    case ast::Target::Kind::kRep:
      return "rep " + t.name.text;
    case ast::Target::Kind::kTeam: {
      std::string out = "team " + t.name.text;
      for (size_t i = 0; i < t.where.size(); ++i) {
        const ast::MemberTest& m = t.where[i];
        absl::StrAppend(&out, i ? " and " : " where ", m.property.text, " ",
                        OpText(m.op), " ", Operand(m.value));
      }
      return out;
    }
    case ast::Target::Kind::kQueue:
      return "queue " + t.name.text;
    case ast::Target::Kind::kCall:
      return Operand(t.call);
    case ast::Target::Kind::kString:
      return Quote(t.text);
    case ast::Target::Kind::kPoints:
      return absl::StrCat(t.number >= 0 ? "+" : "", t.number);
    default:
      return t.text;  // names, durations and numbers as written
  }
}

class Printer {
 public:
  Printer(const SourceSet& sources, int file)
      : sources_(sources),
        file_(file),
        text_(sources.file(file).text()),
        comments_(ScanComments(text_)) {}

  std::string Print(const ast::File& f) {
    for (const ast::Declaration& d : f.declarations) {
      std::visit([&](const auto& decl) { Decl(decl); }, d);
    }
    FlushBefore(static_cast<uint32_t>(text_.size()) + 1, 0);
    return out_;
  }

 private:
  // ---- lines, comments and blank lines -----------------------------------

  // Starts the line for an item beginning at source offset `begin`:
  // comments before it first, and one blank line if the source had one.
  void Open(uint32_t begin, int indent) {
    FlushBefore(begin, indent);
    if (BlankLineBefore(begin) && !out_.empty() && !JustOpenedBlock()) {
      out_ += "\n";
    }
    out_ += std::string(2 * indent, ' ');
  }

  // Ends the item's line, keeping a trailing comment from its last line.
  void Close(uint32_t end) {
    const int line = sources_.file(file_).Position(end == 0 ? 0 : end - 1).line;
    for (Comment& c : comments_) {
      if (!c.emitted && !c.own_line && c.offset >= end &&
          sources_.file(file_).Position(c.offset).line == line) {
        absl::StrAppend(&out_, "  ", c.text);
        c.emitted = true;
      }
    }
    out_ += "\n";
  }

  void FlushBefore(uint32_t offset, int indent) {
    for (Comment& c : comments_) {
      if (c.emitted || c.offset >= offset) continue;
      if (BlankLineBefore(c.offset) && !out_.empty() && !JustOpenedBlock() &&
          !EndsWithBlankLine()) {
        out_ += "\n";
      }
      absl::StrAppend(&out_, std::string(2 * indent, ' '), c.text, "\n");
      c.emitted = true;
    }
  }

  // Whether the source has an empty line between the previous code or
  // comment and `offset`.
  bool BlankLineBefore(uint32_t offset) const {
    size_t i = offset;
    while (i > 0 && (text_[i - 1] == ' ' || text_[i - 1] == '\t')) --i;
    int newlines = 0;
    while (i > 0 && (text_[i - 1] == '\n' || text_[i - 1] == '\r' ||
                     text_[i - 1] == ' ' || text_[i - 1] == '\t')) {
      if (text_[i - 1] == '\n') ++newlines;
      --i;
    }
    return i > 0 && newlines >= 2;
  }
  bool JustOpenedBlock() const {
    return out_.size() >= 2 && out_[out_.size() - 2] == '{';
  }
  bool EndsWithBlankLine() const {
    return out_.size() >= 2 && out_.substr(out_.size() - 2) == "\n\n";
  }

  // `head {`, items, `}`, with the comments inside the block kept inside.
  template <typename F>
  void Block(const Span& span, const std::string& head, int indent, F&& body) {
    Open(span.begin, indent);
    absl::StrAppend(&out_, head, " {");
    // A trailing comment on a block written on one line belongs to its
    // closing line.
    const SourceFile& file = sources_.file(file_);
    if (file.Position(span.begin).line == file.Position(span.end - 1).line) {
      out_ += "\n";
    } else {
      Close(span.begin + 1);
    }
    body();
    FlushBefore(span.end, indent + 1);
    out_ += std::string(2 * indent, ' ') + "}";
    Close(span.end);
  }

  // One item. Comments written inside its span (say, between the lines
  // of a long condition) cannot stay there: they go above it.
  void Line(const Span& span, const std::string& text, int indent) {
    FlushBefore(span.begin, indent);
    Open(span.begin, indent);
    std::string inside;
    for (Comment& c : comments_) {
      if (!c.emitted && c.offset > span.begin && c.offset < span.end) {
        absl::StrAppend(&inside, c.text, "\n", std::string(2 * indent, ' '));
        c.emitted = true;
      }
    }
    absl::StrAppend(&out_, inside, text);
    Close(span.end);
  }

  // ---- declarations ------------------------------------------------------

  void Decl(const ast::RulesetHeader& h) {
    const std::string head =
        absl::StrCat("ruleset ", Lit(h.name), " version ", Lit(h.version));
    if (h.properties.empty()) {
      Line(h.span, head, 0);
      return;
    }
    Block(h.span, head, 0, [&] {
      for (const ast::Property& p : h.properties) Property(p, 1);
    });
  }
  void Decl(const ast::Include& i) {
    Line(i.span, "include " + Lit(i.path), 0);
  }
  void Decl(const ast::Schema& s) {
    Block(s.span, "schema", 0, [&] {
      for (const ast::AttrDecl& a : s.attributes) {
        std::string line =
            absl::StrCat(a.name.text, ": ", TypeText(a.type, a.enum_values));
        if (a.required) line += " required";
        if (a.pii) line += " pii";
        if (a.default_value)
          absl::StrAppend(&line, " default ", Lit(*a.default_value));
        if (a.on_unknown)
          absl::StrAppend(&line, " on unknown ", a.on_unknown->text);
        Line(a.span, line, 1);
      }
    });
  }
  void Decl(const ast::Entity& e) {
    const char* kind = e.kind == ast::Entity::Kind::kRep    ? "rep"
                       : e.kind == ast::Entity::Kind::kTeam ? "team"
                                                            : "queue";
    if (e.kind == ast::Entity::Kind::kQueue) {
      Line(e.span, absl::StrCat(kind, " ", e.name.text), 0);
      return;
    }
    if (e.properties.empty()) {
      Line(e.span, absl::StrCat(kind, " ", e.name.text, " {}"), 0);
      return;
    }
    Block(e.span, absl::StrCat(kind, " ", e.name.text), 0, [&] {
      for (const ast::Property& p : e.properties) Property(p, 1);
    });
  }
  void Property(const ast::Property& p, int indent) {
    std::string value =
        std::holds_alternative<ast::Literal>(p.value)
            ? Lit(std::get<ast::Literal>(p.value))
            : Hours(std::get<std::vector<ast::HoursSpan>>(p.value));
    Line(p.span, absl::StrCat(p.name.text, " = ", value), indent);
  }
  void Decl(const ast::Table& t) {
    std::string head =
        absl::StrCat("table ", t.name.text, ": ", ast::TypeName(t.key_type),
                     " -> ", ast::TypeName(t.value_type));
    if (t.ignore_case.has_value()) {
      absl::StrAppend(&head,
                      *t.ignore_case ? " ignoring case" : " matching case");
    }
    if (t.csv.has_value()) {
      Line(t.span,
           absl::StrCat(head, " from csv ", Lit(t.csv->path), " key ",
                        Lit(t.csv->key_column), " value ",
                        Lit(t.csv->value_column)),
           0);
      return;
    }
    if (t.entries.empty()) {
      Line(t.span, head + " {}", 0);
      return;
    }
    Block(t.span, head, 0, [&] {
      for (const ast::TableEntry& e : t.entries) {
        Line(e.span, absl::StrCat(Lit(e.key), ": ", Lit(e.value)), 1);
      }
    });
  }
  void Decl(const ast::Escalation& e) {
    Block(e.span, absl::StrCat("escalation ", e.name.text), 0, [&] {
      // Steps and properties, in the order written.
      size_t step = 0, prop = 0;
      while (step < e.steps.size() || prop < e.properties.size()) {
        if (prop == e.properties.size() ||
            (step < e.steps.size() &&
             e.steps[step].span.begin < e.properties[prop].span.begin)) {
          Step(e.steps[step++]);
        } else {
          Property(e.properties[prop++], 1);
        }
      }
    });
  }
  void Step(const ast::EscalationStep& s) {
    std::string line = absl::StrCat("at ", s.percent, "% ");
    if (!s.reassign) {
      absl::StrAppend(&line, "notify", s.notify_whom ? " " : "",
                      s.notify_whom ? s.notify_whom->text : "");
    } else {
      absl::StrAppend(&line, "reassign to ");
      for (size_t i = 0; i < s.to.size(); ++i) {
        absl::StrAppend(&line, i ? " else " : "", Target(s.to[i]));
      }
    }
    Line(s.span, line, 1);
  }
  void Decl(const ast::Stage& s) {
    Block(s.span, std::string(ast::StageName(s.kind)), 0, [&] {
      // Labels and stage-wide allows come before the first rule; they are
      // printed in the order written, then the rules.
      std::vector<std::pair<Span, std::string>> head;
      if (!s.labels.empty()) {
        std::string line = "labels ";
        for (size_t i = 0; i < s.labels.size(); ++i) {
          absl::StrAppend(&line, i ? " > " : "", s.labels[i].text);
        }
        head.push_back({s.labels_span, line});
      }
      for (const ast::Allow& a : s.allows) head.push_back({a.span, Allow(a)});
      std::stable_sort(head.begin(), head.end(),
                       [](const auto& a, const auto& b) {
                         return a.first.begin < b.first.begin;
                       });
      for (const auto& [span, line] : head) Line(span, line, 1);
      for (const ast::Rule& r : s.rules) Rule(r);
    });
  }
  std::string Allow(const ast::Allow& a) {
    std::string line = "allow ";
    for (size_t i = 0; i < a.codes.size(); ++i) {
      absl::StrAppend(&line, i ? ", " : "", a.codes[i].text);
    }
    return absl::StrCat(line, " ", Lit(a.reason));
  }
  void Rule(const ast::Rule& r) {
    std::string outcome;
    for (size_t i = 0; i < r.outcome.size(); ++i) {
      absl::StrAppend(&outcome, i ? " else " : "", Target(r.outcome[i]));
    }
    const std::string sticky = r.sticky ? " " + r.sticky->text : "";
    outcome += sticky;
    std::string line;
    if (r.is_otherwise) {
      line = "otherwise " + outcome;
    } else {
      line = absl::StrCat("rule ", r.name.text, " when ", Expr(*r.when),
                          " then ", outcome);
      if (line.size() + 2 > kFormatWidth) {
        // Still too long: each fallback on a line of its own.
        if (outcome.size() + 9 > kFormatWidth) {
          outcome.clear();
          for (size_t i = 0; i < r.outcome.size(); ++i) {
            absl::StrAppend(&outcome, i ? "\n    else " : "",
                            Target(r.outcome[i]));
          }
          outcome += sticky;
        }
        line = absl::StrCat("rule ", r.name.text, " when ", Expr(*r.when),
                            "\n    then ", outcome);
      }
    }
    // An accepted finding reads as a note under the rule.
    if (r.allow) absl::StrAppend(&line, "\n    ", Allow(*r.allow));
    Line(r.span, line, 1);
  }
  void Decl(const ast::Test& t) {
    Block(t.span, "test " + Lit(t.name), 0, [&] {
      if (t.at.has_value()) {
        Line(t.at->span, "at " + Lit(*t.at), 1);
      }
      if (t.given.has_value() && t.given->empty()) {
        Line(t.given_span, "given { }", 1);
      } else if (t.given.has_value()) {
        Block(t.given_span, "given", 1, [&] {
          for (const ast::Given& g : *t.given) {
            Line(
                g.span,
                g.kind == ast::Given::Kind::kLast
                    ? absl::StrCat("team ", g.entity.text, " last ",
                                   g.value.text)
                : g.kind == ast::Given::Kind::kOpen
                    ? absl::StrCat("rep ", g.entity.text, " open ", g.open.text)
                    : absl::StrCat("rep ", g.entity.text, " ", g.value.text),
                2);
          }
        });
      }
      if (!t.lead.empty() || t.lead_span.file >= 0) {
        Block(t.lead_span, "lead", 1, [&] {
          for (const ast::Property& p : t.lead) Property(p, 2);
        });
      }
      if (!t.expect.empty()) {
        const Span span{file_, t.expect.front().span.begin,
                        t.expect.back().span.end};
        Open(span.begin, 1);
        out_ += "expect {\n";
        for (const ast::Expectation& e : t.expect) {
          Line(e.span, absl::StrCat(e.output.text, " = ", Target(e.value)), 2);
        }
        out_ += "  }\n";
      }
    });
  }

  const SourceSet& sources_;
  int file_;
  const std::string& text_;
  std::vector<Comment> comments_;
  std::string out_;
};

}  // namespace

std::optional<std::string> Format(const SourceSet& sources, int file_id,
                                  Diagnostics* diagnostics) {
  Diagnostics parse_errors;
  ast::File file = Parse(sources, file_id, &parse_errors);
  if (parse_errors.has_errors()) {
    for (const Diagnostic& d : parse_errors.all()) {
      diagnostics->Error(d.span, d.message).hint = d.hint;
    }
    return std::nullopt;
  }
  return Printer(sources, file_id).Print(file);
}

}  // namespace leadroute::compiler
