// Comparing two decisions field by field, for tests that hold the decision
// trees to the reference interpreter: "" when equal, else what differs.
#ifndef LEADROUTE_TESTS_RUNTIME_SAME_DECISION_H_
#define LEADROUTE_TESTS_RUNTIME_SAME_DECISION_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/decision.h"

namespace leadroute::tests {

inline std::string DecisionText(const runtime::Decision& d) {
  std::string out = absl::StrCat(
      "owner=", static_cast<int>(d.owner_kind), ":", d.owner, " team=", d.team,
      " priority=", d.priority ? d.priority->label : "-",
      " sla=", d.sla ? absl::FormatDuration(*d.sla) : "-",
      " respond_by=", d.respond_by ? absl::FormatTime(*d.respond_by) : "-",
      " channel=", d.channel, " score=", d.score, " decided_by=");
  for (const runtime::RuleRef& r : d.decided_by) {
    absl::StrAppend(&out, r.stage, "/", r.rule, "@", r.location, ",");
  }
  return out;
}

inline std::string Difference(const runtime::Decision& a,
                              const runtime::Decision& b) {
  const std::string x = DecisionText(a), y = DecisionText(b);
  return x == y ? "" : absl::StrCat("\n  ", x, "\n  ", y);
}

}  // namespace leadroute::tests

#endif  // LEADROUTE_TESTS_RUNTIME_SAME_DECISION_H_
