// Field-level lead errors carried in absl::Status payloads.
#include "runtime/lead_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace leadroute::runtime {
namespace {
constexpr absl::string_view kFieldPayload = "leadroute.v1/field";
}  // namespace

absl::Status InvalidLeadField(absl::string_view field,
                              absl::string_view description) {
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(field, ": ", description));
  status.SetPayload(kFieldPayload, absl::Cord(field));
  return status;
}

absl::Status InvalidAttribute(absl::string_view name,
                              absl::string_view description) {
  return InvalidLeadField(absl::StrCat("attributes.", name), description);
}

std::string LeadErrorField(const absl::Status& status) {
  auto field = status.GetPayload(kFieldPayload);
  return field ? std::string(*field) : std::string();
}

absl::string_view LeadErrorDescription(const absl::Status& status) {
  absl::string_view message = status.message();
  absl::ConsumePrefix(&message, LeadErrorField(status));
  absl::ConsumePrefix(&message, ": ");
  return message;
}

}  // namespace leadroute::runtime
