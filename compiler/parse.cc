// The parse pass: runs grammar/ into a PEGTL parse tree (which keeps
// backtracking exact: nodes of failed alternatives are dropped), records
// every `must` failure as a diagnostic, then turns the tree into the AST.
#include "compiler/parse.h"

#include <tao/pegtl/contrib/parse_tree.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grammar/route_errors.h"
#include "grammar/route_grammar.h"

namespace leadroute::compiler {
namespace {

namespace g = ::leadroute::grammar;
namespace pegtl = ::tao::pegtl;
using Node = pegtl::parse_tree::node;

class Builder;

struct ParseState {
  Diagnostics* diagnostics;
  int file;
  int depth = 0;
  Builder* builder = nullptr;
};

// Debian's Abseil has its own string_view, not std::string_view.
absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

Span SpanAt(const ParseState& st, size_t begin, size_t end) {
  return {st.file, static_cast<uint32_t>(begin), static_cast<uint32_t>(end)};
}

// Records each raised error, and bounds the rule nesting depth. A rule that
// fails only raises where the grammar says `must`; a failure elsewhere is
// ordinary backtracking.
template <typename Rule>
struct Control : pegtl::normal<Rule> {
  template <typename ParseInput>
  static void start(const ParseInput& in, ParseState& st) {
    if (st.depth >= kMaxParseDepth) {
      st.diagnostics->Error(
          SpanAt(st, in.byte(), in.byte() + 1),
          absl::StrCat("nesting is too deep (more than ", kMaxParseDepth,
                       " grammar levels): simplify the condition"));
      throw pegtl::parse_error("nesting too deep", in);
    }
    ++st.depth;
  }
  template <typename ParseInput>
  static void success(const ParseInput&, ParseState& st) {
    --st.depth;
  }
  template <typename ParseInput>
  static void unwind(const ParseInput&, ParseState& st) {
    --st.depth;
  }
  template <typename ParseInput>
  static void failure(const ParseInput&, ParseState& st) {
    --st.depth;
  }
  template <typename ParseInput>
  [[noreturn]] static void raise(const ParseInput& in, ParseState& st) {
    // if_must also wraps rules that cannot fail (ws, star<...>), so a
    // missing message is not a compile error; it never shows in practice.
    const char* message = g::error_message<Rule> != nullptr
                              ? g::error_message<Rule>
                              : "unexpected input";
    const size_t at = in.byte();
    // Mark one character, or the end of the input.
    const size_t end = in.empty() ? at : at + 1;
    st.diagnostics->Error(SpanAt(st, at, end), message);
    throw pegtl::parse_error(message, in);
  }
};

// ---- parse tree -> AST ----------------------------------------------------

class Builder {
 public:
  Builder(int file, Diagnostics* diagnostics)
      : file_(file), diagnostics_(diagnostics) {}

  ast::File Build(const Node& root) {
    ast::File out;
    out.source = file_;
    for (const auto& child : root.children) {
      if (child->is_type<g::ruleset_decl>()) {
        out.declarations.emplace_back(Header(*child));
      } else if (child->is_type<g::include_decl>()) {
        out.declarations.emplace_back(
            ast::Include{Lit(*child->children[0]), SpanOf(*child)});
      } else if (child->is_type<g::schema_decl>()) {
        out.declarations.emplace_back(SchemaOf(*child));
      } else if (child->is_type<g::rep_decl>() ||
                 child->is_type<g::team_decl>() ||
                 child->is_type<g::queue_decl>()) {
        out.declarations.emplace_back(EntityOf(*child));
      } else if (child->is_type<g::table_decl>()) {
        out.declarations.emplace_back(TableOf(*child));
      } else if (child->is_type<g::escalation_decl>()) {
        out.declarations.emplace_back(EscalationOf(*child));
      } else if (child->is_type<g::stage_decl>()) {
        out.declarations.emplace_back(StageOf(*child));
      } else if (child->is_type<g::test_decl>()) {
        out.declarations.emplace_back(TestOf(*child));
      }
    }
    return out;
  }

