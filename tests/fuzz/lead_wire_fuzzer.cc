// libFuzzer target over the request bytes Route and RouteBatch read
// themselves: every input is read as a leadroute.v1.Lead by LeadReader and
// split as a RouteBatchRequest and as a RouteRequest, and all must agree with
// protobuf's own parser (tests/src/wire/lead_wire_oracle.h): the same inputs
// accepted, the same lead read. Any difference aborts, as does a crash or
// a sanitizer report. One reader serves every input, as it serves every
// lead of a batch, so state left over from one lead shows in the next.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/stubs/logging.h"
#include "src/wire/lead_reader.h"
#include "tests/src/wire/lead_wire_oracle.h"

namespace {

void Fail(const char* what, const std::string& mismatch) {
  std::fprintf(stderr, "%s: %s\n", what, mismatch.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every string it finds not to be UTF-8.
  static google::protobuf::LogSilencer* quiet =
      new google::protobuf::LogSilencer;
  (void)quiet;
  static leadroute::LeadReader* reader = new leadroute::LeadReader;
  static leadroute::BatchRequestBytes* batch = new leadroute::BatchRequestBytes;
  static leadroute::RouteRequestBytes* request =
      new leadroute::RouteRequestBytes;
  const std::string bytes(reinterpret_cast<const char*>(data), size);

  const leadroute::LeadAgreement lead =
      leadroute::CompareLeadReading(bytes, *reader);
  if (!lead.mismatch.empty()) Fail("LeadReader", lead.mismatch);
  // A size limit below the lead's size: refused with INVALID_ARGUMENT, or
  // read when the id and attributes fit.
  const absl::Status limited = reader->Read(bytes, size / 2);
  if (!limited.ok() && limited.code() != absl::StatusCode::kInvalidArgument) {
    Fail("LeadReader with a limit", limited.ToString());
  }

  const std::string split = leadroute::CompareBatchSplit(bytes, batch);
  if (!split.empty()) Fail("SplitBatchRequest", split);
  const std::string route = leadroute::CompareRouteSplit(bytes, request);
  if (!route.empty()) Fail("SplitRouteRequest", route);
  return 0;
}
