// What is kept of a lead's attributes; see lead_attributes.h.
#include "src/service/lead_attributes.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "runtime/masked.h"

namespace leadroute {
namespace {

using JsonValue = nlohmann::ordered_json;

JsonValue ValueJson(const runtime::Value& v) {
  return std::visit(
      [](const auto& x) -> JsonValue {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, absl::Time>) {
          return Rfc3339Micros(x);
        } else {
          return x;
        }
      },
      v);
}

}  // namespace

LeadAttributes::LeadAttributes(const Options& options) : key_(options.key) {
  for (const std::string& name : options.mask) {
    mask_.insert(absl::AsciiStrToLower(name));
  }
}

namespace {

// How `program` (may be null) sees the attribute `name`.
struct Declared {
  bool declared = false;
  bool pii = false;
  bool read = false;  // by a rule
};
Declared Lookup(const runtime::Program* program, absl::string_view name) {
  if (program == nullptr) return {};
  auto it = program->slots.find(name);
  if (it == program->slots.end()) return {};
  const int slot = it->second;
  return {true, program->attributes[slot].pii,
          slot < static_cast<int>(program->read.size()) && program->read[slot]};
}

}  // namespace

std::string LeadAttributes::Json(
    const std::vector<LeadReader::Attribute>& attributes,
    const runtime::Program* program, const runtime::Program* also) const {
  // In name order, so equal leads give equal lines.
  std::vector<std::pair<const LeadReader::Attribute*, Declared>> sorted;
  sorted.reserve(attributes.size());
  for (const LeadReader::Attribute& a : attributes) {
    // What the schema does not declare is not the rules' business, and
    // could be anything a form sends: it is not written.
    const Declared live = Lookup(program, a.name);
    const Declared shadow = Lookup(also, a.name);
    if (live.declared || shadow.declared) {
      sorted.push_back(
          {&a, {true, live.pii || shadow.pii, live.read || shadow.read}});
    }
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.first->name < b.first->name;
  });
  JsonValue out = JsonValue::object();
  for (const auto& [a, declared] : sorted) {
    const std::string name(a->name);
    const bool masked =
        declared.pii || mask_.contains(absl::AsciiStrToLower(name));
    if (!masked) {
      out[name] = ValueJson(a->value);
      continue;
    }
    const std::string* text = std::get_if<std::string>(&a->value);
    if (key_ == nullptr || text == nullptr || !declared.read) {
      out[name] = "***";
      continue;
    }
    const runtime::MaskedHashes h = runtime::HashMasked(*key_, *text);
    JsonValue hashed = {{"hmac", h.value}};
    if (!h.lower.empty()) hashed["lower"] = h.lower;
    if (!h.domain.empty()) hashed["domain"] = h.domain;
    hashed["key"] = h.key_id;
    out[name] = std::move(hashed);
  }
  // Invalid UTF-8 from a client is replaced, never a reason to lose a line.
  return out.dump(-1, ' ', false, JsonValue::error_handler_t::replace);
}

std::string LeadAttributes::Logged(absl::Time received_at,
                                   absl::string_view target,
                                   absl::string_view attributes) {
  return absl::StrCat(
      "{\"received_at\":\"", Rfc3339Micros(received_at), "\",\"target\":",
      JsonValue(std::string(target))
          .dump(-1, ' ', false, JsonValue::error_handler_t::replace),
      ",\"attributes\":", attributes.empty() ? "{}" : attributes, "}");
}

}  // namespace leadroute
