// What the two stores share; see store_rows.h.
#include "runtime/store_rows.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"

namespace leadroute::runtime {

std::string RulesetsNotKept() {
  return absl::StrCat(
      " WHERE revision NOT IN (SELECT value FROM meta WHERE key IN ('",
      kLiveRulesetKey, "', '", kScheduledRulesetKey,
      "')) AND revision < (SELECT MAX(revision) FROM rulesets)");
}

std::string EncodeRunning(
    const std::vector<std::pair<std::string, int64_t>>& running) {
  std::string out;
  for (const auto& [rep, w] : running) {
    absl::StrAppend(&out, out.empty() ? "" : ";", rep, "=", w);
  }
  return out;
}

std::vector<std::pair<std::string, int64_t>> DecodeRunning(
    absl::string_view text) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (absl::string_view item : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    int64_t w = 0;
    if (absl::SimpleAtoi(kv.second, &w)) out.emplace_back(kv.first, w);
  }
  return out;
}

std::string JoinReps(const std::vector<std::string>& reps) {
  return absl::StrJoin(reps, ";");
}

std::vector<std::string> SplitReps(absl::string_view text) {
  return absl::StrSplit(text, ';', absl::SkipEmpty());
}

absl::StatusOr<StoredRulesets> ReadRulesets(const RulesetReads& reads,
                                            int64_t unless_live,
                                            int64_t unless_scheduled) {
  StoredRulesets out;
  ASSIGN_OR_RETURN(out.newest_revision, reads.newest());
  ASSIGN_OR_RETURN(std::optional<uint64_t> live, reads.meta(kLiveRulesetKey));
  out.live_revision = static_cast<int64_t>(live.value_or(0));
  if (out.live_revision != 0 && out.live_revision != unless_live) {
    ASSIGN_OR_RETURN(out.live,
                     reads.ruleset(out.live_revision, kLiveRulesetKey));
  }
  ASSIGN_OR_RETURN(std::optional<uint64_t> scheduled,
                   reads.meta(kScheduledRulesetKey));
  out.scheduled_revision = static_cast<int64_t>(scheduled.value_or(0));
  if (out.scheduled_revision != 0 &&
      out.scheduled_revision != unless_scheduled) {
    ASSIGN_OR_RETURN(RulesetLive rs, reads.ruleset(out.scheduled_revision,
                                                   kScheduledRulesetKey));
    ASSIGN_OR_RETURN(std::optional<uint64_t> at, reads.meta(kScheduledAtKey));
    if (!at) {
      return absl::DataLossError(
          absl::StrCat("meta.", kScheduledRulesetKey, " names revision ",
                       out.scheduled_revision, " but meta.", kScheduledAtKey,
                       " is missing"));
    }
    rs.activate_at = absl::FromUnixMicros(static_cast<int64_t>(*at));
    out.scheduled = std::move(rs);
  }
  return out;
}

}  // namespace leadroute::runtime
