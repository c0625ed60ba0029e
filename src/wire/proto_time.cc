// Timestamp and Duration conversions; see the header.
#include "src/wire/proto_time.h"

#include "absl/strings/str_cat.h"

namespace leadroute {
namespace {

// Timestamp's documented range: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

}  // namespace

absl::StatusOr<absl::Time> TimeFromParts(int64_t seconds, int32_t nanos) {
  if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds ||
      nanos < 0 || nanos > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(
        "timestamp out of range: seconds=", seconds, " nanos=", nanos));
  }
  return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
}

absl::StatusOr<absl::Time> TimeFromProto(const google::protobuf::Timestamp& t) {
  return TimeFromParts(t.seconds(), t.nanos());
}

void TimeToProto(absl::Time t, google::protobuf::Timestamp* out) {
  // Seconds and what is left, not nanoseconds since 1970: an int64 of those
  // ends in 2262, and an `until` of 9999-12-31 must come back as sent.
  const int64_t seconds = absl::ToUnixSeconds(t);  // rounds down
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      (t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

void DurationToProto(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

}  // namespace leadroute
