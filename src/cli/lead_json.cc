// LeadFromJson; see lead_json.h.
#include "src/cli/lead_json.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"

namespace leadroute {
namespace {

absl::Status Invalid(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

absl::Status PlainValue(const std::string& where, const nlohmann::json& j,
                        v1::Value* out) {
  switch (j.type()) {
    case nlohmann::json::value_t::string:
      out->set_string_value(j.get<std::string>());
      return absl::OkStatus();
    case nlohmann::json::value_t::boolean:
      out->set_bool_value(j.get<bool>());
      return absl::OkStatus();
    case nlohmann::json::value_t::number_integer:
      out->set_int_value(j.get<int64_t>());
      return absl::OkStatus();
    case nlohmann::json::value_t::number_unsigned:
      if (j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return Invalid(where, "a whole number beyond 64 bits");
      }
      out->set_int_value(static_cast<int64_t>(j.get<uint64_t>()));
      return absl::OkStatus();
    case nlohmann::json::value_t::number_float:
      out->set_number_value(j.get<double>());
      return absl::OkStatus();
    case nlohmann::json::value_t::array: {
      v1::StringList* list = out->mutable_list_value();
      for (size_t i = 0; i < j.size(); ++i) {
        if (!j[i].is_string()) {
          return Invalid(absl::StrCat(where, "[", i, "]"),
                         "a list holds strings");
        }
        list->add_values(j[i].get<std::string>());
      }
      return absl::OkStatus();
    }
    case nlohmann::json::value_t::object: {
      google::protobuf::util::JsonParseOptions options;
      auto s =
          google::protobuf::util::JsonStringToMessage(j.dump(), out, options);
      if (!s.ok()) {
        return Invalid(where,
                       absl::StrCat("not a value: ", std::string(s.message())));
      }
      return absl::OkStatus();
    }
    default:
      return Invalid(where, "not a value");
  }
}

}  // namespace

absl::StatusOr<v1::Lead> LeadFromJson(const nlohmann::json& j) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        "a lead is a JSON object, e.g. {\"id\": \"L-1\", \"country\": "
        "\"US\"}");
  }
  v1::Lead lead;
  const nlohmann::json* attributes = &j;
  if (auto it = j.find("attributes"); it != j.end() && it->is_object()) {
    attributes = &*it;
  }
  if (auto id = j.find("id"); id != j.end()) {
    if (!id->is_string()) return Invalid("id", "must be a string");
    lead.set_id(id->get<std::string>());
  }
  auto& out = *lead.mutable_attributes();
  for (auto it = attributes->begin(); it != attributes->end(); ++it) {
    if (attributes == &j && (it.key() == "id" || it.key() == "attributes")) {
      continue;
    }
    if (it->is_null()) continue;
    const std::string where =
        attributes == &j ? it.key() : absl::StrCat("attributes.", it.key());
    if (absl::Status s = PlainValue(where, *it, &out[it.key()]); !s.ok()) {
      return s;
    }
  }
  return lead;
}

absl::StatusOr<nlohmann::json> ParseJson(const std::string& text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 9:
    // ..." without its bracketed prefix. Not only parse errors: a number
    // too big for a double is out_of_range (found by lead_json_fuzzer; it
    // ended `leadroute route` with std::terminate).
    std::string what = e.what();
    if (size_t end = what.find("] "); end != std::string::npos) {
      what = what.substr(end + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat("not JSON: ", what));
  }
}

absl::StatusOr<v1::Lead> LeadFromJson(const std::string& text) {
  absl::StatusOr<nlohmann::json> j = ParseJson(text);
  if (!j.ok()) return j.status();
  return LeadFromJson(*j);
}

}  // namespace leadroute