  // Builds a stage rule's AST now, for StageOf to take later.
  void Fold(const Node& n) { folded_[n.begin().byte] = RuleOf(n); }

 private:
  Span SpanOf(const Node& n) const {
    return {file_, static_cast<uint32_t>(n.begin().byte),
            static_cast<uint32_t>(n.end().byte)};
  }
  ast::Name NameOf(const Node& n) const {
    return {std::string(n.string_view()), SpanOf(n)};
  }
  static const Node* Child(const Node& n, size_t i) {
    return i < n.children.size() ? n.children[i].get() : nullptr;
  }

  ast::RulesetHeader Header(const Node& n) {
    ast::RulesetHeader h;
    h.name = Lit(*n.children[0]);
    h.version = Lit(*n.children[1]);
    for (size_t i = 2; i < n.children.size(); ++i) {
      h.properties.push_back(PropertyOf(*n.children[i]));
    }
    h.span = SpanOf(n);
    return h;
  }

  // Decodes a string literal's escapes; the grammar has checked its shape.
  std::string DecodeString(std::string_view quoted) {
    std::string out;
    for (size_t i = 1; i + 1 < quoted.size(); ++i) {
      char c = quoted[i];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      char e = quoted[++i];
      switch (e) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'u': {
          uint32_t cp = 0;
          for (int k = 0; k < 4; ++k) {
            char h = quoted[++i];
            cp = cp * 16 + (absl::ascii_isdigit(h)
                                ? h - '0'
                                : (absl::ascii_tolower(h) - 'a' + 10));
          }
          AppendUtf8(cp, &out);
          break;
        }
        default:
          out.push_back(e);  // \" and \\ .
      }
    }
    return out;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  absl::Duration DurationOf(const Node& n) {
    absl::Duration total;
    int64_t amount = 0;
    for (char c : n.string_view()) {
      if (absl::ascii_isdigit(c)) {
        if (amount > (int64_t{1} << 40)) {
          diagnostics_->Error(SpanOf(n), "duration is too large");
          return absl::ZeroDuration();
        }
        amount = amount * 10 + (c - '0');
        continue;
      }
      switch (c) {
        case 'd':
          total += absl::Hours(24) * amount;
          break;
        case 'h':
          total += absl::Hours(amount);
          break;
        case 'm':
          total += absl::Minutes(amount);
          break;
        case 's':
          total += absl::Seconds(amount);
          break;
      }
      amount = 0;
    }
    return total;
  }

  // A literal from any node whose text is a literal: value, entry_key,
  // default_value, rhs-less string nodes, ...
  ast::Literal Lit(const Node& n) {
    const Node* inner = &n;
    // Wrapper nodes (value, default_value, entry_key, ...) hold the literal
    // as their only child; a bare name has no child.
    while (!inner->is_type<g::string_lit>() &&
           !inner->is_type<g::duration_lit>() &&
           !inner->is_type<g::number_lit>() && !inner->is_type<g::bool_lit>() &&
           !inner->is_type<g::list_lit>() && inner->children.size() == 1) {
      inner = inner->children[0].get();
    }
    ast::Literal lit;
    lit.span = SpanOf(*inner);
    const std::string_view text = inner->string_view();
    // Rules derived from string_lit (ruleset_name, csv_path, ...) are
    // nodes of their own type: recognise them by the opening quote.
    if (inner->is_type<g::string_lit>() ||
        (inner->children.empty() && !text.empty() && text[0] == '"')) {
      lit.kind = ast::Literal::Kind::kString;
      lit.text = DecodeString(text);
    } else if (inner->is_type<g::duration_lit>()) {
      lit.kind = ast::Literal::Kind::kDuration;
      lit.text = std::string(text);
      lit.duration = DurationOf(*inner);
    } else if (inner->is_type<g::number_lit>()) {
      lit.text = std::string(text);
      if (text.find('.') == std::string_view::npos) {
        lit.kind = ast::Literal::Kind::kInt;
        if (!absl::SimpleAtoi(AsAbsl(text), &lit.int_value)) {
          diagnostics_->Error(lit.span, "integer is out of range");
        }
        lit.number_value = static_cast<double>(lit.int_value);
      } else {
        lit.kind = ast::Literal::Kind::kNumber;
        (void)absl::SimpleAtod(AsAbsl(text), &lit.number_value);
      }
    } else if (inner->is_type<g::bool_lit>()) {
      lit.kind = ast::Literal::Kind::kBool;
      lit.bool_value = text == "true";
      lit.text = std::string(text);
    } else if (inner->is_type<g::list_lit>()) {
      lit.kind = ast::Literal::Kind::kList;
      for (const auto& item : inner->children) lit.items.push_back(Lit(*item));
    } else {
      lit.kind = ast::Literal::Kind::kName;
      lit.text = std::string(text);
    }
    return lit;
  }

