// A lead as handed to the runtime: the caller's id and typed attributes by
// name. Wire formats (proto, JSON) convert into this; rules never see them.
#ifndef LEADROUTE_RUNTIME_LEAD_H_
#define LEADROUTE_RUNTIME_LEAD_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "runtime/value.h"

namespace leadroute::runtime {

struct Lead {
  std::string id;
  absl::flat_hash_map<std::string, Value> attributes;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_LEAD_H_
