// Writing decisions in protobuf's wire format; see the header.
#include "src/wire/decision_writer.h"

#include "base/field_error.h"
#include "src/wire/convert.h"
#include "src/wire/proto_time.h"
#include "src/wire/wire_format.h"

namespace leadroute {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutTag(uint32_t field, WireType type, std::string* out) {
  PutVarint((field << 3) | type, out);
}

// Proto3 leaves out scalars equal to their default; so do these. Signed
// values are sign-extended to 64 bits, as protobuf writes int32 and enums.
size_t IntSize(int64_t v) {
  return v == 0 ? 0 : 1 + VarintSize(static_cast<uint64_t>(v));
}
void PutInt(uint32_t field, int64_t v, std::string* out) {
  if (v == 0) return;
  PutTag(field, kVarint, out);
  PutVarint(static_cast<uint64_t>(v), out);
}

// The sizes of fields of a message's first 15 numbers, whose tags are one
// byte: all that nested messages here have.
size_t StringSize(absl::string_view s) {
  return s.empty() ? 0 : 1 + VarintSize(s.size()) + s.size();
}
void PutString(uint32_t field, absl::string_view s, std::string* out) {
  if (s.empty()) return;
  AppendField(field, s, out);
}

// A message field always appears, however empty its body.
void PutHeader(uint32_t field, size_t size, std::string* out) {
  PutTag(field, kLength, out);
  PutVarint(size, out);
}

// google.protobuf.Timestamp and Duration share their layout.
void PutSecondsNanos(uint32_t field, int64_t seconds, int32_t nanos,
                     std::string* out) {
  PutHeader(field, IntSize(seconds) + IntSize(nanos), out);
  PutInt(1, seconds, out);
  PutInt(2, nanos, out);
}

void PutTime(uint32_t field, absl::Time t, std::string* out) {
  google::protobuf::Timestamp proto;  // the split TimeToProto makes
  TimeToProto(t, &proto);
  PutSecondsNanos(field, proto.seconds(), proto.nanos(), out);
}

void PutRuleRef(uint32_t field, const runtime::RuleRef& r, std::string* out) {
  PutHeader(field,
            StringSize(r.stage) + StringSize(r.rule) + StringSize(r.location),
            out);
  PutString(1, r.stage, out);
  PutString(2, r.rule, out);
  PutString(3, r.location, out);
}

}  // namespace

void AppendField(uint32_t field, absl::string_view bytes, std::string* out) {
  PutHeader(field, bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

void AppendDecision(const runtime::Decision& d, const DecisionExtras& extras,
                    std::string* out) {
  PutString(1, d.lead_id, out);
  PutString(2, d.owner, out);
  PutInt(3, OwnerKindToProto(d.owner_kind), out);
  PutString(4, d.team, out);
  if (d.priority) {
    PutHeader(5, StringSize(d.priority->label) + IntSize(d.priority->rank),
              out);
    PutString(1, d.priority->label, out);
    PutInt(2, d.priority->rank, out);
  }
  if (d.sla) {
    google::protobuf::Duration sla;
    DurationToProto(*d.sla, &sla);
    PutSecondsNanos(6, sla.seconds(), sla.nanos(), out);
  }
  if (d.respond_by) PutTime(7, *d.respond_by, out);
  PutString(8, d.channel, out);
  PutHeader(9,
            StringSize(d.ruleset_name) + StringSize(d.ruleset_version) +
                IntSize(extras.revision) + StringSize(extras.fingerprint),
            out);
  PutString(1, d.ruleset_name, out);
  PutString(2, d.ruleset_version, out);
  PutInt(3, extras.revision, out);
  PutString(4, extras.fingerprint, out);
  for (const runtime::RuleRef& r : d.decided_by) PutRuleRef(10, r, out);
  PutInt(11, d.score, out);
  if (d.explanation) {
    v1::Explanation explanation;
    ExplanationToProto(*d.explanation, &explanation);
    AppendField(12, explanation.SerializeAsString(), out);
  }
  PutString(13, d.decision_id.empty() ? extras.decision_id : d.decision_id,
            out);
  PutInt(14, d.replayed, out);
  PutString(15, d.repeat_of, out);
  for (const std::string& s : d.skipped) AppendField(16, s, out);
  if (d.decided_at) PutTime(17, *d.decided_at, out);
  PutString(18, d.escalation, out);
}

void AppendBatchResult(bool decided, absl::string_view body, std::string* out) {
  PutHeader(1, 1 + VarintSize(body.size()) + body.size(), out);
  AppendField(decided ? 1 : 2, body, out);
}

void AppendError(const absl::Status& status, absl::string_view lead_id,
                 std::string* out) {
  PutInt(1, static_cast<int32_t>(status.code()), out);
  PutString(2, status.message(), out);
  PutString(3, lead_id, out);
  PutString(4, ErrorField(status), out);
}

}  // namespace leadroute
