// Bounds on the strings of a request, checked before a handler keeps any of
// them: a reason, a note or a name sent by a client is stored with the lead
// and written to its history, the audit trail and every event stream, so a
// 15 MiB `reason` must be refused, not stored. Walks the message by
// reflection, so a field added to a request is bounded without a change
// here: `reason` and `note` may have kMaxTextBytes, any other string (ids,
// names, channels, page tokens) kMaxNameBytes.
#ifndef LEADROUTE_SRC_SERVICE_REQUEST_STRINGS_H_
#define LEADROUTE_SRC_SERVICE_REQUEST_STRINGS_H_

#include <google/protobuf/message.h>

#include <cstddef>

#include "absl/status/status.h"

namespace leadroute {

inline constexpr size_t kMaxTextBytes = 1024;
inline constexpr size_t kMaxNameBytes = 256;

// OK, or INVALID_ARGUMENT naming the first string over its bound (its path,
// e.g. "reason", its size and the bound).
absl::Status CheckRequestStrings(const google::protobuf::Message& request);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_REQUEST_STRINGS_H_
