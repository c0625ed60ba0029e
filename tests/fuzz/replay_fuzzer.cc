// libFuzzer target over what `leadroute replay --decision-log` reads: any
// line must become a logged decision or an error naming a field — never a
// crash, a hang or a sanitizer report — and a decision read must replay
// through runtime::Replayer (both sides, the report, its examples; keyed
// hashes resolved under a key) against a ruleset whose schema has every
// type.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/keyed_hash.h"
#include "compiler/compiler.h"
#include "runtime/replay.h"
#include "src/service/decision_log_reader.h"

namespace {

constexpr const char* kRules = R"(ruleset "fuzz" version "1"
schema {
  email: string pii
  country: string required
  employees: int default 0
  share: number
  vip: bool
  tags: list
  seen: time
  tier: enum { gold, silver } on unknown silver
}
rep ann {}
team emea { members = [ann] }
queue triage
assign {
  rule emea when country in ["DE", "FR"] and employees >= 10 then team emea else queue triage
  rule vip when vip or tags contains "x" then rep ann
  rule fresh when seen within 2d then queue triage
  rule mail when domain(email) == "example.com" then queue triage
  otherwise queue triage
}
priority {
  labels high > normal
  rule gold when tier == gold or share > 0.5 then high
  otherwise normal
}
sla { otherwise 1h }
)";

const std::shared_ptr<const leadroute::runtime::Program>& Program() {
  static const auto* p = new std::shared_ptr<const leadroute::runtime::Program>(
      leadroute::compiler::CheckText("fuzz.route", kRules).program);
  if (*p == nullptr) std::abort();
  return *p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  leadroute::LoggedDecision logged;
  absl::Status s = leadroute::ReadDecisionLine(line, &logged);
  if (!s.ok()) {
    if (s.message().empty()) std::abort();
    return 0;
  }
  if (!logged.shadow_of.empty()) return 0;  // a shadow's line: skipped
  if (logged.lead_id.empty()) std::abort();
  // As `leadroute replay` runs it: each lead's rep chosen too.
  leadroute::runtime::ReplayOptions options;
  options.examples = 1;
  options.max_transitions = 4;
  options.max_rejections = 2;
  options.simulate_reps = true;
  // Keyed hashes are resolved under a key (one of the seeds' is another).
  static const auto* key = new std::shared_ptr<const leadroute::KeyedHash>(
      std::make_shared<const leadroute::KeyedHash>(
          *leadroute::KeyedHash::FromKey(std::string(32, 'k'))));
  options.key = *key;
  leadroute::runtime::Replayer recorded(Program(), nullptr, options);
  leadroute::runtime::Replayer against(Program(), Program(), options);
  std::vector<leadroute::runtime::ReplayAttribute> copy = logged.attributes;
  recorded.Add(logged.lead_id, logged.received_at, logged.attributes,
               &logged.decision, logged.masked, logged.hashed);
  against.Add(logged.lead_id, logged.received_at, copy, nullptr, logged.masked,
              logged.hashed);
  const leadroute::runtime::ReplayReport r = recorded.Report();
  const leadroute::runtime::ReplayReport a = against.Report();
  if (r.leads + r.rejected_after != 1) std::abort();
  // The same rules on both sides change nothing.
  if (a.changed_any != 0 || a.leads != r.leads) std::abort();
  return 0;
}
