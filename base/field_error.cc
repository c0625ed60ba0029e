// Field errors carried in absl::Status payloads; see the header.
#include "base/field_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace leadroute {
namespace {
constexpr absl::string_view kFieldPayload = "leadroute.v1/field";
}  // namespace

absl::Status InvalidFieldError(absl::string_view field,
                               absl::string_view description) {
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(field, ": ", description));
  status.SetPayload(kFieldPayload, absl::Cord(field));
  return status;
}

std::string ErrorField(const absl::Status& status) {
  auto field = status.GetPayload(kFieldPayload);
  return field ? std::string(*field) : std::string();
}

absl::string_view ErrorDescription(const absl::Status& status) {
  absl::string_view message = status.message();
  absl::ConsumePrefix(&message, ErrorField(status));
  absl::ConsumePrefix(&message, ": ");
  return message;
}

}  // namespace leadroute
