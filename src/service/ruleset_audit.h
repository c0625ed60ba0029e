// The audit trail of rulesets: every ruleset made live (loaded from the
// --rules files, published, rolled back to), scheduled, or set to run as
// the shadow is one entry, with who did it, from where, and what ran
// before and after. With state, the ruleset the store keeps and its entry
// are one commit: a crash never keeps one without the other.
#ifndef LEADROUTE_SRC_SERVICE_RULESET_AUDIT_H_
#define LEADROUTE_SRC_SERVICE_RULESET_AUDIT_H_

#include <optional>
#include <string>

#include "runtime/assigner.h"
#include "src/service/ruleset_registry.h"

namespace leadroute {

// "revision 2 fingerprint 4e9575bc10fd32c9 (acme-inbound 2026.11.1)".
std::string DescribeRuleset(const Ruleset& r);

// Records that `now` replaced `before` (null at start): a log line always
// (`msg=audit`), and with state (`assigner` not null) an AuditRecord,
// durable before this returns; a failure is logged. rules.activate for a
// scheduled one at its time, rules.rollback when `now` is an older
// revision, rules.publish for a published one, rules.promote for a
// promoted shadow, rules.load for the files.
//
// With `files_fingerprint` (the --rules files' fingerprint of the moment),
// the same commit keeps `now` and its files as the store's live ruleset,
// for replicas (issue 22) and a restart; a builtin ruleset has no files to
// keep.
void AuditRulesetLive(runtime::Assigner* assigner, const Ruleset* before,
                      const Ruleset& now, const runtime::Actor& by,
                      std::optional<std::string> files_fingerprint);

// Records that `scheduled` was scheduled to go live (rules.schedule), or,
// null, that the schedule was cancelled (rules.unschedule), likewise; with
// state, in the commit that keeps the schedule (or its end) in the store.
void AuditRulesetSchedule(runtime::Assigner* assigner, const Ruleset* scheduled,
                          const runtime::Actor& by);

// Records that `now` runs as the shadow in place of `before`
// (rules.shadow), or, `now` null, that shadowing stopped
// (rules.unshadow), likewise. A shadow is never kept in the store.
void AuditShadow(runtime::Assigner* assigner, const Ruleset* before,
                 const Ruleset* now, const runtime::Actor& by);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_RULESET_AUDIT_H_