  static ast::Type TypeOf(std::string_view t) {
    if (t == "int") return ast::Type::kInt;
    if (t == "number") return ast::Type::kNumber;
    if (t == "bool") return ast::Type::kBool;
    if (t == "time") return ast::Type::kTime;
    if (t == "list") return ast::Type::kList;
    if (t == "rep") return ast::Type::kRep;
    if (t == "team") return ast::Type::kTeam;
    return ast::Type::kString;
  }

  ast::Schema SchemaOf(const Node& n) {
    ast::Schema schema;
    schema.span = SpanOf(n);
    for (const auto& a : n.children) {
      ast::AttrDecl attr;
      attr.span = SpanOf(*a);
      for (const auto& part : a->children) {
        if (part->is_type<g::attr_name>()) {
          attr.name = NameOf(*part);
        } else if (part->is_type<g::enum_type>()) {
          attr.type = ast::Type::kEnum;
          attr.type_span = SpanOf(*part);
          for (const auto& v : part->children) {
            attr.enum_values.push_back(NameOf(*v));
          }
        } else if (part->is_type<g::type_name>()) {
          attr.type = TypeOf(part->string_view());
          attr.type_span = SpanOf(*part);
        } else if (part->is_type<g::required_mod>()) {
          attr.required = true;
          attr.required_span = SpanOf(*part);
        } else if (part->is_type<g::pii_mod>()) {
          attr.pii = true;
        } else if (part->is_type<g::default_value>()) {
          attr.default_value = Lit(*part);
        } else if (part->is_type<g::unknown_value>()) {
          attr.on_unknown = NameOf(*part);
        }
      }
      schema.attributes.push_back(std::move(attr));
    }
    return schema;
  }

  static int DayOf(std::string_view d) {
    static constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu",
                                                 "fri", "sat", "sun"};
    for (int i = 0; i < 7; ++i) {
      if (kDays[i] == d) return i;
    }
    return 0;
  }
  // Minutes from midnight of "hh:mm", or -1 when it is no time of day
  // (24:00 is allowed: it ends a day).
  static int MinuteOf(std::string_view hhmm) {
    const int h = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
    const int m = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
    if (m >= 60 || h > 24 || (h == 24 && m > 0)) return -1;
    return h * 60 + m;
  }

  ast::Property PropertyOf(const Node& n) {
    ast::Property p;
    p.span = SpanOf(n);
    p.name = NameOf(*n.children[0]);
    const Node& value = *n.children[1];  // prop_value
    p.value_span = SpanOf(value);
    if (const Node* hours = Child(value, 0);
        hours != nullptr && hours->is_type<g::hours_spec>()) {
      std::vector<ast::HoursSpan> spans;
      for (const auto& s : hours->children) {
        ast::HoursSpan h;
        h.span = SpanOf(*s);
        std::vector<const Node*> days, clocks;
        for (const auto& part : s->children) {
          (part->is_type<g::day>() ? days : clocks).push_back(part.get());
        }
        h.first_day = DayOf(days[0]->string_view());
        h.last_day =
            days.size() > 1 ? DayOf(days[1]->string_view()) : h.first_day;
        h.start_minute = MinuteOf(clocks[0]->string_view());
        h.end_minute = MinuteOf(clocks[1]->string_view());
        h.start_text = std::string(clocks[0]->string_view());
        h.end_text = std::string(clocks[1]->string_view());
        spans.push_back(h);
      }
      p.value = std::move(spans);
    } else {
      p.value = Lit(value);
    }
    return p;
  }

