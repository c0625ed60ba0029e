// What protobuf's own parser makes of some bytes, and whether LeadReader
// and SplitBatchRequest / SplitRouteRequest agree with it. Shared by the
// differential tests (lead_wire_test.cc) and the libFuzzer target
// (fuzz/lead_wire_fuzzer.cc), so both hold the reader to the same oracle.
#ifndef LEADROUTE_TESTS_SRC_LEAD_WIRE_ORACLE_H_
#define LEADROUTE_TESTS_SRC_LEAD_WIRE_ORACLE_H_

#include <string>

#include "google/protobuf/message.h"
#include "src/wire/lead_reader.h"

namespace leadroute {

// A message's bytes with map entries in key order, to compare messages
// (NaN included, which MessageDifferencer holds unequal to itself).
std::string Canonical(const google::protobuf::Message& m);

struct LeadAgreement {
  bool proto_accepted = false;  // v1::Lead::ParseFromString took the bytes
  std::string mismatch;         // empty when the reader agrees
};

// Reads `bytes` as a leadroute.v1.Lead both ways. They agree when both
// reject them, or when the reader rejects an attribute protobuf parsed but
// whose value LeadFromProto refuses (no member set, a time out of range),
// naming it, or when both read the same id and the same attributes
// (doubles bit for bit).
LeadAgreement CompareLeadReading(const std::string& bytes, LeadReader& reader);

// Splits `bytes` as a leadroute.v1.RouteBatchRequest both ways. When
// protobuf accepts them, the splitter must give the same leads and
// options; when it rejects them, the splitter must too, unless it is a
// lead's own bytes protobuf rejected (those fail later, alone). Returns
// the first difference, or "".
std::string CompareBatchSplit(const std::string& bytes,
                              BatchRequestBytes* batch);

// The same for a leadroute.v1.RouteRequest: whether it has a lead, the
// lead and the options; a lead given more than once, which protobuf
// merges, must be refused naming "lead".
std::string CompareRouteSplit(const std::string& bytes,
                              RouteRequestBytes* request);

}  // namespace leadroute

#endif  // LEADROUTE_TESTS_SRC_LEAD_WIRE_ORACLE_H_
