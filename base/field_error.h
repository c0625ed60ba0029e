// Field errors: an INVALID_ARGUMENT absl::Status that also carries the path
// of the field at fault ("lead_id", "leads", "attributes.employees"), so the
// gRPC adapter can name it to the caller as a google.rpc.BadRequest field
// violation (src/wire/convert.h, ToGrpcStatus) whatever layer found it.
#ifndef LEADROUTE_BASE_FIELD_ERROR_H_
#define LEADROUTE_BASE_FIELD_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace leadroute {

// INVALID_ARGUMENT with message "<field>: <description>" and the field path
// attached as a payload.
absl::Status InvalidFieldError(absl::string_view field,
                               absl::string_view description);

// The field path InvalidFieldError attached, or "" when there is none.
std::string ErrorField(const absl::Status& status);

// What InvalidFieldError was told about the field: the message without its
// "<field>: " prefix.
absl::string_view ErrorDescription(const absl::Status& status);

}  // namespace leadroute

#endif  // LEADROUTE_BASE_FIELD_ERROR_H_
