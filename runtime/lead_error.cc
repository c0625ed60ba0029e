// Field errors about a lead's attributes; see the header.
#include "runtime/lead_error.h"

#include "absl/strings/str_cat.h"
#include "base/field_error.h"

namespace leadroute::runtime {

absl::Status InvalidAttribute(absl::string_view name,
                              absl::string_view description) {
  return InvalidFieldError(absl::StrCat("attributes.", name), description);
}

}  // namespace leadroute::runtime
