// Field-level errors for malformed leads: an INVALID_ARGUMENT absl::Status
// that also carries the path of the offending field ("id",
// "attributes.employees"), so every adapter can name it to the caller.
#ifndef LEADROUTE_RUNTIME_LEAD_ERROR_H_
#define LEADROUTE_RUNTIME_LEAD_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace leadroute::runtime {

// INVALID_ARGUMENT with message "<field>: <description>" and the field path
// attached as a payload.
absl::Status InvalidLeadField(absl::string_view field,
                              absl::string_view description);

// InvalidLeadField for attribute `name`: the field "attributes.<name>".
absl::Status InvalidAttribute(absl::string_view name,
                              absl::string_view description);

// The field path attached by InvalidLeadField, or "" when there is none.
std::string LeadErrorField(const absl::Status& status);

// What InvalidLeadField was told about the field: the message without its
// "<field>: " prefix.
absl::string_view LeadErrorDescription(const absl::Status& status);

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_LEAD_ERROR_H_
