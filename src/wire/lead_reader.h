// Leads read straight from protobuf's wire format. RouteBatch hands each
// lead's bytes to a LeadReader and binds its attributes to the program's
// slots as they are, instead of parsing protobuf maps and then building a
// runtime::Lead per lead: those two steps were most of a batch's cost. (Its
// answer is written the same way: decision_writer.h.)
//
// The reader keeps protobuf's semantics to the letter, so a request means
// what it would mean to any protobuf parser: fields in any order, unknown
// fields (groups too) skipped, a field of the wrong wire type treated as
// unknown, the last of a repeated scalar winning, a oneof member replacing
// the previous one and a repeated message member merging into it, a map
// entry replacing an earlier entry with the same key, proto3 strings
// checked as UTF-8. It makes the checks LeadFromProto makes, with the same
// errors; LeadFromProto goes through it, so there is one lead decoder.
// tests/src/wire/lead_wire_test.cc holds it to protobuf's own parser on
// generated and corrupted input, and tests/fuzz/lead_wire_fuzzer.cc on
// whatever libFuzzer makes.
#ifndef LEADROUTE_SRC_WIRE_LEAD_READER_H_
#define LEADROUTE_SRC_WIRE_LEAD_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "leadroute/v1/leadroute.pb.h"
#include "runtime/lead.h"
#include "runtime/value.h"

namespace leadroute {

// A serialised RouteBatchRequest, split: the leads stay bytes, views into
// the request, to be read one at a time.
struct BatchRequestBytes {
  std::vector<absl::string_view> leads;  // leadroute.v1.Lead, in order
  v1::RouteOptions options;              // every occurrence merged
};

// Splits `bytes`, a serialised leadroute.v1.RouteBatchRequest. Errors:
// INVALID_ARGUMENT when the bytes are not one (a lead's own bytes are
// checked only when it is read, so a bad lead fails alone).
absl::Status SplitBatchRequest(absl::string_view bytes, BatchRequestBytes* out);

// A serialised RouteRequest, split the same way: the lead stays bytes, a
// view into the request.
struct RouteRequestBytes {
  bool has_lead = false;
  absl::string_view lead;    // leadroute.v1.Lead
  v1::RouteOptions options;  // every occurrence merged
};

// Splits `bytes`, a serialised leadroute.v1.RouteRequest, so that unary
// Route reads its lead from the request's own bytes, as RouteBatch does.
// Errors as SplitBatchRequest's, and one that protobuf would not give: a
// lead that occurs more than once is refused (field "lead"), where
// protobuf merges the occurrences; no client library writes that, and
// merging bytes the reader has not checked one by one could read as a lead
// what protobuf refuses.
absl::Status SplitRouteRequest(absl::string_view bytes, RouteRequestBytes* out);

// True when `s` is well-formed UTF-8 (what proto3 requires of a string).
bool IsValidUtf8(absl::string_view s);

// Reads serialised leadroute.v1.Lead messages, one after another; its
// memory is kept from one lead to the next.
class LeadReader {
 public:
  struct Attribute {
    absl::string_view name;  // a view into the lead's bytes
    runtime::Value value;
  };

  // Reads `bytes`. Errors, as INVALID_ARGUMENT naming the field (see
  // base/field_error.h), in this order: bytes that are not a Lead; a lead
  // whose id and attributes add up to more than `max_bytes` (naming its
  // largest field); an attribute whose Value has no member set or a
  // timestamp out of range. The id is not checked here (the runtime does).
  absl::Status Read(absl::string_view bytes, size_t max_bytes);

  // After a successful Read: the lead's id and its attributes, each name
  // once, in the order the bytes first give them. The id and names are
  // views into the bytes given to Read. Callers may move the values out.
  absl::string_view id() const { return id_; }
  std::vector<Attribute>& attributes() { return attributes_; }

  // After a successful Read: the lead as a runtime::Lead, for a policy
  // that decides on one. The values are moved out.
  runtime::Lead TakeLead();

 private:
  // A Value as read so far: the fields of the member set last.
  struct WireValue {
    int kind = 0;  // v1::Value::KindCase; 0 when no member is set
    absl::string_view text;
    uint64_t bits = 0;  // int, double (its bits) or bool
    int64_t seconds = 0;
    int32_t nanos = 0;
    std::vector<absl::string_view> list;
  };
  struct Entry {
    absl::string_view name;
    WireValue value;
  };

  absl::Status Parse(absl::string_view bytes);
  absl::Status ParseEntry(absl::string_view bytes);
  // Finishes the entry at entries_[pending_], merging it into an earlier
  // one with the same name.
  void Commit();

  size_t max_bytes_ = 0;   // Read's limit
  size_t list_bytes_ = 0;  // of the list items read so far, each 1 more
  absl::string_view id_;
  std::vector<Entry> entries_;  // entries_[0, count_) are this lead's
  size_t count_ = 0;
  absl::flat_hash_map<absl::string_view, size_t> index_;  // many entries only
  std::vector<Attribute> attributes_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_WIRE_LEAD_READER_H_
