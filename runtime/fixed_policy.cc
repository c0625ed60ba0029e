// The built-in policy; see fixed_policy.h.
#include "runtime/fixed_policy.h"

#include "absl/strings/str_cat.h"
#include "base/field_error.h"
#include "base/status_macros.h"
#include "runtime/lead_error.h"

namespace leadroute::runtime {
namespace {

absl::Status ExpectType(const Lead& lead, absl::string_view name,
                        ValueType want) {
  auto it = lead.attributes.find(name);
  if (it == lead.attributes.end() || TypeOf(it->second) == want) {
    return absl::OkStatus();
  }
  return InvalidAttribute(name,
                          absl::StrCat("expected ", TypeName(want), ", got ",
                                       TypeName(TypeOf(it->second))));
}

}  // namespace

absl::StatusOr<Decision> FixedPolicy::Decide(
    const Lead& lead, const DecideOptions& options) const {
  if (lead.id.empty()) return InvalidFieldError("id", "must not be empty");
  RETURN_IF_ERROR(ExpectType(lead, "source", ValueType::kString));
  RETURN_IF_ERROR(ExpectType(lead, "score", ValueType::kInt));

  Decision d;
  d.lead_id = lead.id;
  d.ruleset_name = "builtin";
  d.ruleset_version = "0";
  d.owner = "inbound";
  d.owner_kind = OwnerKind::kQueue;
  d.decided_by.push_back({"assign", "otherwise", ""});

  auto source = lead.attributes.find("source");
  bool demo = source != lead.attributes.end() &&
              std::get<std::string>(source->second) == "demo_request";
  if (auto score = lead.attributes.find("score");
      score != lead.attributes.end()) {
    d.score = std::get<int64_t>(score->second);
  }
  const char* rule = demo ? "demo_request" : "otherwise";
  d.priority = demo ? Priority{"high", 1} : Priority{"normal", 2};
  d.decided_by.push_back({"priority", rule, ""});
  d.sla = demo ? absl::Hours(1) : absl::Hours(24);
  d.decided_by.push_back({"sla", rule, ""});
  d.channel = demo ? "phone" : "email";
  d.decided_by.push_back({"channel", rule, ""});
  d.respond_by = options.received_at + *d.sla;
  return d;
}

}  // namespace leadroute::runtime
