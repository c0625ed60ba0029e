// Rulesets in the audit trail; see ruleset_audit.h.
#include "src/service/ruleset_audit.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/log.h"
#include "runtime/clock.h"

namespace leadroute {

std::string DescribeRuleset(const Ruleset& r) {
  return absl::StrCat("revision ", r.revision, " fingerprint ", r.fingerprint,
                      " (", r.name, r.version.empty() ? "" : " ", r.version,
                      ")");
}

namespace {

// Logs `record` and, with state, keeps it.
void Audit(runtime::Assigner* assigner, runtime::AuditRecord record) {
  LogInfo("audit", {{"action", record.action},
                    {"principal", record.principal},
                    {"peer", record.peer},
                    {"before", record.before},
                    {"after", record.after}});
  if (assigner == nullptr) return;
  const std::string action = record.action;
  absl::StatusOr<uint64_t> seq = assigner->RecordAudit(std::move(record));
  absl::Status s = seq.ok() ? assigner->log().WaitDurable(*seq) : seq.status();
  if (!s.ok()) {
    LogError("audit record not stored",
             {{"action", action}, {"error", std::string(s.message())}});
  }
}

// Waits until the store has `seq`, or logs why not.
void Stored(runtime::Assigner* assigner, absl::StatusOr<uint64_t> seq,
            int64_t revision, absl::string_view what) {
  absl::Status s = seq.ok() ? assigner->log().WaitDurable(*seq) : seq.status();
  if (!s.ok()) {
    LogError(what, {{"revision", absl::StrCat(revision)},
                    {"error", std::string(s.message())}});
  }
}

runtime::RulesetLive ToStore(runtime::Assigner* assigner, const Ruleset& r,
                             std::string files_fingerprint = "") {
  return runtime::RulesetLive{
      .revision = r.revision,
      .root = r.root,
      .files = *r.sources,
      .fingerprint = r.fingerprint,
      .published_by = r.published_by,
      .published_from = r.published_from,
      .at = assigner->clock().Now(),
      .activate_at = r.activate_at,
      .files_fingerprint = std::move(files_fingerprint)};
}

absl::Time AuditTime(runtime::Assigner* assigner) {
  return assigner != nullptr ? assigner->clock().Now() : absl::Now();
}

}  // namespace

void AuditRulesetLive(runtime::Assigner* assigner, const Ruleset* before,
                      const Ruleset& now, const runtime::Actor& by) {
  // A scheduled ruleset was numbered when it was scheduled: one published
  // meanwhile has a higher number, and is not rolled back from.
  const char* action = now.origin == "scheduled" ? "rules.activate"
                       : before != nullptr && now.revision <= before->revision
                           ? "rules.rollback"
                       : now.origin == "publish" ? "rules.publish"
                       : now.origin == "promote" ? "rules.promote"
                                                 : "rules.load";
  Audit(assigner,
        runtime::AuditRecord{
            .at = AuditTime(assigner),
            .principal = by.principal,
            .peer = by.peer,
            .action = action,
            .target = now.name,
            .before = before == nullptr ? "" : DescribeRuleset(*before),
            .after = DescribeRuleset(now),
            .reason = ""});
}

void AuditRulesetSchedule(runtime::Assigner* assigner, const Ruleset* scheduled,
                          const runtime::Actor& by) {
  Audit(assigner,
        runtime::AuditRecord{
            .at = AuditTime(assigner),
            .principal = by.principal,
            .peer = by.peer,
            .action =
                scheduled != nullptr ? "rules.schedule" : "rules.unschedule",
            .target = scheduled != nullptr ? scheduled->name : "",
            .before = "",
            .after = scheduled == nullptr
                         ? ""
                         : absl::StrCat(
                               DescribeRuleset(*scheduled), " at ",
                               runtime::Rfc3339Seconds(scheduled->activate_at)),
            .reason = ""});
}

void RecordRulesetLive(runtime::Assigner* assigner, const Ruleset& now,
                       std::string files_fingerprint) {
  if (now.sources == nullptr) return;  // a builtin: nothing to compile
  Stored(assigner,
         assigner->RecordRuleset(
             ToStore(assigner, now, std::move(files_fingerprint))),
         now.revision, "live ruleset not stored");
}

void RecordRulesetSchedule(runtime::Assigner* assigner,
                           const Ruleset* scheduled) {
  runtime::RulesetSchedule change;
  if (scheduled != nullptr && scheduled->sources != nullptr) {
    change.ruleset = ToStore(assigner, *scheduled);
  }
  Stored(assigner, assigner->RecordSchedule(std::move(change)),
         scheduled == nullptr ? 0 : scheduled->revision,
         "scheduled ruleset not stored");
}

}  // namespace leadroute
