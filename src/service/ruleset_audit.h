// The audit trail of rulesets: every ruleset made live (loaded from the
// --rules files, published, rolled back to) is one entry, with who made it
// live, from where, and the revision and fingerprint before and after.
#ifndef LEADROUTE_SRC_SERVICE_RULESET_AUDIT_H_
#define LEADROUTE_SRC_SERVICE_RULESET_AUDIT_H_

#include "runtime/assigner.h"
#include "src/service/ruleset_registry.h"

namespace leadroute {

// "revision 2 fingerprint 4e9575bc10fd32c9 (acme-inbound 2026.11.1)".
std::string DescribeRuleset(const Ruleset& r);

// Records that `now` replaced `before` (null at start): a log line always
// (`msg=audit`), and with state (`assigner` not null) an AuditRecord,
// durable before this returns. rules.activate for a scheduled one at its
// time, rules.rollback when `now` is an older revision, rules.publish for
// a published one, rules.promote for a promoted shadow, rules.load for the
// files.
void AuditRulesetLive(runtime::Assigner* assigner, const Ruleset* before,
                      const Ruleset& now, const runtime::Actor& by);

// Records that `scheduled` was scheduled to go live (rules.schedule), or,
// null, that the schedule was cancelled (rules.unschedule), likewise.
void AuditRulesetSchedule(runtime::Assigner* assigner, const Ruleset* scheduled,
                          const runtime::Actor& by);

// Records `now`, with its files and the --rules files' fingerprint of the
// moment, as the store's live ruleset (for replicas, issue 22, and for a
// restart), durable before this returns; logs a failure.
void RecordRulesetLive(runtime::Assigner* assigner, const Ruleset& now,
                       std::string files_fingerprint);
// Records `scheduled` (null: none) as the store's scheduled ruleset,
// likewise.
void RecordRulesetSchedule(runtime::Assigner* assigner,
                           const Ruleset* scheduled);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_RULESET_AUDIT_H_
