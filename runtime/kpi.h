// KPIs of routing over a time window, from the assignments a StateStore
// keeps: what GetStats answers, `leadroute report` prints and /metrics
// exposes, computed by one KpiBuilder so the three never disagree.
//
// A lead counts in the window when it was (last) routed in [from, to), and
// is measured as it stands now: a lead routed yesterday and contacted
// today counts as contacted. Definitions (README, "KPIs"):
// - first response: first contact minus routing time, over contacted
//   leads; average, median and 90th percentile (nearest rank).
// - SLA met rate: met / (met + missed); leads still pending do not count.
// - lead → SQL: leads qualified (or further: opportunity, won) / routed.
// - SQL → opportunity: leads with an opportunity (or won) / SQLs.
// - share: the group's leads / every lead in the window; fairness: Jain's
//   index (Σx)² / (n·Σx²) over the leads of each rep who got any in the
//   group: 1 when they got equal numbers, 1/n when one rep got them all.
// - by rule, a lead counts once under each rule that decided one of its
//   outputs ("assign/na_fast_lane", "sla/hot", ...), so rows overlap.
// - by rep, a lead counts in the row of every rep who held it (rows
//   overlap), for what that rep did: first contact and its response time
//   for the rep who made it; SLA met for that rep when it came within their
//   own deadline; SLA missed for each rep whose own deadline passed while
//   they held it (an escalation does not move the miss to the next owner);
//   pending for the owner whose clock runs; SQL and beyond for the current
//   owner. Leads no rep ever held count under "(none)".
// - by hour or day, a lead counts in the hour or day (in the report's time
//   zone) it was routed in; the key is that local time, "2026-12-01" or
//   "2026-12-01T13:00", so keys sort in time order.
// A filter (team, source, ruleset: the keys the dimensions use, "(none)"
// included) keeps only the leads that match every field set, in every row
// and the total: what the dashboard's filters and `report --team` apply.
#ifndef LEADROUTE_RUNTIME_KPI_H_
#define LEADROUTE_RUNTIME_KPI_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

enum class KpiDimension {
  kTotal,    // one row: every lead
  kRuleset,  // "name version" of the ruleset that routed it
  kRule,     // each rule that decided an output
  kTeam,     // the team its rep was chosen from ("(none)" without)
  kRep,      // each rep who held it (see "by rep" above)
  kSource,   // its `source` attribute ("(none)" without)
  kHour,     // the local hour it was routed in
  kDay,      // the local day it was routed in
};
const char* KpiDimensionName(KpiDimension d);
// "total", "ruleset", "rule", "team", "rep", "source", "hour", "day".
std::optional<KpiDimension> ParseKpiDimension(absl::string_view name);

// The key of a group with no value for the dimension.
inline constexpr const char* kNoKey = "(none)";

struct KpiRow {
  std::string key;  // the group; "" for the total row
  int64_t routed = 0;
  int64_t to_rep = 0;      // owned by a rep
  int64_t queued = 0;      // open in a queue: nobody works them yet
  int64_t unassigned = 0;  // nobody in the assign chain could take them
  int64_t contacted = 0;
  std::optional<absl::Duration> avg_first_response;
  std::optional<absl::Duration> p50_first_response;  // the median
  std::optional<absl::Duration> p90_first_response;
  int64_t sla_met = 0;
  int64_t sla_missed = 0;
  int64_t sla_pending = 0;
  std::optional<double> sla_met_rate;
  int64_t sql = 0;
  int64_t opportunities = 0;
  int64_t won = 0;
  int64_t lost = 0;
  std::optional<double> lead_to_sql;
  std::optional<double> sql_to_opportunity;
  // Moves by reassignment or escalation. In a row by rep: leads the rep got
  // from someone else, and leads taken from them. In other rows both count
  // the leads that changed owner at least once.
  int64_t reassigned_to = 0;
  int64_t reassigned_away = 0;
  double share = 0;  // of the window's leads
  int64_t reps = 0;  // reps who got leads in the group
  std::optional<double> fairness;
};

// Which leads count, by the keys the dimensions group them under; an empty
// field matches every lead.
struct KpiFilter {
  std::string team;
  std::string source;
  std::string ruleset;

  bool Matches(const Assignment& a) const;
};

struct KpiOptions {
  KpiFilter filter;
  absl::TimeZone tz = absl::UTCTimeZone();  // for kHour and kDay
};

// The key a lead has in dimension `by` (one of team, source, ruleset).
const std::string& KpiKeyOf(const Assignment& a, KpiDimension by);

struct KpiReport {
  absl::Time from;
  absl::Time to;
  KpiDimension by = KpiDimension::kTotal;
  KpiRow total;
  std::vector<KpiRow> rows;  // by key; empty for kTotal
};

class KpiBuilder {
 public:
  KpiBuilder(KpiDimension by, absl::Time from, absl::Time to,
             KpiOptions options = {});

  // Counts `a` if it was routed in the window and passes the filter.
  void Add(const Assignment& a);
  KpiReport Finish() const;

  absl::Time from() const { return from_; }
  absl::Time to() const { return to_; }

 private:
  struct Group {
    KpiRow row;
    std::vector<int64_t> response_us;
    absl::flat_hash_map<std::string, int64_t> per_rep;
  };
  static void Count(const Assignment& a, Group& g);
  // `a` in rep `rep`'s row, for what that rep did with it.
  static void CountForRep(const Assignment& a, const std::string& rep,
                          Group& g);
  static void CountOutcomes(const Assignment& a, KpiRow& r);
  static KpiRow Summarize(const Group& g, int64_t all);

  // The kHour or kDay key of `t`: leads arrive in time order from an
  // index, so the last bucket's key is nearly always the answer.
  const std::string& BucketOf(absl::Time t);

  KpiDimension by_;
  absl::Time from_;
  absl::Time to_;
  KpiOptions options_;
  absl::Time bucket_start_ = absl::InfiniteFuture();
  absl::Time bucket_end_ = absl::InfiniteFuture();
  std::string bucket_key_;
  Group total_;
  std::map<std::string, Group> groups_;
};

// The report over what `store` has committed: the one way GetStats,
// /metrics and `leadroute report` compute KPIs.
absl::StatusOr<KpiReport> KpisOf(StateReader& store, KpiDimension by,
                                 absl::Time from, absl::Time to,
                                 const KpiOptions& options = {});

// Several reports from one scan of the store, over the union of their
// windows, with `also` called for every lead scanned (the dashboard's list
// of open leads comes from the same pass).
absl::Status KpisOf(StateReader& store, std::vector<KpiBuilder*> builders,
                    const std::function<void(const Assignment&)>& also = {});

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_KPI_H_
