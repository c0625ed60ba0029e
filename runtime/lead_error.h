// The field error (base/field_error.h) for a lead attribute the runtime
// refuses: the field "attributes.<name>".
#ifndef LEADROUTE_RUNTIME_LEAD_ERROR_H_
#define LEADROUTE_RUNTIME_LEAD_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace leadroute::runtime {

absl::Status InvalidAttribute(absl::string_view name,
                              absl::string_view description);

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_LEAD_ERROR_H_
