// Helpers the checking passes share; see pass_helpers.h.
#include "compiler/pass_helpers.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace leadroute::compiler {

using ast::Type;
using Kind = ast::Literal::Kind;

std::optional<OutputInfo> StageOutput(absl::string_view name) {
  if (name == "score")
    return OutputInfo{ast::StageKind::kScore, ast::Type::kInt};
  if (name == "priority") {
    return OutputInfo{ast::StageKind::kPriority, ast::Type::kEnum};
  }
  if (name == "sla") {
    return OutputInfo{ast::StageKind::kSla, ast::Type::kDuration};
  }
  return std::nullopt;
}

std::string TypeArticle(Type t) {
  switch (t) {
    case Type::kInt:
      return "an int";
    case Type::kEnum:
      return "an enum";
    default:
      return absl::StrCat("a ", ast::TypeName(t));
  }
}

namespace {

std::string LiteralDescription(const ast::Literal& lit) {
  switch (lit.kind) {
    case Kind::kString:
      return "a string";
    case Kind::kInt:
      return "an int";
    case Kind::kNumber:
      return "a number";
    case Kind::kBool:
      return "a bool";
    case Kind::kDuration:
      return "a duration";
    case Kind::kName:
      return absl::StrCat("the name `", lit.text, "`");
    case Kind::kList:
      return "a list";
  }
  return "a value";
}

bool Symbol(const LiteralType& want, const std::string& name, const Span& span,
            Diagnostics* d_) {
  for (const ast::Name& s : *want.symbols) {
    if (s.text == name) return true;
  }
  std::vector<std::string> names;
  for (const ast::Name& s : *want.symbols) names.push_back(s.text);
  Diagnostic& d = d_->Error(
      span, want.labels
                ? absl::StrCat("`", name, "` is not a priority label")
                : absl::StrCat("`", name, "` is not a value of the enum"));
  d.hint =
      DidYouMean(name, names,
                 absl::StrCat("expected one of: ", absl::StrJoin(names, ", ")));
  return false;
}

}  // namespace

bool CheckLiteral(const LiteralType& want, const ast::Literal& lit,
                  absl::string_view what, Diagnostics* d_) {
  const Type t = want.type;
  switch (lit.kind) {
    case Kind::kName:
      if (want.symbols != nullptr) return Symbol(want, lit.text, lit.span, d_);
      if (t == Type::kString) {
        d_->Error(lit.span, absl::StrCat("`", lit.text, "` is not a value: ",
                                         what, " is a string"))
            .hint = absl::StrCat("quote it: \"", lit.text, "\"");
        return false;
      }
      d_->Error(lit.span, absl::StrCat("undefined name `", lit.text,
                                       "`: it is no attribute, and ", what,
                                       " is ", TypeArticle(t)));
      return false;
    case Kind::kString:
      if (t == Type::kString) return true;
      if (t == Type::kTime) {
        absl::Time parsed;
        std::string err;
        if (absl::ParseTime(absl::RFC3339_full, lit.text, &parsed, &err)) {
          return true;
        }
        d_->Error(lit.span, absl::StrCat("not an RFC 3339 time: ", err)).hint =
            "e.g. \"2026-11-23T09:00:00Z\"";
        return false;
      }
      if (t == Type::kEnum && want.symbols != nullptr) {
        d_->Error(lit.span, absl::StrCat(what,
                                         " is an enum: write its "
                                         "values without quotes"))
            .hint = absl::StrCat("write ", lit.text);
        return false;
      }
      break;
    case Kind::kInt:
      if (t == Type::kInt || t == Type::kNumber) return true;
      break;
    case Kind::kNumber:
      if (t == Type::kNumber) return true;
      if (t == Type::kInt) {
        d_->Error(lit.span, absl::StrCat(what, " is an int: ", lit.text,
                                         " is not a whole number"));
        return false;
      }
      break;
    case Kind::kBool:
      if (t == Type::kBool) return true;
      break;
    case Kind::kDuration:
      if (t == Type::kDuration) return true;
      break;
    case Kind::kList:
      if (t == Type::kList) {
        for (const ast::Literal& item : lit.items) {
          if (item.kind != Kind::kString) {
            d_->Error(item.span, "list items are quoted strings");
            return false;
          }
        }
        return true;
      }
      break;
  }
  d_->Error(lit.span,
            absl::StrCat("type mismatch: ", what, " is ", TypeArticle(t),
                         " but this is ", LiteralDescription(lit)));
  return false;
}

void ErrorOnPropertiesSetTwice(const std::vector<ast::Property>& properties,
                               Diagnostics* d) {
  for (size_t i = 0; i < properties.size(); ++i) {
    const ast::Property& p = properties[i];
    for (size_t j = 0; j < i; ++j) {
      const ast::Property& other = properties[j];
      if (other.name.text == p.name.text) {
        d->Error(p.name.span, absl::StrCat("`", p.name.text, "` is set twice"))
            .notes.push_back({other.name.span, "first set here"});
      }
    }
  }
}

}  // namespace leadroute::compiler