  ast::Entity EntityOf(const Node& n) {
    ast::Entity e;
    e.span = SpanOf(n);
    e.kind = n.is_type<g::rep_decl>()    ? ast::Entity::Kind::kRep
             : n.is_type<g::team_decl>() ? ast::Entity::Kind::kTeam
                                         : ast::Entity::Kind::kQueue;
    e.name = NameOf(*n.children[0]);
    for (size_t i = 1; i < n.children.size(); ++i) {
      e.properties.push_back(PropertyOf(*n.children[i]));
    }
    return e;
  }

  ast::Table TableOf(const Node& n) {
    ast::Table t;
    t.span = SpanOf(n);
    for (const auto& part : n.children) {
      if (part->is_type<g::table_name>()) {
        t.name = NameOf(*part);
      } else if (part->is_type<g::key_type>()) {
        t.key_type = TypeOf(part->string_view());
        t.key_type_span = SpanOf(*part);
      } else if (part->is_type<g::value_type>()) {
        t.value_type = TypeOf(part->string_view());
        t.value_type_span = SpanOf(*part);
      } else if (part->is_type<g::table_entry>()) {
        t.entries.push_back(
            {Lit(*part->children[0]), Lit(*part->children[1]), SpanOf(*part)});
      } else if (part->is_type<g::case_ignoring>() ||
                 part->is_type<g::case_matching>()) {
        t.ignore_case = part->is_type<g::case_ignoring>();
        t.case_span = SpanOf(*part);
      } else if (part->is_type<g::table_csv>()) {
        t.csv = ast::CsvSource{Lit(*part->children[0]), Lit(*part->children[1]),
                               Lit(*part->children[2]), SpanOf(*part)};
      }
    }
    return t;
  }

  ast::Operand OperandOf(const Node& n) {
    // n is an operand, or an rhs (which derives from operand, so it holds
    // the operand's one child itself).
    ast::Operand out;
    out.span = SpanOf(n);
    const Node& inner = *n.children[0];
    if (inner.is_type<g::call>()) {
      return CallOf(inner);
    } else if (inner.is_type<g::attr_ref>()) {
      out.kind = ast::Operand::Kind::kAttribute;
      out.name = NameOf(inner);
    } else {
      out.kind = ast::Operand::Kind::kLiteral;
      out.literal = Lit(inner);
    }
    return out;
  }

  ast::Operand CallOf(const Node& call) {
    ast::Operand out;
    out.kind = ast::Operand::Kind::kCall;
    out.span = SpanOf(call);
    // The function's name is the text before `(`.
    const std::string_view text = call.string_view();
    const uint32_t paren = static_cast<uint32_t>(text.find('('));
    out.name = {std::string(text.substr(0, paren)),
                {file_, out.span.begin, out.span.begin + paren}};
    for (const auto& arg : call.children) out.args.push_back(OperandOf(*arg));
    return out;
  }

  static ast::CompareOp OpOf(const Node& n) {
    if (n.is_type<g::op_ne>()) return ast::CompareOp::kNe;
    if (n.is_type<g::op_lt>()) return ast::CompareOp::kLt;
    if (n.is_type<g::op_le>()) return ast::CompareOp::kLe;
    if (n.is_type<g::op_gt>()) return ast::CompareOp::kGt;
    if (n.is_type<g::op_ge>()) return ast::CompareOp::kGe;
    if (n.is_type<g::op_starts_with>()) return ast::CompareOp::kStartsWith;
    if (n.is_type<g::op_ends_with>()) return ast::CompareOp::kEndsWith;
    if (n.is_type<g::op_contains>()) return ast::CompareOp::kContains;
    return ast::CompareOp::kEq;
  }

