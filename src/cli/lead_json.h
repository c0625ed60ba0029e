// Leads written as JSON by people: `leadroute eval` and `leadroute route`
// read them. Three forms are accepted:
// - plain, flat: {"id": "L-1", "country": "US", "employees": 1200}
// - plain, under attributes: {"id": "L-1", "attributes": {"country": "US"}}
// - proto JSON (leadroute.v1.Lead):
//   {"id": "L-1", "attributes": {"country": {"stringValue": "US"}}}
// A plain value becomes the Value its JSON type says (text, a whole number,
// a number with a fraction, true/false, a list of strings; null leaves the
// attribute out); the ruleset's schema then reads it as its attribute's
// type (runtime::LeadBinder: a whole number for a `number`, RFC 3339 text
// for a `time`). An object value is read as a proto JSON Value.
#ifndef LEADROUTE_SRC_CLI_LEAD_JSON_H_
#define LEADROUTE_SRC_CLI_LEAD_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "leadroute/v1/leadroute.pb.h"
#include "nlohmann/json.hpp"

namespace leadroute {

// `text` as JSON; INVALID_ARGUMENT with the line and column where not.
absl::StatusOr<nlohmann::json> ParseJson(const std::string& text);
// The lead in `text`; INVALID_ARGUMENT naming where it is wrong.
absl::StatusOr<v1::Lead> LeadFromJson(const std::string& text);
// The same, for one element of a batch already parsed.
absl::StatusOr<v1::Lead> LeadFromJson(const nlohmann::json& lead);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_CLI_LEAD_JSON_H_
