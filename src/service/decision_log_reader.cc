// ReadDecisionLine; see decision_log_reader.h.
#include "src/service/decision_log_reader.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace leadroute {
namespace {

using Json = nlohmann::json;

absl::Status Bad(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// `field` of `j` as text: empty when absent or null.
absl::Status Text(const Json& j, const char* field, std::string* out) {
  out->clear();
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) return Bad(field, "must be a string");
  *out = it->get_ref<const std::string&>();
  return absl::OkStatus();
}

absl::Status Time(const Json& j, const char* field, bool required,
                  std::optional<absl::Time>* out) {
  out->reset();
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    return required ? Bad(field, "required") : absl::OkStatus();
  }
  if (!it->is_string()) return Bad(field, "must be an RFC 3339 time");
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, it->get_ref<const std::string&>(),
                       &t, &err)) {
    return Bad(field, absl::StrCat("not an RFC 3339 time: ", err));
  }
  *out = t;
  return absl::OkStatus();
}

absl::Status Attribute(const std::string& name, const Json& v,
                       LoggedDecision* out) {
  const std::string where = absl::StrCat("attributes.", name);
  runtime::Value value;
  switch (v.type()) {
    case Json::value_t::null:
      return absl::OkStatus();
    case Json::value_t::string:
      if (v.get_ref<const std::string&>() == "***") {
        out->masked.push_back(name);
        return absl::OkStatus();
      }
      value = v.get<std::string>();
      break;
    case Json::value_t::boolean:
      value = v.get<bool>();
      break;
    case Json::value_t::number_integer:
      value = v.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return Bad(where, "a whole number beyond 64 bits");
      }
      value = static_cast<int64_t>(v.get<uint64_t>());
      break;
    case Json::value_t::number_float:
      value = v.get<double>();
      break;
    case Json::value_t::array: {
      std::vector<std::string> list;
      for (const Json& e : v) {
        if (!e.is_string()) return Bad(where, "a list holds strings");
        list.push_back(e.get<std::string>());
      }
      value = std::move(list);
      break;
    }
    case Json::value_t::object: {
      // Keyed hashes of a masked value (runtime/masked.h).
      runtime::HashedAttribute h;
      h.name = name;
      const std::pair<const char*, std::string*> parts[] = {
          {"hmac", &h.hashes.value},
          {"lower", &h.hashes.lower},
          {"domain", &h.hashes.domain},
          {"key", &h.hashes.key_id}};
      for (const auto& [field, to] : parts) {
        auto it = v.find(field);
        if (it == v.end()) continue;
        // A hash is 43 characters; anything much longer is not one.
        if (!it->is_string() || it->get_ref<const std::string&>().size() > 64) {
          return Bad(absl::StrCat(where, ".", field), "must be a short string");
        }
        *to = it->get_ref<const std::string&>();
      }
      if (h.hashes.value.empty() || h.hashes.key_id.empty()) {
        return Bad(where, "keyed hashes need \"hmac\" and \"key\"");
      }
      out->hashed.push_back(std::move(h));
      return absl::OkStatus();
    }
    default:
      return Bad(where, "not a value");
  }
  out->attributes.emplace_back(name, std::move(value));
  return absl::OkStatus();
}