  std::unique_ptr<ast::Expr> ExprOf(const Node& n) {
    auto e = std::make_unique<ast::Expr>();
    e->span = SpanOf(n);
    // expr and condition_expr derive from or_expr: all three are or-lists.
    const bool is_or = n.is_type<g::or_expr>() || n.is_type<g::expr>() ||
                       n.is_type<g::condition_expr>();
    if (is_or || n.is_type<g::and_expr>()) {
      if (n.children.size() == 1) return ExprOf(*n.children[0]);
      e->kind = is_or ? ast::Expr::Kind::kOr : ast::Expr::Kind::kAnd;
      for (const auto& c : n.children) e->children.push_back(ExprOf(*c));
    } else if (n.is_type<g::negation>()) {
      e->kind = ast::Expr::Kind::kNot;
      e->children.push_back(ExprOf(*n.children[0]));
    } else if (n.is_type<g::has_test>()) {
      e->kind = ast::Expr::Kind::kHas;
      e->lhs.kind = ast::Operand::Kind::kAttribute;
      e->lhs.name = NameOf(*n.children[0]);
      e->lhs.span = e->lhs.name.span;
    } else if (n.is_type<g::comparison>()) {
      e->lhs = OperandOf(*n.children[0]);
      const Node* test = Child(n, 1);
      if (test == nullptr) {
        e->kind = ast::Expr::Kind::kTruthy;
      } else if (test->is_type<g::binary_test>()) {
        e->kind = ast::Expr::Kind::kCompare;
        e->op = OpOf(*test->children[0]);
        e->op_span = SpanOf(*test->children[0]);
        e->rhs = OperandOf(*test->children[1]);
      } else if (test->is_type<g::in_test>()) {
        e->kind = test->children[0]->is_type<g::op_not_in>()
                      ? ast::Expr::Kind::kNotIn
                      : ast::Expr::Kind::kIn;
        e->op_span = SpanOf(*test->children[0]);
        const Node& set = *test->children[1];
        if (set.is_type<g::set_ref>()) {
          e->set_table = NameOf(set);
        } else {
          for (const auto& item : set.children)
            e->set_items.push_back(Lit(*item));
        }
      } else if (test->is_type<g::between_test>()) {
        e->kind = ast::Expr::Kind::kBetween;
        e->rhs = OperandOf(*test->children[0]);
        e->rhs2 = std::make_unique<ast::Operand>(OperandOf(*test->children[1]));
      } else if (test->is_type<g::within_test>()) {
        e->kind = ast::Expr::Kind::kWithin;
        e->duration = DurationOf(*test->children[0]);
        e->duration_text = std::string(test->children[0]->string_view());
        e->op_span = SpanOf(*test->children[0]);
      }
    }
    return e;
  }

