#include "tests/src/wire/lead_wire_oracle.h"

#include <cstring>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/field_error.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/unknown_field_set.h"

namespace leadroute {
namespace {

// What a lead means, read from protobuf's parse of it.
struct Expected {
  std::string id;
  std::map<std::string, runtime::Value> attributes;
  std::vector<std::string> bad;  // attributes whose values are refused
};

Expected FromProto(const v1::Lead& lead) {
  Expected e;
  e.id = lead.id();
  for (const auto& [name, v] : lead.attributes()) {
    switch (v.kind_case()) {
      case v1::Value::kStringValue:
        e.attributes[name] = v.string_value();
        break;
      case v1::Value::kIntValue:
        e.attributes[name] = v.int_value();
        break;
      case v1::Value::kNumberValue:
        e.attributes[name] = v.number_value();
        break;
      case v1::Value::kBoolValue:
        e.attributes[name] = v.bool_value();
        break;
      case v1::Value::kTimeValue: {
        const auto& t = v.time_value();
        if (t.seconds() < -62135596800 || t.seconds() > 253402300799 ||
            t.nanos() < 0 || t.nanos() > 999999999) {
          e.bad.push_back(name);
        } else {
          e.attributes[name] =
              absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
        }
        break;
      }
      case v1::Value::kListValue:
        e.attributes[name] = std::vector<std::string>(
            v.list_value().values().begin(), v.list_value().values().end());
        break;
      case v1::Value::KIND_NOT_SET:
        e.bad.push_back(name);
    }
  }
  return e;
}

// Doubles bit for bit, so that NaN equals itself.
bool SameValue(const runtime::Value& a, const runtime::Value& b) {
  const double* x = std::get_if<double>(&a);
  const double* y = std::get_if<double>(&b);
  if (x != nullptr && y != nullptr) return std::memcmp(x, y, sizeof *x) == 0;
  return a == b;
}

std::string Mismatch(const Expected& want, LeadReader& reader) {
  if (reader.id() != want.id) {
    return absl::StrCat("id read as \"", reader.id(), "\", protobuf reads \"",
                        want.id, "\"");
  }
  std::map<std::string, runtime::Value> got;
  for (const LeadReader::Attribute& a : reader.attributes()) {
    if (!got.emplace(std::string(a.name), a.value).second) {
      return absl::StrCat("attribute ", a.name, " given twice");
    }
  }
  for (const auto& [name, value] : want.attributes) {
    auto it = got.find(name);
    if (it == got.end()) return absl::StrCat("attribute ", name, " not read");
    if (!SameValue(it->second, value)) {
      return absl::StrCat("attribute ", name, " read as ",
                          runtime::DebugString(it->second), ", protobuf reads ",
                          runtime::DebugString(value));
    }
  }
  if (got.size() != want.attributes.size()) {
    return absl::StrCat(got.size(), " attributes read, protobuf reads ",
                        want.attributes.size());
  }
  return "";
}

}  // namespace

std::string Canonical(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

LeadAgreement CompareLeadReading(const std::string& bytes, LeadReader& reader) {
  LeadAgreement agreement;
  v1::Lead parsed;
  agreement.proto_accepted = parsed.ParseFromString(bytes);
  const absl::Status read = reader.Read(bytes, static_cast<size_t>(-1));
  if (!read.ok() && read.code() != absl::StatusCode::kInvalidArgument) {
    agreement.mismatch =
        absl::StrCat("not INVALID_ARGUMENT: ", read.ToString());
    return agreement;
  }
  if (!agreement.proto_accepted) {
    if (read.ok())
      agreement.mismatch = "protobuf rejects what the reader accepts";
    return agreement;
  }
  const Expected want = FromProto(parsed);
  if (!want.bad.empty()) {
    // Any of the refused attributes may be the one named.
    const std::string field = ErrorField(read);
    for (const std::string& name : want.bad) {
      if (field == "attributes." + name) return agreement;
    }
    agreement.mismatch = absl::StrCat(
        read.ok() ? "accepted" : read.ToString(),
        ", but one of these must be refused: ", absl::StrJoin(want.bad, ", "));
    return agreement;
  }
  if (!read.ok()) {
    agreement.mismatch =
        absl::StrCat(read.ToString(), " on what protobuf accepts");
    return agreement;
  }
  agreement.mismatch = Mismatch(want, reader);
  return agreement;
}

std::string CompareBatchSplit(const std::string& bytes,
                              BatchRequestBytes* batch) {
  v1::RouteBatchRequest parsed;
  // Protobuf checks the leads' own bytes too; the splitter leaves them to
  // LeadReader.
  const bool proto_ok = parsed.ParseFromString(bytes);
  const absl::Status split = SplitBatchRequest(bytes, batch);
  if (!split.ok() && split.code() != absl::StatusCode::kInvalidArgument) {
    return absl::StrCat("not INVALID_ARGUMENT: ", split.ToString());
  }
  if (proto_ok) {
    if (!split.ok())
      return absl::StrCat(split.ToString(), " on what protobuf accepts");
    if (batch->leads.size() != static_cast<size_t>(parsed.leads_size())) {
      return absl::StrCat(batch->leads.size(), " leads split, protobuf reads ",
                          parsed.leads_size());
    }
    for (int j = 0; j < parsed.leads_size(); ++j) {
      v1::Lead lead;
      if (!lead.ParseFromString(std::string(batch->leads[j]))) {
        return absl::StrCat("lead ", j, " split into bytes protobuf rejects");
      }
      if (Canonical(lead) != Canonical(parsed.leads(j))) {
        return absl::StrCat("lead ", j, " differs");
      }
    }
    if (Canonical(batch->options) != Canonical(parsed.options())) {
      return "options differ";
    }
    return "";
  }
  if (split.ok()) {
    // Then a lead must be what protobuf rejected.
    for (absl::string_view lead : batch->leads) {
      v1::Lead l;
      if (!l.ParseFromString(std::string(lead))) return "";
    }
    return "protobuf rejects a request whose leads it all accepts";
  }
  return "";
}

std::string CompareRouteSplit(const std::string& bytes,
                              RouteRequestBytes* request) {
  v1::RouteRequest parsed;
  const bool proto_ok = parsed.ParseFromString(bytes);
  const absl::Status split = SplitRouteRequest(bytes, request);
  if (!split.ok() && split.code() != absl::StatusCode::kInvalidArgument) {
    return absl::StrCat("not INVALID_ARGUMENT: ", split.ToString());
  }
  // How often the lead occurs, as protobuf's generic parse counts it: the
  // splitter refuses more than one, which protobuf would merge.
  google::protobuf::UnknownFieldSet fields;
  int leads = 0;
  if (fields.ParseFromString(bytes)) {
    for (int i = 0; i < fields.field_count(); ++i) {
      const google::protobuf::UnknownField& f = fields.field(i);
      if (f.number() == 1 &&
          f.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
        ++leads;
      }
    }
  }
  if (!proto_ok) {
    if (!split.ok()) return "";
    // Then the lead must be what protobuf rejected.
    v1::Lead l;
    if (request->has_lead && !l.ParseFromString(std::string(request->lead))) {
      return "";
    }
    return "protobuf rejects a request whose lead it accepts";
  }
  if (leads > 1) {
    return ErrorField(split) == "lead"
               ? ""
               : absl::StrCat(leads, " leads not refused as \"lead\": ",
                              split.ToString());
  }
  if (!split.ok()) {
    return absl::StrCat(split.ToString(), " on what protobuf accepts");
  }
  if (request->has_lead != parsed.has_lead()) {
    return absl::StrCat("has_lead ", request->has_lead, ", protobuf reads ",
                        parsed.has_lead());
  }
  v1::Lead lead;
  if (!lead.ParseFromString(std::string(request->lead))) {
    return "the lead split into bytes protobuf rejects";
  }
  if (Canonical(lead) != Canonical(parsed.lead())) return "the lead differs";
  if (Canonical(request->options) != Canonical(parsed.options())) {
    return "options differ";
  }
  return "";
}

}  // namespace leadroute
