// Names and renderings of runtime values.
#include "runtime/value.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace leadroute::runtime {

absl::string_view TypeName(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "string";
    case ValueType::kInt:
      return "int";
    case ValueType::kNumber:
      return "number";
    case ValueType::kBool:
      return "bool";
    case ValueType::kTime:
      return "time";
    case ValueType::kStringList:
      return "list";
  }
  return "?";
}

std::string DebugString(const Value& v) {
  struct Visitor {
    std::string operator()(const std::string& s) const {
      return absl::StrCat("\"", s, "\"");
    }
    std::string operator()(int64_t i) const { return absl::StrCat(i); }
    std::string operator()(double d) const { return absl::StrCat(d); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(absl::Time t) const {
      return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
    }
    std::string operator()(const std::vector<std::string>& l) const {
      return absl::StrCat("[", absl::StrJoin(l, ", "), "]");
    }
  };
  return std::visit(Visitor{}, v);
}

}  // namespace leadroute::runtime