  ast::Target TargetOf(const Node& n) {
    // n is target (or fallback wrapping a target).
    const Node* t = n.is_type<g::fallback>() ? n.children[0].get() : &n;
    ast::Target out;
    out.span = SpanOf(*t);
    out.text = std::string(t->string_view());
    const Node* inner = Child(*t, 0);
    if (inner == nullptr) {
      out.kind = ast::Target::Kind::kName;
      out.name = NameOf(*t);
    } else if (inner->is_type<g::target_rep>() ||
               inner->is_type<g::target_team>() ||
               inner->is_type<g::target_queue>()) {
      out.kind = inner->is_type<g::target_rep>()    ? ast::Target::Kind::kRep
                 : inner->is_type<g::target_team>() ? ast::Target::Kind::kTeam
                                                    : ast::Target::Kind::kQueue;
      out.name = NameOf(*inner->children[0]);
      for (size_t i = 1; i < inner->children.size(); ++i) {
        out.where.push_back(MemberTestOf(*inner->children[i]));
      }
    } else if (inner->is_type<g::score_delta>()) {
      out.kind = ast::Target::Kind::kPoints;
      if (!absl::SimpleAtoi(AsAbsl(inner->string_view()), &out.number)) {
        diagnostics_->Error(out.span, "points are out of range");
      }
    } else if (inner->is_type<g::duration_lit>()) {
      out.kind = ast::Target::Kind::kDuration;
      out.duration = DurationOf(*inner);
    } else if (inner->is_type<g::number_lit>()) {
      out.kind = ast::Target::Kind::kNumber;
      if (!absl::SimpleAtoi(AsAbsl(inner->string_view()), &out.number)) {
        diagnostics_->Error(out.span, "expected a whole number");
      }
    } else if (inner->is_type<g::call>()) {
      out.kind = ast::Target::Kind::kCall;
      out.call = CallOf(*inner);
      out.name = out.call.name;
    } else if (inner->is_type<g::string_lit>()) {
      out.kind = ast::Target::Kind::kString;
      out.text = DecodeString(inner->string_view());
    }
    return out;
  }

  ast::MemberTest MemberTestOf(const Node& n) {
    // n is a member_test: member_property, the operator, member_value.
    ast::MemberTest t;
    t.span = SpanOf(n);
    t.property = NameOf(*n.children[0]);
    t.op = OpOf(*n.children[1]);
    t.op_span = SpanOf(*n.children[1]);
    const Node& value = *n.children[2];
    t.value.span = SpanOf(value);
    if (const Node* text = Child(value, 0); text != nullptr) {
      t.value.kind = ast::Operand::Kind::kLiteral;
      t.value.literal = Lit(*text);
    } else {
      t.value.kind = ast::Operand::Kind::kAttribute;
      t.value.name = NameOf(value);
    }
    return t;
  }

  ast::Rule RuleOf(const Node& n) {
    ast::Rule r;
    r.span = SpanOf(n);
    size_t i = 0;
    if (n.is_type<g::otherwise_decl>()) {
      r.is_otherwise = true;
      r.name = {"otherwise", {file_, r.span.begin, r.span.begin + 9}};
    } else {
      r.name = NameOf(*n.children[i++]);
      r.when = ExprOf(*n.children[i++]);
    }
    for (; i < n.children.size(); ++i) {
      const Node& c = *n.children[i];
      if (c.is_type<g::allow_clause>()) {
        r.allow = AllowOf(c);
        continue;
      }
      if (!c.is_type<g::sticky_clause>()) {
        r.outcome.push_back(TargetOf(c));
        continue;
      }
      ast::Sticky& sticky = r.sticky.emplace();
      sticky.span = SpanOf(c);
      const Node& window = *c.children[0];
      sticky.off = window.children.empty() ||
                   !window.children[0]->is_type<g::duration_lit>();
      if (!sticky.off) sticky.window = DurationOf(*window.children[0]);
      sticky.anywhere = c.children.size() > 1;
      // Rebuilt from its parts: a comment inside the clause is not kept.
      sticky.text = absl::StrCat("sticky ", std::string(window.string_view()),
                                 sticky.anywhere ? " anywhere" : "");
    }
    return r;
  }

  ast::Allow AllowOf(const Node& n) {
    // n is allow_clause: allow_codes' allow_code nodes, then allow_reason.
    ast::Allow a;
    a.span = SpanOf(n);
    for (const auto& c : n.children) {
      if (c->is_type<g::allow_code>()) {
        a.codes.push_back(NameOf(*c));
      } else {
        a.reason = Lit(*c);
      }
    }
    return a;
  }

