// The check_types pass; see passes.h. Names are resolved by now: anything
// unresolved was reported there and is skipped here.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "compiler/pass_helpers.h"
#include "compiler/passes.h"

namespace leadroute::compiler {
namespace {

using ast::Type;
using Kind = ast::Literal::Kind;

// What an operand evaluates to. `symbols` lists the names a bare name may
// take on the other side (enum values or priority labels), when any.
struct Typed {
  bool known = false;
  Type type = Type::kString;
  const std::vector<ast::Name>* symbols = nullptr;
  bool is_bare_name = false;  // an unquoted name literal
  std::string bare_name;
};

Typed Known(Type type, const std::vector<ast::Name>* symbols = nullptr) {
  Typed t;
  t.known = true;
  t.type = type;
  t.symbols = symbols;
  return t;
}

bool Numeric(Type t) { return t == Type::kInt || t == Type::kNumber; }
bool Ordered(Type t) {
  return Numeric(t) || t == Type::kTime || t == Type::kDuration ||
         t == Type::kEnum;
}

class TypeChecker {
 public:
  TypeChecker(const Module& m, Diagnostics* d) : m_(m), d_(d) {
    // Without labels (reported by check_stages) priority has no type.
    if (auto it = m_.stages.find(ast::StageKind::kPriority);
        it != m_.stages.end() && !it->second->labels.empty()) {
      labels_ = &it->second->labels;
    }
  }

  void Run() {
    m_.ForEach<ast::Schema>([&](const ast::Schema& s) {
      for (const ast::AttrDecl& a : s.attributes) Attribute(a);
    });
    m_.ForEach<ast::Stage>([&](const ast::Stage& s) {
      for (const ast::Rule& r : s.rules) {
        if (r.when != nullptr) Expr(*r.when);
      }
    });
  }

 private:
  void Attribute(const ast::AttrDecl& a) {
    if (a.type == Type::kRep || a.type == Type::kTeam) {
      d_->Error(a.type_span, absl::StrCat("`", ast::TypeName(a.type),
                                          "` is not a lead attribute type"))
          .hint = "use string, int, number, bool, time, list or enum { ... }";
    }
    std::vector<std::string> seen;
    for (const ast::Name& v : a.enum_values) {
      // A lead's value matches ignoring case, so two values that differ
      // only in case could not be told apart.
      auto same = std::find_if(seen.begin(), seen.end(), [&](const auto& s) {
        return absl::EqualsIgnoreCase(s, v.text);
      });
      if (same != seen.end() && *same == v.text) {
        d_->Error(v.span, absl::StrCat("duplicate enum value `", v.text, "`"));
      } else if (same != seen.end()) {
        d_->Error(v.span,
                  absl::StrCat("enum value `", v.text, "` differs from `",
                               *same, "` only in case"))
            .hint = "a lead's value matches an enum value ignoring case";
      }
      seen.push_back(v.text);
    }
    if (a.on_unknown) {
      if (a.type != Type::kEnum) {
        d_->Error(a.on_unknown->span,
                  absl::StrCat("`on unknown` is for enum attributes; `",
                               a.name.text, "` is ", Article(a.type)));
      } else if (std::find(seen.begin(), seen.end(), a.on_unknown->text) ==
                 seen.end()) {
        d_->Error(a.on_unknown->span,
                  absl::StrCat("`", a.on_unknown->text,
                               "` is not a value of the enum"))
            .hint = DidYouMean(a.on_unknown->text, seen);
      }
    }
    if (!a.default_value.has_value()) return;
    if (a.required) {
      d_->Error(a.default_value->span,
                absl::StrCat("`", a.name.text,
                             "` is required, so a default is never used"));
      return;
    }
    Typed attr = Known(a.type, &a.enum_values);
    LiteralFits(attr, *a.default_value, absl::StrCat("`", a.name.text, "`"));
  }

  bool LiteralFits(const Typed& want, const ast::Literal& lit,
                   absl::string_view what) {
    if (!want.known) return true;
    return CheckLiteral({want.type, want.symbols,
                         want.symbols != nullptr && want.symbols == labels_},
                        lit, what, d_);
  }

  static std::string Article(Type t) { return TypeArticle(t); }

