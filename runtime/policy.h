// Policy: the one interface the service routes through. A Policy is built
// once, never changed, and shared by every call (Decide is const and
// thread-safe); reloading means swapping in a new Policy.
#ifndef LEADROUTE_RUNTIME_POLICY_H_
#define LEADROUTE_RUNTIME_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/decision.h"
#include "runtime/lead.h"

namespace leadroute::runtime {

struct DecideOptions {
  absl::Time received_at;              // the SLA clock starts here
  bool explain = false;                // fill in the explanation
  std::vector<std::string> why_not{};  // rules to explain as alternatives
};

class Policy {
 public:
  virtual ~Policy() = default;

  // The decision for `lead`, or INVALID_ARGUMENT (a field error,
  // base/field_error.h) when the lead does not fit the policy's schema.
  virtual absl::StatusOr<Decision> Decide(
      const Lead& lead, const DecideOptions& options) const = 0;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_POLICY_H_