  ast::Stage StageOf(const Node& n) {
    ast::Stage s;
    s.span = SpanOf(n);
    const Node& kind = *n.children[0];
    s.kind_span = SpanOf(kind);
    const std::string_view k = kind.string_view();
    s.kind = k == "score"      ? ast::StageKind::kScore
             : k == "priority" ? ast::StageKind::kPriority
             : k == "sla"      ? ast::StageKind::kSla
             : k == "channel"  ? ast::StageKind::kChannel
             : k == "escalate" ? ast::StageKind::kEscalate
                               : ast::StageKind::kAssign;
    for (size_t i = 1; i < n.children.size(); ++i) {
      const Node& item = *n.children[i];
      if (item.is_type<g::labels_decl>()) {
        s.labels_span = SpanOf(item);
        for (const auto& l : item.children) s.labels.push_back(NameOf(*l));
      } else if (item.is_type<g::allow_clause>()) {
        s.allows.push_back(AllowOf(item));
      } else if (auto it = folded_.find(item.begin().byte);
                 it != folded_.end()) {
        s.rules.push_back(std::move(it->second));
        folded_.erase(it);
      } else {
        s.rules.push_back(RuleOf(item));
      }
    }
    return s;
  }

  ast::Escalation EscalationOf(const Node& n) {
    // n is escalation_decl: entity_name, then steps and properties.
    ast::Escalation e;
    e.span = SpanOf(n);
    e.name = NameOf(*n.children[0]);
    for (size_t i = 1; i < n.children.size(); ++i) {
      const Node& item = *n.children[i];
      if (item.is_type<g::property>()) {
        e.properties.push_back(PropertyOf(item));
        continue;
      }
      // escalation_step: percent, then notify_step or reassign_step.
      ast::EscalationStep step;
      step.span = SpanOf(item);
      const Node& percent = *item.children[0];
      step.percent_span = SpanOf(percent);
      const std::string_view digits =
          percent.string_view().substr(0, percent.string_view().size() - 1);
      if (!absl::SimpleAtoi(AsAbsl(digits), &step.percent)) {
        step.percent = -1;  // out of range: check_entities says so
      }
      const Node& action = *item.children[1];
      if (action.is_type<g::reassign_step>()) {
        step.reassign = true;
        for (const auto& t : action.children) step.to.push_back(TargetOf(*t));
      } else if (const Node* whom = Child(action, 0); whom != nullptr) {
        step.notify_whom = NameOf(*whom);
      }
      e.steps.push_back(std::move(step));
    }
    return e;
  }

  // given_rep (entity_name, then given_open with a number_lit or a
  // given_status) or given_team (entity_name, given_last's entity_name).
  ast::Given GivenOf(const Node& n) {
    ast::Given g;
    g.span = SpanOf(n);
    g.entity = NameOf(*n.children[0]);
    const Node& what = *n.children[1];
    if (n.is_type<g::given_team>()) {
      g.kind = ast::Given::Kind::kLast;
      g.value = NameOf(*what.children[0]);
    } else if (what.is_type<g::given_open>()) {
      g.kind = ast::Given::Kind::kOpen;
      g.open = Lit(*what.children[0]);
    } else {
      g.kind = ast::Given::Kind::kStatus;
      g.value = NameOf(what);
    }
    return g;
  }

  ast::Test TestOf(const Node& n) {
    ast::Test t;
    t.span = SpanOf(n);
    t.name = Lit(*n.children[0]);
    for (size_t i = 1; i < n.children.size(); ++i) {
      const Node& part = *n.children[i];
      if (part.is_type<g::test_at>()) {
        t.at = Lit(*part.children[0]);
      } else if (part.is_type<g::test_given>()) {
        t.given_span = SpanOf(part);
        t.given.emplace();
        for (const auto& item : part.children)
          t.given->push_back(GivenOf(*item));
      } else if (part.is_type<g::test_lead>()) {
        t.lead_span = SpanOf(part);
        for (const auto& p : part.children) t.lead.push_back(PropertyOf(*p));
      } else if (part.is_type<g::test_expect>()) {
        for (const auto& e : part.children) {
          t.expect.push_back(
              {NameOf(*e->children[0]), TargetOf(*e->children[1]), SpanOf(*e)});
        }
      }
    }
    return t;
  }