  Typed TypeOf(const ast::Operand& o) {
    Typed t;
    switch (o.kind) {
      case ast::Operand::Kind::kAttribute: {
        if (auto it = m_.attributes.find(o.name.text);
            it != m_.attributes.end()) {
          t.known = true;
          t.type = it->second->type;
          if (t.type == Type::kEnum) t.symbols = &it->second->enum_values;
        } else if (std::optional<OutputInfo> out = StageOutput(o.name.text)) {
          t.known = true;
          t.type = out->type;
          if (out->stage == ast::StageKind::kPriority) t.symbols = labels_;
          if (t.type == Type::kEnum && t.symbols == nullptr) t.known = false;
        }
        return t;
      }
      case ast::Operand::Kind::kLiteral:
        t.known = true;
        switch (o.literal.kind) {
          case Kind::kString:
            t.type = Type::kString;
            break;
          case Kind::kInt:
            t.type = Type::kInt;
            break;
          case Kind::kNumber:
            t.type = Type::kNumber;
            break;
          case Kind::kBool:
            t.type = Type::kBool;
            break;
          case Kind::kDuration:
            t.type = Type::kDuration;
            break;
          case Kind::kList:
            t.type = Type::kList;
            break;
          case Kind::kName:
            t.is_bare_name = true;
            t.bare_name = o.literal.text;
            break;
        }
        return t;
      case ast::Operand::Kind::kCall:
        return Call(o);
    }
    return t;
  }

  Typed Call(const ast::Operand& o) {
    Typed result;
    Type key = Type::kString;
    if (o.name.text == "domain" || o.name.text == "lower") {
      result = Known(Type::kString);
    } else if (auto it = m_.tables.find(o.name.text); it != m_.tables.end()) {
      result = Known(it->second->value_type);
      key = it->second->key_type;
    } else {
      return result;  // reported by resolve_names
    }
    if (o.args.size() != 1) {
      d_->Error(o.span, absl::StrCat("`", o.name.text,
                                     "` takes one argument, "
                                     "not ",
                                     o.args.size()));
      return result;
    }
    Typed arg = TypeOf(o.args[0]);
    if (arg.known && !arg.is_bare_name && arg.type != key &&
        !(arg.type == Type::kEnum && key == Type::kString)) {
      d_->Error(o.args[0].span,
                absl::StrCat("`", o.name.text, "` takes ", Article(key),
                             ", not ", Article(arg.type)));
    }
    return result;
  }

  void Expr(const ast::Expr& e) {
    for (const auto& c : e.children) Expr(*c);
    switch (e.kind) {
      case ast::Expr::Kind::kAnd:
      case ast::Expr::Kind::kOr:
      case ast::Expr::Kind::kNot:
        return;
      case ast::Expr::Kind::kHas:
        Has(e);
        return;
      case ast::Expr::Kind::kTruthy: {
        Typed t = TypeOf(e.lhs);
        if (t.known && (t.is_bare_name || t.type != Type::kBool)) {
          d_->Error(e.lhs.span, t.is_bare_name
                                    ? absl::StrCat("`", t.bare_name,
                                                   "` alone is not a "
                                                   "condition")
                                    : absl::StrCat("a ", ast::TypeName(t.type),
                                                   " alone is not a condition"))
              .hint = "compare it, e.g. country == \"US\", or test it with has";
        }
        return;
      }
      case ast::Expr::Kind::kWithin: {
        Typed t = TypeOf(e.lhs);
        if (t.known && (t.is_bare_name || t.type != Type::kTime)) {
          d_->Error(e.lhs.span, "`within` needs a time attribute").hint =
              "e.g. last_pricing_visit within 48h";
        }
        return;
      }
      case ast::Expr::Kind::kIn:
      case ast::Expr::Kind::kNotIn:
        In(e);
        return;
      case ast::Expr::Kind::kBetween:
        Compare(e.lhs, ast::CompareOp::kGe, e.rhs, e.rhs.span);
        Compare(e.lhs, ast::CompareOp::kLe, *e.rhs2, e.rhs2->span);
        return;
      case ast::Expr::Kind::kCompare:
        Compare(e.lhs, e.op, e.rhs, e.op_span);
        return;
    }
  }

  void Has(const ast::Expr& e) {
    auto it = m_.attributes.find(e.lhs.name.text);
    if (it == m_.attributes.end()) return;
    if (it->second->required) {
      d_->Warning(e.lhs.span, "always_true",
                  absl::StrCat("`has ", e.lhs.name.text,
                               "` is always true: the attribute "
                               "is required"))
          .notes.push_back({it->second->required_span, "required here"});
    } else if (it->second->default_value.has_value()) {
      d_->Warning(e.lhs.span, "always_true",
                  absl::StrCat("`has ", e.lhs.name.text,
                               "` is always true: the attribute has a "
                               "default"))
          .notes.push_back({it->second->default_value->span, "default here"});
    }
  }

