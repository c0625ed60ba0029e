// Reading leads and batches from protobuf's wire format; see the header.
#include "src/wire/lead_reader.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/field_error.h"
#include "base/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "runtime/lead_error.h"
#include "src/wire/proto_time.h"
#include "src/wire/wire_format.h"

namespace leadroute {
namespace {

// Protobuf's own limit on nested messages and groups.
constexpr int kMaxDepth = 100;

// From here on, a map of a lead's attribute names instead of a scan.
constexpr size_t kScanEntries = 16;

// Reads wire-format primitives from one message's bytes. Every read fails
// (returns false) rather than run past the end.
class Input {
 public:
  explicit Input(absl::string_view bytes)
      : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool done() const { return p_ == end_; }

  // A varint of up to 10 bytes; bits past 64 are dropped, as protobuf does.
  bool Varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ == end_) return false;
      const uint8_t b = static_cast<uint8_t>(*p_++);
      if (shift < 64) v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        *out = v;
        return true;
      }
    }
    return false;
  }

  // A tag: a varint of at most 5 bytes, kept to its low 32 bits (as
  // protobuf does); field number 0 is invalid.
  bool Tag(uint32_t* field, uint32_t* wire_type) {
    uint64_t tag = 0;
    const char* start = p_;
    if (!Varint(&tag) || p_ - start > 5) return false;
    *field = static_cast<uint32_t>(tag) >> 3;
    *wire_type = static_cast<uint32_t>(tag) & 7;
    return *field != 0;
  }

  // A length-delimited field's bytes; lengths take at most 5 bytes and
  // stay under 2 GiB, as protobuf requires.
  bool Bytes(absl::string_view* out) {
    uint64_t n = 0;
    const char* start = p_;
    if (!Varint(&n) || p_ - start > 5 || n > 0x7fffffffu) return false;
    if (n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = absl::string_view(p_, n);
    p_ += n;
    return true;
  }

  bool Fixed64(uint64_t* out) {
    if (end_ - p_ < 8) return false;
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p_[i]);
    p_ += 8;
    *out = v;
    return true;
  }

  // Skips a field this reader does not know, whose tag was just read.
  bool Skip(uint32_t field, uint32_t wire_type, int depth) {
    uint64_t ignored = 0;
    absl::string_view bytes;
    switch (wire_type) {
      case kVarint:
        return Varint(&ignored);
      case kFixed64:
        return Fixed64(&ignored);
      case kLength:
        return Bytes(&bytes);
      case kFixed32:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      case kStartGroup: {
        if (depth >= kMaxDepth) return false;
        uint32_t inner = 0, inner_type = 0;
        while (Tag(&inner, &inner_type)) {
          if (inner_type == kEndGroup) return inner == field;
          if (!Skip(inner, inner_type, depth + 1)) return false;
        }
        return false;  // no end-group tag
      }
      default:  // an end-group tag without a start, or no wire type at all
        return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

absl::Status NotALead() {
  return absl::InvalidArgumentError(
      "the lead's bytes are not a valid leadroute.v1.Lead message");
}

constexpr absl::string_view kNotUtf8 = "not valid UTF-8";

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Runs of ASCII, 8 bytes at a time.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if (word & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p == end) break;
    const uint8_t b = *p;
    if (b < 0x80) {
      ++p;
      continue;
    }
    // Well-formed sequences (Unicode 15, table 3-7): no overlong forms,
    // no surrogates, nothing past U+10FFFF.
    int n = 0;
    uint8_t lo = 0x80, hi = 0xbf;  // the bounds of the second byte
    if (b >= 0xc2 && b <= 0xdf) {
      n = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b == 0xe0) lo = 0xa0;
      if (b == 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b == 0xf0) lo = 0x90;
      if (b == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int i = 2; i <= n; ++i) {
      if (p[i] < 0x80 || p[i] > 0xbf) return false;
    }
    p += n + 1;
  }
  return true;
}

