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
// - fallback: leads taken by an `else` choice of their assign rule (a
//   later choice than the first), whoever holds them now.
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

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
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
  int64_t fallback = 0;    // taken by an `else` choice of their assign rule
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

// What KPIs (and the dashboard's list of open leads) read of a lead: a view
// of an Assignment read from the store, or of a KpiFacts entry (kpi_facts.h)
// held in memory; valid while it is visited.
struct KpiLead {
  absl::string_view lead_id;
  absl::string_view owner;
  absl::string_view team;
  absl::string_view source;
  absl::string_view ruleset;
  absl::string_view rules;  // "stage/rule;stage/rule"
  absl::string_view contacted_by;
  absl::string_view priority;
  absl::string_view escalation;
  absl::Span<const std::string> had_by;
  absl::Span<const std::string> missed_by;
  OwnerKind owner_kind = OwnerKind::kRep;
  LeadStatus status = LeadStatus::kOpen;
  SlaStatus sla_status = SlaStatus::kNone;
  SlaStatus clock_status = SlaStatus::kNone;
  int escalation_step = 0;
  int choice = 0;  // Assignment::choice
  absl::Time routed_at;
  std::optional<absl::Time> respond_by;
  std::optional<absl::Time> contacted;  // first contact
  bool qualified = false;
  bool opportunity = false;
  bool won = false;
  bool lost = false;
  // The views point to storage that stays put, unchanged, for the whole
  // scan (KpiFacts' interned names): a builder may know them by address.
  bool stable = false;
};
KpiLead KpiLeadOf(const Assignment& a);

// Which leads count, by the keys the dimensions group them under; an empty
// field matches every lead.
struct KpiFilter {
  std::string team{};
  std::string source{};
  std::string ruleset;

  bool Matches(const KpiLead& a) const;
};

struct KpiOptions {
  KpiFilter filter;
  absl::TimeZone tz = absl::UTCTimeZone();  // for kHour and kDay
  // Rows only: the total row counts `routed` (each row's share needs it)
  // and nothing else. For a builder beside another over the same window
  // and filter in one scan, whose total that one has.
  bool rows_only = false;
  // Without percentiles: rows leave the median and p90 of first response
  // unset (the average stays), and keep no response times to select them
  // from. For rows nobody reads them in (the dashboard's rules and
  // sources).
  bool percentiles = true;
};

// The key a lead has in dimension `by` (one of team, source, ruleset).
absl::string_view KpiKeyOf(const KpiLead& a, KpiDimension by);

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
  void Add(const KpiLead& a);
  void Add(const Assignment& a) { Add(KpiLeadOf(a)); }
  // Reorders what it kept (percentiles are selected in place); calling it
  // again gives the same report.
  KpiReport Finish();

  absl::Time from() const { return from_; }
  absl::Time to() const { return to_; }

 private:
  struct Group {
    KpiRow row;
    int64_t responses = 0;  // contacted after routing, with a response time
    int64_t response_sum_us = 0;
    std::vector<int64_t> response_us;  // each, with options_.percentiles
    std::vector<int64_t> per_rep;      // leads, by rep number (RepOf)
    int64_t reps = 0;                  // numbers with a lead
  };
  void Count(const KpiLead& a, Group& g);
  // `a` in rep `rep`'s row, for what that rep did with it.
  void CountForRep(const KpiLead& a, absl::string_view rep, Group& g);
  static void CountOutcomes(const KpiLead& a, KpiRow& r);
  void AddResponse(const KpiLead& a, Group& g) const;
  void CountRep(absl::string_view rep, bool stable, Group& g);
  static KpiRow Summarize(Group& g, int64_t all);
  // The group of `key`; consecutive leads mostly share one (a day, a
  // team), so the last one is tried first. A `stable` key (KpiLead::stable)
  // is also remembered by its address, which is cheaper to look up than
  // its bytes.
  Group& GroupOf(absl::string_view key, bool stable);
  // The number of rep `rep` in this builder, by address as GroupOf.
  int RepOf(absl::string_view rep, bool stable);
  using Address = std::pair<const char*, size_t>;
  // A direct-mapped cache in front of a map by Address: a builder sees a
  // few dozen distinct stable keys, so nearly every lookup ends here.
  template <typename T>
  struct Recent {
    struct Slot {
      const char* data = nullptr;
      size_t size = 0;
      T value{};
    };
    static constexpr size_t kSlots = 256;
    std::array<Slot, kSlots> slots;
    static size_t Index(const char* data) {
      return static_cast<size_t>(
          (reinterpret_cast<uintptr_t>(data) * 0x9E3779B97F4A7C15ull) >> 56);
    }
    const T* Find(absl::string_view key) const {
      const Slot& s = slots[Index(key.data())];
      return s.data != nullptr && s.data == key.data() && s.size == key.size()
                 ? &s.value
                 : nullptr;
    }
    void Put(absl::string_view key, T value) {
      slots[Index(key.data())] = {key.data(), key.size(), value};
    }
  };

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
  absl::node_hash_map<std::string, Group> groups_;  // stable addresses
  const std::string* last_key_ = nullptr;
  Group* last_group_ = nullptr;
  Recent<Group*> recent_groups_;
  absl::flat_hash_map<Address, Group*> group_at_;
  absl::flat_hash_map<std::string, int> rep_numbers_;
  Recent<int> recent_reps_;
  absl::flat_hash_map<Address, int> rep_at_;
};

// Visits the leads routed in [from, to): the store's ScanAssignments, or
// KpiFacts::Scan.
using KpiScan = std::function<absl::Status(
    absl::Time from, absl::Time to,
    const std::function<void(const KpiLead&)>& visit)>;
// The KpiScan of what `store` has committed.
KpiScan ScanOf(StateReader& store);

// The report over what `store` has committed: the one way GetStats,
// /metrics and `leadroute report` compute KPIs.
absl::StatusOr<KpiReport> KpisOf(StateReader& store, KpiDimension by,
                                 absl::Time from, absl::Time to,
                                 const KpiOptions& options = {});

// Several reports from one scan of the store, over the union of their
// windows, with `also` called for every lead scanned (the dashboard's list
// of open leads comes from the same pass).
absl::Status KpisOf(const KpiScan& scan, std::vector<KpiBuilder*> builders,
                    const std::function<void(const KpiLead&)>& also = {});

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_KPI_H_
