// Decisions written straight to protobuf's wire format: RouteBatch's answer
// is built as bytes, one lead's result at a time, without a protobuf message
// for the batch. The bytes are exactly those protobuf would write for
// DecisionToProto's message (src/wire/convert.h);
// tests/src/wire/lead_wire_test.cc holds the two equal on random decisions.
#ifndef LEADROUTE_SRC_WIRE_DECISION_WRITER_H_
#define LEADROUTE_SRC_WIRE_DECISION_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "runtime/decision.h"

namespace leadroute {

// What the server adds to a runtime::Decision on the wire.
struct DecisionExtras {
  absl::string_view decision_id;  // unless the decision has its own
  int64_t revision = 0;           // RulesetRef.revision
  absl::string_view fingerprint;  // RulesetRef.fingerprint
};

// Appends `d` to `*out` as the bytes of a leadroute.v1.Decision, exactly
// those protobuf writes for DecisionToProto's message with `extras` set
// (tests/src/wire/lead_wire_test.cc holds the two equal), without building it.
void AppendDecision(const runtime::Decision& d, const DecisionExtras& extras,
                    std::string* out);

// Appends a leadroute.v1.Error for a lead that failed with `status`: its
// code, message, the lead's id and the field named (base/field_error.h).
void AppendError(const absl::Status& status, absl::string_view lead_id,
                 std::string* out);

// Appends one entry of RouteBatchResponse.results: a RouteResult whose
// `body` is a Decision (`decided`) or an Error.
void AppendBatchResult(bool decided, absl::string_view body, std::string* out);

// Appends one length-delimited field: `field`'s tag, the length of
// `bytes`, `bytes`.
void AppendField(uint32_t field, absl::string_view bytes, std::string* out);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_WIRE_DECISION_WRITER_H_
