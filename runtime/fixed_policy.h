// FixedPolicy: the built-in demo policy `serve` uses when it is given no
// --rules. Every lead goes to the "inbound" queue; a demo request is high
// priority (1h SLA, phone), anything else normal (24h, email). It reads two
// typed attributes, `source` (string) and `score` (int), and rejects a lead
// whose values have the wrong type, like a compiled ruleset will.
#ifndef LEADROUTE_RUNTIME_FIXED_POLICY_H_
#define LEADROUTE_RUNTIME_FIXED_POLICY_H_

#include "runtime/policy.h"

namespace leadroute::runtime {

class FixedPolicy final : public Policy {
 public:
  absl::StatusOr<Decision> Decide(const Lead& lead,
                                  const DecideOptions& options) const override;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_FIXED_POLICY_H_