  int file_;
  Diagnostics* diagnostics_;
  absl::flat_hash_map<size_t, ast::Rule> folded_;  // by first byte
};

// A stage rule becomes its AST as soon as it is parsed, and its parse-tree
// nodes are freed: a ruleset of 100k rules never holds 100k rules' worth of
// nodes (about 40 each). Keyed by position, so a rule parsed again after
// backtracking replaces its earlier self.
struct FoldRule : std::true_type {
  template <typename N>
  static void transform(std::unique_ptr<N>& n, ParseState& st) {
    st.builder->Fold(*n);
    n->children.clear();
    n->children.shrink_to_fit();
  }
};

// The rules kept as parse-tree nodes; everything else is folded away.
template <typename Rule>
using Selector = pegtl::parse_tree::selector<
    Rule, pegtl::parse_tree::apply<FoldRule>::on<g::rule_decl>,
    pegtl::parse_tree::store_content::on<
        g::ruleset_decl, g::ruleset_name, g::ruleset_version, g::include_decl,
        g::include_path, g::schema_decl, g::attr_decl, g::attr_name,
        g::enum_type, g::enum_value, g::type_name, g::required_mod, g::pii_mod,
        g::default_value, g::unknown_value, g::rep_decl, g::team_decl,
        g::queue_decl, g::entity_name, g::property, g::prop_name, g::prop_value,
        g::hours_spec, g::hours_span, g::day, g::clock, g::table_decl,
        g::table_name, g::case_ignoring, g::case_matching, g::key_type,
        g::value_type, g::table_entry, g::entry_key, g::entry_value,
        g::table_csv, g::csv_path, g::csv_key_column, g::csv_value_column,
        g::stage_decl, g::stage_kind, g::labels_decl, g::label, g::rule_name,
        g::otherwise_decl, g::or_expr, g::expr, g::condition_expr, g::and_expr,
        g::negation, g::has_test, g::comparison, g::in_test, g::op_in,
        g::op_not_in, g::set_ref, g::between_test, g::within_test,
        g::binary_test, g::op_eq, g::op_ne, g::op_lt, g::op_le, g::op_gt,
        g::op_ge, g::op_starts_with, g::op_ends_with, g::op_contains, g::rhs,
        g::operand, g::call, g::attr_ref, g::string_lit, g::duration_lit,
        g::number_lit, g::bool_lit, g::list_lit, g::value, g::target,
        g::target_rep, g::target_team, g::target_queue, g::member_test,
        g::member_property, g::member_value, g::score_delta, g::fallback,
        g::allow_clause, g::allow_code, g::allow_reason, g::sticky_clause,
        g::sticky_window, g::sticky_off, g::sticky_anywhere, g::escalation_decl,
        g::escalation_step, g::percent, g::notify_step, g::notify_whom,
        g::reassign_step, g::test_decl, g::test_name, g::test_at, g::test_lead,
        g::test_expect, g::expect_item, g::expect_name, g::test_given,
        g::given_rep, g::given_team, g::given_open, g::given_status,
        g::given_last>>;

}  // namespace

ast::File Parse(const SourceSet& sources, int file_id,
                Diagnostics* diagnostics) {
  const SourceFile& file = sources.file(file_id);
  pegtl::memory_input<pegtl::tracking_mode::eager> in(file.text(), file.path());
  Builder builder(file_id, diagnostics);
  ParseState state{diagnostics, file_id, 0, &builder};
  std::unique_ptr<Node> root;
  try {
    root = pegtl::parse_tree::parse<g::file, Selector, pegtl::nothing, Control>(
        in, state);
  } catch (const pegtl::parse_error&) {
    // Already recorded by Control::raise or Control::start.
  }
  if (root == nullptr) return ast::File{file_id, {}};
  return builder.Build(*root);
}

}  // namespace leadroute::compiler
