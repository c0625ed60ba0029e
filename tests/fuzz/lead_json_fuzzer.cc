// libFuzzer target over the JSON leads `leadroute route` and `eval` read
// (src/cli/lead_json.h): any text must end in a lead or an error naming
// where it is wrong — never a crash, a hang or a sanitizer report. A lead
// it accepts must survive proto JSON and back unchanged.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "src/cli/lead_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<nlohmann::json> parsed = leadroute::ParseJson(text);
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) std::abort();
    return 0;
  }
  // A batch, as `leadroute route` reads it: each element on its own.
  if (parsed->is_array()) {
    for (const nlohmann::json& element : *parsed) {
      (void)leadroute::LeadFromJson(element);
    }
    return 0;
  }
  absl::StatusOr<leadroute::v1::Lead> lead = leadroute::LeadFromJson(text);
  if (!lead.ok()) {
    if (lead.status().message().empty()) std::abort();
    return 0;
  }
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(*lead, &json).ok()) {
    std::abort();
  }
  absl::StatusOr<leadroute::v1::Lead> again = leadroute::LeadFromJson(json);
  if (!again.ok() ||
      !google::protobuf::util::MessageDifferencer::Equals(*lead, *again)) {
    std::abort();
  }
  return 0;
}