namespace {

// RouteRequest and RouteBatchRequest share their layout: field 1 the
// lead(s), field 2 the options. `message` names the one being split.
absl::Status SplitRequest(absl::string_view bytes, absl::string_view message,
                          std::vector<absl::string_view>* leads,
                          v1::RouteOptions* options) {
  leads->clear();
  options->Clear();
  Input in(bytes);
  while (!in.done()) {
    uint32_t field = 0, wire_type = 0;
    absl::string_view value;
    bool ok = in.Tag(&field, &wire_type);
    if (ok && field == 1 && wire_type == kLength) {
      ok = in.Bytes(&value);
      leads->push_back(value);
    } else if (ok && field == 2 && wire_type == kLength) {
      // Each occurrence merges into the options, as protobuf's parse does.
      ok = in.Bytes(&value);
      google::protobuf::io::CodedInputStream stream(
          reinterpret_cast<const uint8_t*>(value.data()),
          static_cast<int>(value.size()));
      if (ok && !(options->MergeFromCodedStream(&stream) &&
                  stream.ConsumedEntireMessage())) {
        return absl::InvalidArgumentError(
            "options: not a valid leadroute.v1.RouteOptions message");
      }
    } else if (ok) {
      ok = in.Skip(field, wire_type, 1);
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the request is not a valid leadroute.v1.", message, " message"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SplitBatchRequest(absl::string_view bytes,
                               BatchRequestBytes* out) {
  return SplitRequest(bytes, "RouteBatchRequest", &out->leads, &out->options);
}

absl::Status SplitRouteRequest(absl::string_view bytes,
                               RouteRequestBytes* out) {
  std::vector<absl::string_view> leads;
  RETURN_IF_ERROR(SplitRequest(bytes, "RouteRequest", &leads, &out->options));
  if (leads.size() > 1) {
    return InvalidFieldError(
        "lead", absl::StrCat("given ", leads.size(),
                             " times; a RouteRequest has one lead (use "
                             "RouteBatch for several)"));
  }
  out->has_lead = !leads.empty();
  out->lead = out->has_lead ? leads.front() : absl::string_view();
  return absl::OkStatus();
}

absl::Status LeadReader::Parse(absl::string_view bytes) {
  id_ = {};
  count_ = 0;
  index_.clear();
  Input in(bytes);
  while (!in.done()) {
    uint32_t field = 0, wire_type = 0;
    if (!in.Tag(&field, &wire_type)) return NotALead();
    absl::string_view value;
    if (field == 1 && wire_type == kLength) {
      if (!in.Bytes(&value)) return NotALead();
      if (!IsValidUtf8(value)) return InvalidFieldError("id", kNotUtf8);
      id_ = value;
    } else if (field == 2 && wire_type == kLength) {
      if (!in.Bytes(&value)) return NotALead();
      RETURN_IF_ERROR(ParseEntry(value));
    } else if (!in.Skip(field, wire_type, 1)) {
      return NotALead();
    }
  }
  return absl::OkStatus();
}

absl::Status LeadReader::ParseEntry(absl::string_view bytes) {
  if (count_ == entries_.size()) entries_.emplace_back();
  Entry& e = entries_[count_];
  e.name = {};
  WireValue& v = e.value;
  // A member set anew clears the others; a message member read again
  // merges into itself (v.kind unchanged).
  auto set_kind = [&v](int kind) {
    v.kind = kind;
    v.list.clear();
    v.seconds = 0;
    v.nanos = 0;
  };
  set_kind(0);
  Input entry(bytes);
  while (!entry.done()) {
    uint32_t field = 0, wire_type = 0;
    if (!entry.Tag(&field, &wire_type)) return NotALead();
    absl::string_view value_bytes;
    if (field == 1 && wire_type == kLength) {
      if (!entry.Bytes(&e.name)) return NotALead();
      if (!IsValidUtf8(e.name))
        return InvalidFieldError("attributes", kNotUtf8);
      continue;
    }
    if (field != 2 || wire_type != kLength) {
      if (!entry.Skip(field, wire_type, 3)) return NotALead();
      continue;
    }
    // A leadroute.v1.Value.
    if (!entry.Bytes(&value_bytes)) return NotALead();
    Input in(value_bytes);
    while (!in.done()) {
      if (!in.Tag(&field, &wire_type)) return NotALead();
      absl::string_view sub;
      uint64_t x = 0;
      bool ok = true;
      if (field == 1 && wire_type == kLength) {
        ok = in.Bytes(&sub);
        if (ok && !IsValidUtf8(sub)) {
          return runtime::InvalidAttribute(e.name, kNotUtf8);
        }
        set_kind(v1::Value::kStringValue);
        v.text = sub;
      } else if ((field == 2 || field == 4) && wire_type == kVarint) {
        ok = in.Varint(&x);
        set_kind(field == 2 ? v1::Value::kIntValue : v1::Value::kBoolValue);
        v.bits = field == 2 ? x : (x != 0);
      } else if (field == 3 && wire_type == kFixed64) {
        ok = in.Fixed64(&x);
        set_kind(v1::Value::kNumberValue);
        v.bits = x;
      } else if (field == 5 && wire_type == kLength) {
        // google.protobuf.Timestamp {int64 seconds = 1; int32 nanos = 2;}
        ok = in.Bytes(&sub);
        if (v.kind != v1::Value::kTimeValue) set_kind(v1::Value::kTimeValue);
        Input t(sub);
        while (ok && !t.done()) {
          ok = t.Tag(&field, &wire_type);
          if (ok && (field == 1 || field == 2) && wire_type == kVarint) {
            ok = t.Varint(&x);
            if (field == 1) v.seconds = static_cast<int64_t>(x);
            if (field == 2) v.nanos = static_cast<int32_t>(x);
          } else if (ok) {
            ok = t.Skip(field, wire_type, 5);
          }
        }
      } else if (field == 6 && wire_type == kLength) {
        // leadroute.v1.StringList {repeated string values = 1;}
        ok = in.Bytes(&sub);
        if (v.kind != v1::Value::kListValue) set_kind(v1::Value::kListValue);
        Input list(sub);
        while (ok && !list.done()) {
          absl::string_view item;
          ok = list.Tag(&field, &wire_type);
          if (ok && field == 1 && wire_type == kLength) {
            ok = list.Bytes(&item);
            if (ok && !IsValidUtf8(item)) {
              return runtime::InvalidAttribute(e.name, kNotUtf8);
            }
            // Bounded while reading: list items cost memory before the
            // lead's size is known, so a list cannot outgrow the limit.
            list_bytes_ += item.size() + 1;
            if (list_bytes_ > max_bytes_) {
              return InvalidFieldError(
                  absl::StrCat("attributes.", e.name),
                  absl::StrCat("the lead's lists pass ", max_bytes_,
                               " bytes, the limit for a whole lead, at this "
                               "one's item ",
                               v.list.size() + 1));
            }
            v.list.push_back(item);
          } else if (ok) {
            ok = list.Skip(field, wire_type, 5);
          }
        }
      } else {
        ok = in.Skip(field, wire_type, 4);
      }
      if (!ok) return NotALead();
    }
  }
  Commit();
  return absl::OkStatus();
}

void LeadReader::Commit() {
  // A later entry for the same name replaces the earlier one (a protobuf
  // map's rule), keeping the earlier one's place.
  Entry& e = entries_[count_];
  size_t earlier = count_;
  if (count_ < kScanEntries) {
    for (size_t i = 0; i < count_; ++i) {
      if (entries_[i].name == e.name) earlier = i;
    }
    if (earlier == count_ && count_ + 1 == kScanEntries) {
      for (size_t i = 0; i <= count_; ++i) index_[entries_[i].name] = i;
    }
  } else {
    auto [it, added] = index_.try_emplace(e.name, count_);
    if (!added) earlier = it->second;
  }
  if (earlier == count_) {
    ++count_;
  } else {
    std::swap(entries_[earlier].value, e.value);
  }
}

absl::Status LeadReader::Read(absl::string_view bytes, size_t max_bytes) {
  attributes_.clear();
  max_bytes_ = max_bytes;
  list_bytes_ = 0;
  RETURN_IF_ERROR(Parse(bytes));
  // One pass sizes and converts; a size error comes before a value error.
  size_t total = id_.size();
  size_t largest = 0;
  const Entry* largest_entry = nullptr;
  absl::Status first_error;
  for (size_t i = 0; i < count_; ++i) {
    const Entry& e = entries_[i];
    const WireValue& v = e.value;
    size_t n = e.name.size();
    if (v.kind == v1::Value::kStringValue) {
      n += v.text.size();
    } else if (v.kind == v1::Value::kListValue) {
      for (absl::string_view s : v.list) n += s.size() + 1;
    } else {
      n += 8;
    }
    total += n;
    if (n > largest) {
      largest = n;
      largest_entry = &e;
    }
    if (!first_error.ok()) continue;
    runtime::Value value;
    switch (v.kind) {
      case v1::Value::kStringValue:
        value = std::string(v.text);
        break;
      case v1::Value::kIntValue:
        value = static_cast<int64_t>(v.bits);
        break;
      case v1::Value::kNumberValue: {
        double d;
        std::memcpy(&d, &v.bits, sizeof d);
        value = d;
        break;
      }
      case v1::Value::kBoolValue:
        value = v.bits != 0;
        break;
      case v1::Value::kTimeValue: {
        absl::StatusOr<absl::Time> t = TimeFromParts(v.seconds, v.nanos);
        if (!t.ok()) {
          first_error = runtime::InvalidAttribute(e.name, t.status().message());
          continue;
        }
        value = *t;
        break;
      }
      case v1::Value::kListValue:
        value = std::vector<std::string>(v.list.begin(), v.list.end());
        break;
      default:
        first_error =
            runtime::InvalidAttribute(e.name, "value has no member set");
        continue;
    }
    attributes_.push_back({e.name, std::move(value)});
  }
  if (total > max_bytes) {
    const bool id_largest = largest_entry == nullptr || id_.size() > largest;
    return InvalidFieldError(
        id_largest ? "id" : absl::StrCat("attributes.", largest_entry->name),
        absl::StrCat("the lead is ", total, " bytes, over the limit of ",
                     max_bytes, "; its largest field is this one, ",
                     id_largest ? id_.size() : largest, " bytes"));
  }
  return first_error;
}

runtime::Lead LeadReader::TakeLead() {
  runtime::Lead lead;
  lead.id = std::string(id_);
  lead.attributes.reserve(attributes_.size());
  for (Attribute& a : attributes_) {
    lead.attributes.emplace(a.name, std::move(a.value));
  }
  return lead;
}

}  // namespace leadroute
