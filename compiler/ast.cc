// Names of AST enums, as the rule author writes them.
#include "compiler/ast.h"

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
