// google.protobuf.Timestamp and Duration <-> absl::Time and absl::Duration,
// with Timestamp's documented range checked: shared by the proto
// conversions (convert.h) and the wire reader and writer.
#ifndef LEADROUTE_SRC_WIRE_PROTO_TIME_H_
#define LEADROUTE_SRC_WIRE_PROTO_TIME_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace leadroute {

// A Timestamp's seconds and nanos as a time; INVALID_ARGUMENT outside
// Timestamp's documented range (years 1 to 9999).
absl::StatusOr<absl::Time> TimeFromParts(int64_t seconds, int32_t nanos);
absl::StatusOr<absl::Time> TimeFromProto(const google::protobuf::Timestamp& t);
void TimeToProto(absl::Time t, google::protobuf::Timestamp* out);
void DurationToProto(absl::Duration d, google::protobuf::Duration* out);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_WIRE_PROTO_TIME_H_
