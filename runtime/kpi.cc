// KpiBuilder and KpisOf; see kpi.h.
#include "runtime/kpi.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_split.h"

namespace leadroute::runtime {
namespace {

constexpr const char* kDimensionNames[] = {"total",   "team", "rep",  "source",
                                           "ruleset", "rule", "hour", "day"};
constexpr KpiDimension kDimensions[] = {
    KpiDimension::kTotal,  KpiDimension::kTeam,    KpiDimension::kRep,
    KpiDimension::kSource, KpiDimension::kRuleset, KpiDimension::kRule,
    KpiDimension::kHour,   KpiDimension::kDay};

std::optional<double> Ratio(int64_t part, int64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

absl::string_view OrNone(absl::string_view key) {
  return key.empty() ? absl::string_view(kNoKey) : key;
}

// The value at nearest rank `rank` (1-based) of `v`, reordering it so that
// smaller values come before it.
int64_t AtRank(std::vector<int64_t>& v, size_t from, size_t rank) {
  auto nth = v.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(v.begin() + static_cast<std::ptrdiff_t>(from), nth, v.end());
  return *nth;
}

}  // namespace

const char* KpiDimensionName(KpiDimension d) {
  for (size_t i = 0; i < std::size(kDimensions); ++i) {
    if (kDimensions[i] == d) return kDimensionNames[i];
  }
  return "total";
}

std::optional<KpiDimension> ParseKpiDimension(absl::string_view name) {
  for (size_t i = 0; i < std::size(kDimensions); ++i) {
    if (name == kDimensionNames[i]) return kDimensions[i];
  }
  return std::nullopt;
}

KpiLead KpiLeadOf(const Assignment& a) {
  KpiLead l;
  l.lead_id = a.lead_id;
  l.owner = a.owner;
  l.team = a.team;
  l.source = a.source;
  l.ruleset = a.ruleset;
  l.rules = a.rules;
  l.contacted_by = a.contacted_by;
  l.priority = a.priority;
  l.escalation = a.escalation;
  l.had_by = a.had_by;
  l.missed_by = a.missed_by;
  l.owner_kind = a.owner_kind;
  l.status = a.status;
  l.sla_status = a.sla_status;
  l.clock_status = a.clock_status;
  l.escalation_step = a.escalation_step;
  l.choice = a.choice;
  l.routed_at = a.routed_at;
  l.respond_by = a.respond_by;
  l.contacted = a.reached[static_cast<int>(Outcome::kContacted)];
  l.qualified = a.reached[static_cast<int>(Outcome::kQualified)].has_value();
  l.opportunity =
      a.reached[static_cast<int>(Outcome::kOpportunity)].has_value();
  l.won = a.reached[static_cast<int>(Outcome::kWon)].has_value();
  l.lost = a.reached[static_cast<int>(Outcome::kLost)].has_value();
  return l;
}

absl::string_view KpiKeyOf(const KpiLead& a, KpiDimension by) {
  switch (by) {
    case KpiDimension::kTeam:
      return OrNone(a.owner_kind == OwnerKind::kTeam ? a.owner : a.team);
    case KpiDimension::kSource:
      return OrNone(a.source);
    default:
      return OrNone(a.ruleset);
  }
}

bool KpiFilter::Matches(const KpiLead& a) const {
  return (team.empty() || KpiKeyOf(a, KpiDimension::kTeam) == team) &&
         (source.empty() || KpiKeyOf(a, KpiDimension::kSource) == source) &&
         (ruleset.empty() || KpiKeyOf(a, KpiDimension::kRuleset) == ruleset);
}

KpiBuilder::KpiBuilder(KpiDimension by, absl::Time from, absl::Time to,
                       KpiOptions options)
    : by_(by), from_(from), to_(to), options_(std::move(options)) {}

int KpiBuilder::RepOf(absl::string_view rep, bool stable) {
  if (stable) {
    if (const int* n = recent_reps_.Find(rep)) return *n;
    if (auto at = rep_at_.find(Address{rep.data(), rep.size()});
        at != rep_at_.end()) {
      recent_reps_.Put(rep, at->second);
      return at->second;
    }
  }
  auto it = rep_numbers_.find(rep);
  if (it == rep_numbers_.end()) {
    it = rep_numbers_.emplace(rep, static_cast<int>(rep_numbers_.size())).first;
  }
  if (stable) {
    rep_at_.emplace(Address{rep.data(), rep.size()}, it->second);
    recent_reps_.Put(rep, it->second);
  }
  return it->second;
}

void KpiBuilder::CountRep(absl::string_view rep, bool stable, Group& g) {
  const auto n = static_cast<size_t>(RepOf(rep, stable));
  if (n >= g.per_rep.size()) g.per_rep.resize(n + 1);
  if (g.per_rep[n]++ == 0) ++g.reps;
}

void KpiBuilder::Count(const KpiLead& a, Group& g) {
  KpiRow& r = g.row;
  ++r.routed;
  if (a.owner_kind == OwnerKind::kRep) {
    ++r.to_rep;
    CountRep(a.owner, a.stable, g);
  }
  if (a.status == LeadStatus::kUnassigned) ++r.unassigned;
  if (a.choice > 0) ++r.fallback;
  if (a.status == LeadStatus::kOpen && a.owner_kind == OwnerKind::kQueue) {
    ++r.queued;
  }
  if (a.contacted.has_value()) {
    ++r.contacted;
    // A lead contacted before a reroute has no response time for this
    // routing.
    if (*a.contacted >= a.routed_at) AddResponse(a, g);
  }
  switch (a.sla_status) {
    case SlaStatus::kMet:
      ++r.sla_met;
      break;
    case SlaStatus::kMissed:
      ++r.sla_missed;
      break;
    case SlaStatus::kPending:
      ++r.sla_pending;
      break;
    case SlaStatus::kNone:
      break;
  }
  if (!a.had_by.empty()) {
    ++r.reassigned_to;
    ++r.reassigned_away;
  }
  CountOutcomes(a, r);
}

void KpiBuilder::CountOutcomes(const KpiLead& a, KpiRow& r) {
  const bool opportunity = a.won || a.opportunity;
  if (opportunity || a.qualified) ++r.sql;
  if (opportunity) ++r.opportunities;
  if (a.won) ++r.won;
  if (a.lost) ++r.lost;
}

void KpiBuilder::CountForRep(const KpiLead& a, absl::string_view rep,
                             Group& g) {
  auto in = [&](absl::Span<const std::string> list) {
    return std::find(list.begin(), list.end(), rep) != list.end();
  };
  const bool owns = a.owner_kind == OwnerKind::kRep && a.owner == rep;
  KpiRow& r = g.row;
  ++r.routed;
  ++r.to_rep;
  CountRep(rep, a.stable, g);
  // Who had it first: the first rep it moved from, else its owner.
  const absl::string_view first =
      a.had_by.empty() ? a.owner : absl::string_view(a.had_by.front());
  if (rep != first) ++r.reassigned_to;
  if (in(a.had_by)) ++r.reassigned_away;
  if (a.contacted.has_value() && a.contacted_by == rep) {
    ++r.contacted;
    if (*a.contacted >= a.routed_at) AddResponse(a, g);
    if (a.clock_status == SlaStatus::kMet) ++r.sla_met;
  }
  if (in(a.missed_by)) {
    ++r.sla_missed;
  } else if (owns && a.clock_status == SlaStatus::kPending) {
    ++r.sla_pending;
  }
  // What became of the lead is its current owner's.
  if (owns) CountOutcomes(a, r);
}

const std::string& KpiBuilder::BucketOf(absl::Time t) {
  if (t >= bucket_start_ && t < bucket_end_) return bucket_key_;
  const absl::TimeZone& tz = options_.tz;
  if (by_ == KpiDimension::kHour) {
    const absl::CivilHour h = absl::ToCivilHour(t, tz);
    bucket_start_ = absl::FromCivil(h, tz);
    bucket_end_ = absl::FromCivil(h + 1, tz);
    bucket_key_ = absl::FormatTime("%Y-%m-%dT%H:00", t, tz);
  } else {
    const absl::CivilDay d = absl::ToCivilDay(t, tz);
    bucket_start_ = absl::FromCivil(d, tz);
    bucket_end_ = absl::FromCivil(d + 1, tz);
    bucket_key_ = absl::FormatTime("%Y-%m-%d", t, tz);
  }
  // A repeated local hour (a DST fall-back) maps two instants to one key;
  // the bounds keep each lookup exact.
  if (t < bucket_start_ || t >= bucket_end_) {
    bucket_start_ = bucket_end_ = absl::InfiniteFuture();
  }
  return bucket_key_;
}

KpiBuilder::Group& KpiBuilder::GroupOf(absl::string_view key, bool stable) {
  if (stable) {
    if (Group* const* g = recent_groups_.Find(key)) return **g;
    if (auto at = group_at_.find(Address{key.data(), key.size()});
        at != group_at_.end()) {
      recent_groups_.Put(key, at->second);
      return *at->second;
    }
  } else if (last_key_ != nullptr && *last_key_ == key) {
    return *last_group_;
  }
  auto it = groups_.find(key);
  if (it == groups_.end()) it = groups_.try_emplace(std::string(key)).first;
  last_key_ = &it->first;
  last_group_ = &it->second;
  if (stable) {
    group_at_.emplace(Address{key.data(), key.size()}, last_group_);
    recent_groups_.Put(key, last_group_);
  }
  return it->second;
}

void KpiBuilder::Add(const KpiLead& a) {
  if (a.routed_at < from_ || a.routed_at >= to_) return;
  if (!options_.filter.Matches(a)) return;
  if (options_.rows_only) {
    ++total_.row.routed;
  } else {
    Count(a, total_);
  }
  switch (by_) {
    case KpiDimension::kTotal:
      return;
    case KpiDimension::kRuleset:
    case KpiDimension::kTeam:
    case KpiDimension::kSource:
      Count(a, GroupOf(KpiKeyOf(a, by_), a.stable));
      return;
    case KpiDimension::kHour:
    case KpiDimension::kDay:
      // The bucket's key is the builder's own, rewritten per bucket.
      Count(a, GroupOf(BucketOf(a.routed_at), /*stable=*/false));
      return;
    case KpiDimension::kRep: {
      // Each rep who held the lead (whoever made first contact or missed a
      // deadline held it), for what they did; a lead no rep held, under
      // "(none)".
      absl::InlinedVector<absl::string_view, 4> reps;
      auto add = [&](absl::string_view rep) {
        if (rep.empty()) return;
        for (absl::string_view r : reps) {
          if (r == rep) return;
        }
        reps.push_back(rep);
      };
      for (const std::string& rep : a.had_by) add(rep);
      if (a.owner_kind == OwnerKind::kRep) add(a.owner);
      for (const std::string& rep : a.missed_by) add(rep);
      if (reps.empty()) Count(a, GroupOf(kNoKey, /*stable=*/true));
      for (absl::string_view rep : reps) {
        CountForRep(a, rep, GroupOf(rep, a.stable));
      }
      return;
    }
    case KpiDimension::kRule:
      if (a.rules.empty()) Count(a, GroupOf(kNoKey, /*stable=*/true));
      for (absl::string_view rule :
           absl::StrSplit(a.rules, ';', absl::SkipEmpty())) {
        Count(a, GroupOf(rule, a.stable));
      }
      return;
  }
}

void KpiBuilder::AddResponse(const KpiLead& a, Group& g) const {
  const int64_t us = absl::ToInt64Microseconds(*a.contacted - a.routed_at);
  g.response_sum_us += us;
  ++g.responses;
  if (options_.percentiles) g.response_us.push_back(us);
}

KpiRow KpiBuilder::Summarize(Group& g, int64_t all) {
  KpiRow r = g.row;
  if (g.responses > 0) {
    r.avg_first_response = absl::Microseconds(g.response_sum_us / g.responses);
  }
  if (!g.response_us.empty()) {
    std::vector<int64_t>& v = g.response_us;
    const size_t n = v.size();
    // Nearest rank, as p90: the smallest value at or above half of them.
    const size_t median = (n + 1) / 2;
    r.p50_first_response = absl::Microseconds(AtRank(v, 0, median));
    // Nearest rank: the smallest value at or above 90% of them. Values
    // past the median's place are the larger ones, so select among them.
    const size_t rank = (n * 9 + 9) / 10;  // ceil(0.9 n)
    r.p90_first_response = absl::Microseconds(AtRank(v, median - 1, rank));
  }
  r.sla_met_rate = Ratio(r.sla_met, r.sla_met + r.sla_missed);
  r.lead_to_sql = Ratio(r.sql, r.routed);
  r.sql_to_opportunity = Ratio(r.opportunities, r.sql);
  r.share = Ratio(r.routed, all).value_or(0);
  r.reps = g.reps;
  if (g.reps > 0) {
    double sum = 0, squares = 0;
    for (int64_t n : g.per_rep) {
      sum += static_cast<double>(n);
      squares += static_cast<double>(n) * static_cast<double>(n);
    }
    r.fairness = sum * sum / (static_cast<double>(g.reps) * squares);
  }
  return r;
}

KpiReport KpiBuilder::Finish() {
  KpiReport out;
  out.from = from_;
  out.to = to_;
  out.by = by_;
  const int64_t all = total_.row.routed;
  out.total = Summarize(total_, all);
  std::vector<std::pair<const std::string, Group>*> sorted;
  sorted.reserve(groups_.size());
  for (auto& entry : groups_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* x, const auto* y) { return x->first < y->first; });
  for (auto* entry : sorted) {
    auto& [key, g] = *entry;
    out.rows.push_back(Summarize(g, all));
    out.rows.back().key = key;
    // One rep's own row is trivially fair.
    if (by_ == KpiDimension::kRep) out.rows.back().fairness.reset();
  }
  return out;
}

KpiScan ScanOf(StateReader& store) {
  return [&store](absl::Time from, absl::Time to,
                  const std::function<void(const KpiLead&)>& visit) {
    return store.ScanAssignments(
        from, to, [&](const Assignment& a) { visit(KpiLeadOf(a)); });
  };
}

absl::StatusOr<KpiReport> KpisOf(StateReader& store, KpiDimension by,
                                 absl::Time from, absl::Time to,
                                 const KpiOptions& options) {
  KpiBuilder builder(by, from, to, options);
  absl::Status s = store.ScanAssignments(
      from, to, [&](const Assignment& a) { builder.Add(a); });
  if (!s.ok()) return s;
  return builder.Finish();
}

absl::Status KpisOf(const KpiScan& scan, std::vector<KpiBuilder*> builders,
                    const std::function<void(const KpiLead&)>& also) {
  if (builders.empty()) return absl::OkStatus();
  absl::Time from = absl::InfiniteFuture(), to = absl::InfinitePast();
  for (const KpiBuilder* b : builders) {
    from = std::min(from, b->from());
    to = std::max(to, b->to());
  }
  return scan(from, to, [&](const KpiLead& a) {
    for (KpiBuilder* b : builders) b->Add(a);
    if (also) also(a);
  });
}

}  // namespace leadroute::runtime
