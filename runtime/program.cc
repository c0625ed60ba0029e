// Names and key forms for runtime programs; see program.h.
#include "runtime/program.h"

namespace leadroute::runtime {

const char* StageIdName(StageId id) {
  static constexpr const char* kNames[] = {"score", "assign", "priority", "sla",
                                           "channel"};
  return kNames[static_cast<int>(id)];
}

std::string KeyText(const Value& v) {
  return TypeOf(v) == ValueType::kString ? std::get<std::string>(v)
                                         : DebugString(v);
}

}  // namespace leadroute::runtime
