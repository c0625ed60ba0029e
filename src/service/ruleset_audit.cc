// Rulesets in the audit trail; see ruleset_audit.h.
#include "src/service/ruleset_audit.h"

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/log.h"
#include "runtime/clock.h"

namespace leadroute {

namespace {

// "fingerprint 4e9575bc10fd32c9 (acme-inbound 2026.11.1)"; "" for none.
// Alone for a shadow, which has no revision of its own.
std::string DescribeFiles(const Ruleset* r) {
  if (r == nullptr) return "";
  return absl::StrCat("fingerprint ", r->fingerprint, " (", r->name,
                      r->version.empty() ? "" : " ", r->version, ")");
}

}  // namespace

std::string DescribeRuleset(const Ruleset& r) {
  return absl::StrCat("revision ", r.revision, " ", DescribeFiles(&r));
}

namespace {

// Logs `record` and, with state, keeps it: with `kept` (a ruleset or a
// schedule) in one commit when there is one, durable before this returns.
void Audit(runtime::Assigner* assigner, runtime::AuditRecord record,
           std::optional<runtime::StateChange> kept = std::nullopt) {
  LogInfo("audit", {{"action", record.action},
                    {"principal", record.principal},
                    {"peer", record.peer},
                    {"before", record.before},
                    {"after", record.after}});
  if (assigner == nullptr) return;
  const std::string action = record.action;
  const std::string after = record.after;
  absl::StatusOr<uint64_t> seq;
  if (!kept.has_value()) {
    seq = assigner->RecordAudit(std::move(record));
  } else if (auto* live = std::get_if<runtime::RulesetLive>(&*kept)) {
    seq = assigner->RecordRuleset(std::move(*live), std::move(record));
  } else {
    seq = assigner->RecordSchedule(
        std::get<runtime::RulesetSchedule>(std::move(*kept)),
        std::move(record));
  }
  absl::Status s = seq.ok() ? assigner->log().WaitDurable(*seq) : seq.status();
  if (!s.ok()) {
    LogError(kept.has_value() ? "audit record and ruleset not stored"
                              : "audit record not stored",
             {{"action", action},
              {"after", after},
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
                      const Ruleset& now, const runtime::Actor& by,
                      std::optional<std::string> files_fingerprint) {
  // A scheduled ruleset was numbered when it was scheduled: one published
  // meanwhile has a higher number, and is not rolled back from.
  const char* action = now.origin == "scheduled" ? "rules.activate"
                       : before != nullptr && now.revision <= before->revision
                           ? "rules.rollback"
                       : now.origin == "publish" ? "rules.publish"
                       : now.origin == "promote" ? "rules.promote"
                                                 : "rules.load";
  std::optional<runtime::StateChange> kept;
  if (assigner != nullptr && files_fingerprint.has_value() &&
      now.sources != nullptr) {
    kept = ToStore(assigner, now, *std::move(files_fingerprint));
  }
  Audit(assigner,
        runtime::AuditRecord{
            .at = AuditTime(assigner),
            .principal = by.principal,
            .peer = by.peer,
            .action = action,
            .target = now.name,
            .before = before == nullptr ? "" : DescribeRuleset(*before),
            .after = DescribeRuleset(now),
            .reason = ""},
        std::move(kept));
}

void AuditRulesetSchedule(runtime::Assigner* assigner, const Ruleset* scheduled,
                          const runtime::Actor& by) {
  std::optional<runtime::StateChange> kept;
  if (assigner != nullptr) {
    runtime::RulesetSchedule change;
    if (scheduled != nullptr && scheduled->sources != nullptr) {
      change.ruleset = ToStore(assigner, *scheduled);
    }
    kept = std::move(change);
  }
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
            .reason = ""},
        std::move(kept));
}

void AuditShadow(runtime::Assigner* assigner, const Ruleset* before,
                 const Ruleset* now, const runtime::Actor& by) {
  const Ruleset* named = now != nullptr ? now : before;
  Audit(assigner,
        runtime::AuditRecord{
            .at = AuditTime(assigner),
            .principal = by.principal,
            .peer = by.peer,
            .action = now != nullptr ? "rules.shadow" : "rules.unshadow",
            .target = named != nullptr ? named->name : "",
            .before = DescribeFiles(before),
            .after = DescribeFiles(now),
            .reason = ""});
}

}  // namespace leadroute