// `j`'s "attributes" into out's attributes, masked and hashed.
absl::Status Attributes(const Json& j, LoggedDecision* out) {
  out->attributes.clear();
  out->masked.clear();
  out->hashed.clear();
  if (auto it = j.find("attributes"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Bad("attributes", "must be an object");
    for (auto a = it->begin(); a != it->end(); ++a) {
      if (absl::Status s = Attribute(a.key(), *a, out); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Read(const Json& j, LoggedDecision* out) {
  if (!j.is_object()) return Bad("line", "must be a JSON object");
  if (absl::Status s = Text(j, "shadow_of", &out->shadow_of); !s.ok()) {
    return s;
  }
  if (absl::Status s = Text(j, "lead_id", &out->lead_id); !s.ok()) return s;
  if (out->lead_id.empty()) return Bad("lead_id", "required");
  std::optional<absl::Time> ts, received, respond_by;
  if (absl::Status s = Time(j, "ts", true, &ts); !s.ok()) return s;
  if (absl::Status s = Time(j, "received_at", false, &received); !s.ok())
    return s;
  if (absl::Status s = Time(j, "respond_by", false, &respond_by); !s.ok())
    return s;
  out->decided_at = *ts;

  runtime::RecordedDecision& d = out->decision;
  d.sla.reset();
  if (auto it = j.find("sla_seconds"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return Bad("sla_seconds", "must be a whole number of seconds, >= 0");
    }
    d.sla = absl::Seconds(it->get<int64_t>());
  }
  // Before `received_at` was written, respond_by less the SLA gave it.
  out->received_at = received              ? *received
                     : respond_by && d.sla ? *respond_by - *d.sla
                                           : *ts;

  out->ruleset.clear();
  out->fingerprint.clear();
  if (auto it = j.find("ruleset"); it != j.end() && it->is_object()) {
    std::string name, version;
    if (absl::Status s = Text(*it, "name", &name); !s.ok()) return s;
    if (absl::Status s = Text(*it, "version", &version); !s.ok()) return s;
    if (absl::Status s = Text(*it, "fingerprint", &out->fingerprint); !s.ok()) {
      return s;
    }
    out->ruleset = absl::StrCat(name, " ", version);
  }
  out->live_target.clear();
  out->changed.clear();
  if (!out->shadow_of.empty()) {
    if (absl::Status s = Text(j, "target", &d.owner); !s.ok()) return s;
    if (absl::Status s = Text(j, "live_target", &out->live_target); !s.ok()) {
      return s;
    }
    if (auto it = j.find("changed"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) return Bad("changed", "must be a list");
      for (const Json& c : *it) {
        if (!c.is_string()) return Bad("changed", "holds output names");
        out->changed.push_back(c.get<std::string>());
      }
    }
    out->attributes.clear();
    out->masked.clear();
    out->hashed.clear();
    return absl::OkStatus();
  }

  std::string owner, kind, team;
  if (absl::Status s = Text(j, "target", &d.owner); !s.ok()) return s;
  if (absl::Status s = Text(j, "owner", &owner); !s.ok()) return s;
  if (absl::Status s = Text(j, "owner_kind", &kind); !s.ok()) return s;
  if (absl::Status s = Text(j, "team", &team); !s.ok()) return s;
  d.rep = kind == "rep" ? owner : "";
  if (d.owner.empty()) {
    // Before `target`: the team a rep was picked from, else the owner.
    d.owner = !team.empty()                    ? absl::StrCat("team:", team)
              : kind.empty() || kind == "none" ? "none"
                                               : absl::StrCat(kind, ":", owner);
  }
  if (absl::Status s = Text(j, "priority", &d.priority); !s.ok()) return s;
  if (absl::Status s = Text(j, "channel", &d.channel); !s.ok()) return s;
  if (absl::Status s = Text(j, "escalation", &d.escalation); !s.ok()) return s;

  d.rules.clear();
  if (auto it = j.find("decided_by"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Bad("decided_by", "must be a list");
    for (const Json& r : *it) {
      if (!r.is_object()) return Bad("decided_by", "holds objects");
      std::string stage, rule, location;
      if (absl::Status s = Text(r, "stage", &stage); !s.ok()) return s;
      if (absl::Status s = Text(r, "rule", &rule); !s.ok()) return s;
      if (absl::Status s = Text(r, "location", &location); !s.ok()) return s;
      d.rules.emplace_back(absl::StrCat(stage, "/", rule), location);
    }
  }

  return Attributes(j, out);
}

absl::StatusOr<Json> Parse(absl::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    // "[json.exception.parse_error.101] parse error at ..." without its
    // bracketed prefix.
    std::string what = e.what();
    if (size_t end = what.find("] "); end != std::string::npos) {
      what = what.substr(end + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat("not JSON: ", what));
  }
}

}  // namespace

absl::Status ReadDecisionLine(absl::string_view line, LoggedDecision* out) {
  absl::StatusOr<Json> j = Parse(line);
  if (!j.ok()) return j.status();
  return Read(*j, out);
}

absl::Status ReadStoredLead(const runtime::Assignment& a, LoggedDecision* out) {
  if (a.logged.empty()) {
    return absl::FailedPreconditionError(
        "the store kept no attributes for it (routed before leadroute kept "
        "them, schema v11)");
  }
  absl::StatusOr<Json> j = Parse(a.logged);
  if (!j.ok()) return j.status();
  if (!j->is_object()) return Bad("logged", "must be a JSON object");
  std::optional<absl::Time> received;
  if (absl::Status s = Time(*j, "received_at", true, &received); !s.ok()) {
    return s;
  }
  runtime::RecordedDecision& d = out->decision;
  if (absl::Status s = Text(*j, "target", &d.owner); !s.ok()) return s;
  if (d.owner.empty()) return Bad("target", "required");
  out->shadow_of.clear();
  out->live_target.clear();
  out->changed.clear();
  out->fingerprint.clear();
  out->lead_id = a.lead_id;
  out->decided_at = a.routed_at;
  out->received_at = *received;
  out->ruleset = a.ruleset;
  d.rep = a.owner_kind == runtime::OwnerKind::kRep ? a.owner : "";
  d.priority = a.priority;
  d.sla = a.sla;
  d.channel = a.channel;
  d.escalation = a.escalation;
  d.rules.clear();
  for (absl::string_view rule :
       absl::StrSplit(a.rules, ';', absl::SkipEmpty())) {
    d.rules.emplace_back(std::string(rule), "");
  }
  return Attributes(*j, out);
}

}  // namespace leadroute
