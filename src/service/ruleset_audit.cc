// Rulesets in the audit trail; see ruleset_audit.h.
#include "src/service/ruleset_audit.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/log.h"

namespace leadroute {

std::string DescribeRuleset(const Ruleset& r) {
  return absl::StrCat("revision ", r.revision, " fingerprint ", r.fingerprint,
                      " (", r.name, r.version.empty() ? "" : " ", r.version,
                      ")");
}

void AuditRulesetLive(runtime::Assigner* assigner, const Ruleset* before,
                      const Ruleset& now, const runtime::Actor& by) {
  const char* action = before != nullptr && now.revision <= before->revision
                           ? "rules.rollback"
                       : now.origin == "publish" ? "rules.publish"
                       : now.origin == "promote" ? "rules.promote"
                                                 : "rules.load";
  runtime::AuditRecord record{
      .at = assigner != nullptr ? assigner->clock().Now() : absl::Now(),
      .principal = by.principal,
      .peer = by.peer,
      .action = action,
      .target = now.name,
      .before = before == nullptr ? "" : DescribeRuleset(*before),
      .after = DescribeRuleset(now)};
  LogInfo("audit", {{"action", record.action},
                    {"principal", record.principal},
                    {"peer", record.peer},
                    {"before", record.before},
                    {"after", record.after}});
  if (assigner == nullptr) return;
  absl::StatusOr<uint64_t> seq = assigner->RecordAudit(std::move(record));
  absl::Status s = seq.ok() ? assigner->log().WaitDurable(*seq) : seq.status();
  if (!s.ok()) {
    LogError("audit record not stored",
             {{"action", action}, {"error", std::string(s.message())}});
  }
}

void RecordRulesetLive(runtime::Assigner* assigner, const Ruleset& now) {
  if (now.sources == nullptr) return;  // a builtin: nothing to compile
  runtime::RulesetLive stored{.revision = now.revision,
                              .root = now.root,
                              .files = *now.sources,
                              .fingerprint = now.fingerprint,
                              .published_by = now.published_by,
                              .published_from = now.published_from,
                              .at = assigner->clock().Now()};
  absl::StatusOr<uint64_t> seq = assigner->RecordRuleset(std::move(stored));
  absl::Status s = seq.ok() ? assigner->log().WaitDurable(*seq) : seq.status();
  if (!s.ok()) {
    LogError("live ruleset not stored for the other replicas",
             {{"revision", absl::StrCat(now.revision)},
              {"error", std::string(s.message())}});
  }
}

}  // namespace leadroute