  void In(const ast::Expr& e) {
    Typed lhs = TypeOf(e.lhs);
    if (!lhs.known || lhs.is_bare_name) return;
    if (lhs.type == Type::kList) {
      d_->Error(e.op_span,
                "`in` tests one value; for a list attribute use "
                "`contains`")
          .hint = "e.g. products contains \"cpq\"";
      return;
    }
    if (e.set_table.has_value()) {
      auto it = m_.tables.find(e.set_table->text);
      if (it == m_.tables.end()) return;
      const Type key = it->second->key_type;
      if (key != lhs.type &&
          !(lhs.type == Type::kEnum && key == Type::kString)) {
        d_->Error(e.set_table->span,
                  absl::StrCat("table `", e.set_table->text, "` is keyed by ",
                               ast::TypeName(key), ", not ",
                               ast::TypeName(lhs.type)));
      }
      return;
    }
    const std::string what = OperandText(e.lhs);
    for (const ast::Literal& item : e.set_items) LiteralFits(lhs, item, what);
  }

  std::string OperandText(const ast::Operand& o) {
    return absl::StrCat("`", m_.sources.Text(o.span), "`");
  }

  void Compare(const ast::Operand& l, ast::CompareOp op, const ast::Operand& r,
               const Span& op_span) {
    Typed lt = TypeOf(l);
    Typed rt = TypeOf(r);
    if (!lt.known || !rt.known) return;
    if (lt.is_bare_name && rt.is_bare_name) {
      d_->Error(l.span, absl::StrCat("`", lt.bare_name,
                                     "` is not a declared attribute"));
      return;
    }
    // Put the typed side on the left; the literal (if any) on the right.
    const ast::Operand* typed_op = &l;
    const ast::Operand* other_op = &r;
    if (lt.is_bare_name || (l.kind == ast::Operand::Kind::kLiteral &&
                            r.kind != ast::Operand::Kind::kLiteral)) {
      std::swap(lt, rt);
      std::swap(typed_op, other_op);
    }
    const std::string what = OperandText(*typed_op);
    switch (op) {
      case ast::CompareOp::kStartsWith:
      case ast::CompareOp::kEndsWith:
        if (lt.type != Type::kString) {
          d_->Error(op_span, absl::StrCat(what, " is ", Article(lt.type),
                                          ": starts_with and ends_with need "
                                          "a string"));
          return;
        }
        break;
      case ast::CompareOp::kContains:
        if (lt.type == Type::kList) {
          if (other_op->kind == ast::Operand::Kind::kLiteral) {
            LiteralFits(Known(Type::kString), other_op->literal, "a list item");
          }
          return;
        }
        if (lt.type != Type::kString) {
          d_->Error(op_span, absl::StrCat(what, " is ", Article(lt.type),
                                          ": contains needs a string or a "
                                          "list"));
          return;
        }
        break;
      case ast::CompareOp::kLt:
      case ast::CompareOp::kLe:
      case ast::CompareOp::kGt:
      case ast::CompareOp::kGe:
        if (!Ordered(lt.type) ||
            (lt.type == Type::kEnum && lt.symbols != labels_)) {
          d_->Error(op_span, absl::StrCat(what, " is ", Article(lt.type),
                                          " and has no order: use == or in"));
          return;
        }
        break;
      default:
        if (lt.type == Type::kList) {
          d_->Error(op_span, absl::StrCat(what, " is a list: use contains"));
          return;
        }
        break;
    }
    if (other_op->kind == ast::Operand::Kind::kLiteral) {
      LiteralFits(lt, other_op->literal, what);
      return;
    }
    // Two typed operands: attribute vs attribute or call.
    const bool same =
        lt.type == rt.type || (Numeric(lt.type) && Numeric(rt.type)) ||
        (op >= ast::CompareOp::kStartsWith && rt.type == Type::kString);
    if (!same) {
      d_->Error(op_span,
                absl::StrCat("cannot compare ", what, " (", Article(lt.type),
                             ") with ", OperandText(*other_op), " (",
                             Article(rt.type), ")"));
    } else if (lt.type == Type::kEnum && lt.symbols != rt.symbols) {
      d_->Error(op_span, absl::StrCat("cannot compare values of two "
                                      "different enums: ",
                                      what, " and ", OperandText(*other_op)));
    }
  }

  const Module& m_;
  Diagnostics* d_;
  const std::vector<ast::Name>* labels_ = nullptr;
};

}  // namespace

void CheckTypes(const Module& module, Diagnostics* diagnostics) {
  TypeChecker(module, diagnostics).Run();
}

}  // namespace leadroute::compiler
