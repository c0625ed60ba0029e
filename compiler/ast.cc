// Names of AST enums, as the rule author writes them.
#include "compiler/ast.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace leadroute::compiler::ast {

absl::string_view StageName(StageKind kind) {
  switch (kind) {
    case StageKind::kScore:
      return "score";
    case StageKind::kAssign:
      return "assign";
    case StageKind::kPriority:
      return "priority";
    case StageKind::kSla:
      return "sla";
    case StageKind::kChannel:
      return "channel";
    case StageKind::kEscalate:
      return "escalate";
  }
  return "?";
}

bool KeysIgnoreCase(const Table& table) {
  if (table.key_type != Type::kString) return false;
  if (table.ignore_case.has_value()) return *table.ignore_case;
  auto mentions = [](absl::string_view s) {
    const std::string lower = absl::AsciiStrToLower(s);
    return absl::StrContains(lower, "domain") ||
           absl::StrContains(lower, "email");
  };
  return mentions(table.name.text) ||
         (table.csv.has_value() && mentions(table.csv->key_column.text));
}

absl::string_view TypeName(Type type) {
  switch (type) {
    case Type::kString:
      return "string";
    case Type::kInt:
      return "int";
    case Type::kNumber:
      return "number";
    case Type::kBool:
      return "bool";
    case Type::kTime:
      return "time";
    case Type::kList:
      return "list";
    case Type::kEnum:
      return "enum";
    case Type::kRep:
      return "rep";
    case Type::kTeam:
      return "team";
    case Type::kDuration:
      return "duration";
  }
  return "?";
}

}  // namespace leadroute::compiler::ast
