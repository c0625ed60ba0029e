// Typed attribute values as the runtime sees them, independent of any wire
// format: the seven types a lead schema can declare.
#ifndef LEADROUTE_RUNTIME_VALUE_H_
#define LEADROUTE_RUNTIME_VALUE_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace leadroute::runtime {

// The order matches Value's alternatives, so `ValueType(v.index())` holds.
enum class ValueType {
  kString,      // text
  kInt,         // int64_t
  kNumber,      // double
  kBool,        // bool
  kTime,        // absl::Time (UTC instant)
  kStringList,  // std::vector<std::string>
};

using Value = std::variant<std::string, int64_t, double, bool, absl::Time,
                           std::vector<std::string>>;

inline ValueType TypeOf(const Value& v) {
  return static_cast<ValueType>(v.index());
}

// How a condition compares two values.
enum class CompareOp {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kStartsWith,
  kEndsWith,
  kContains
};

// The name a rule author writes for the type: "string", "int", ...
absl::string_view TypeName(ValueType type);

// A short rendering for messages and logs, e.g. "\"US\"", "42", "[a, b]".
std::string DebugString(const Value& v);

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_VALUE_H_
