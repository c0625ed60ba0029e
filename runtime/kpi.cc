// KpiBuilder and KpisOf; see kpi.h.
#include "runtime/kpi.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_split.h"

namespace leadroute::runtime {
namespace {

constexpr const char* kDimensionNames[] = {"total",   "team", "rep",  "source",
                                           "ruleset", "rule", "hour", "day"};
constexpr KpiDimension kDimensions[] = {
    KpiDimension::kTotal,  KpiDimension::kTeam,    KpiDimension::kRep,
    KpiDimension::kSource, KpiDimension::kRuleset, KpiDimension::kRule,
    KpiDimension::kHour,   KpiDimension::kDay};

bool Reached(const Assignment& a, Outcome o) {
  return a.reached[static_cast<int>(o)].has_value();
}

std::optional<double> Ratio(int64_t part, int64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

const std::string& OrNone(const std::string& key) {
  static const std::string* const kNone = new std::string(kNoKey);
  return key.empty() ? *kNone : key;
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

const std::string& KpiKeyOf(const Assignment& a, KpiDimension by) {
  switch (by) {
    case KpiDimension::kTeam:
      return OrNone(a.owner_kind == OwnerKind::kTeam ? a.owner : a.team);
    case KpiDimension::kSource:
      return OrNone(a.source);
    default:
      return OrNone(a.ruleset);
  }
}

bool KpiFilter::Matches(const Assignment& a) const {
  return (team.empty() || KpiKeyOf(a, KpiDimension::kTeam) == team) &&
         (source.empty() || KpiKeyOf(a, KpiDimension::kSource) == source) &&
         (ruleset.empty() || KpiKeyOf(a, KpiDimension::kRuleset) == ruleset);
}

KpiBuilder::KpiBuilder(KpiDimension by, absl::Time from, absl::Time to,
                       KpiOptions options)
    : by_(by), from_(from), to_(to), options_(std::move(options)) {}

void KpiBuilder::Count(const Assignment& a, Group& g) {
  KpiRow& r = g.row;
  ++r.routed;
  if (a.owner_kind == OwnerKind::kRep) {
    ++r.to_rep;
    ++g.per_rep[a.owner];
  }
  if (a.status == LeadStatus::kUnassigned) ++r.unassigned;
  if (a.status == LeadStatus::kOpen && a.owner_kind == OwnerKind::kQueue) {
    ++r.queued;
  }
  if (const auto& contacted = a.reached[static_cast<int>(Outcome::kContacted)];
      contacted.has_value()) {
    ++r.contacted;
    // A lead contacted before a reroute has no response time for this
    // routing.
    if (*contacted >= a.routed_at) {
      g.response_us.push_back(
          absl::ToInt64Microseconds(*contacted - a.routed_at));
    }
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

void KpiBuilder::CountOutcomes(const Assignment& a, KpiRow& r) {
  const bool won = Reached(a, Outcome::kWon);
  const bool opportunity = won || Reached(a, Outcome::kOpportunity);
  if (opportunity || Reached(a, Outcome::kQualified)) ++r.sql;
  if (opportunity) ++r.opportunities;
  if (won) ++r.won;
  if (Reached(a, Outcome::kLost)) ++r.lost;
}

void KpiBuilder::CountForRep(const Assignment& a, const std::string& rep,
                             Group& g) {
  auto in = [&](const std::vector<std::string>& list) {
    return std::find(list.begin(), list.end(), rep) != list.end();
  };
  const bool owns = a.owner_kind == OwnerKind::kRep && a.owner == rep;
  KpiRow& r = g.row;
  ++r.routed;
  ++r.to_rep;
  ++g.per_rep[rep];
  // Who had it first: the first rep it moved from, else its owner.
  const std::string& first = a.had_by.empty() ? a.owner : a.had_by.front();
  if (rep != first) ++r.reassigned_to;
  if (in(a.had_by)) ++r.reassigned_away;
  const auto& contacted = a.reached[static_cast<int>(Outcome::kContacted)];
  if (contacted.has_value() && a.contacted_by == rep) {
    ++r.contacted;
    if (*contacted >= a.routed_at) {
      g.response_us.push_back(
          absl::ToInt64Microseconds(*contacted - a.routed_at));
    }
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

void KpiBuilder::Add(const Assignment& a) {
  if (a.routed_at < from_ || a.routed_at >= to_) return;
  if (!options_.filter.Matches(a)) return;
  Count(a, total_);
  switch (by_) {
    case KpiDimension::kTotal:
      return;
    case KpiDimension::kRuleset:
    case KpiDimension::kTeam:
    case KpiDimension::kSource:
      Count(a, groups_[KpiKeyOf(a, by_)]);
      return;
    case KpiDimension::kHour:
    case KpiDimension::kDay:
      Count(a, groups_[BucketOf(a.routed_at)]);
      return;
    case KpiDimension::kRep: {
      // Each rep who held the lead (whoever made first contact or missed a
      // deadline held it), for what they did; a lead no rep held, under
      // "(none)".
      std::vector<const std::string*> reps;
      auto add = [&](const std::string& rep) {
        if (rep.empty()) return;
        for (const std::string* r : reps) {
          if (*r == rep) return;
        }
        reps.push_back(&rep);
      };
      for (const std::string& rep : a.had_by) add(rep);
      if (a.owner_kind == OwnerKind::kRep) add(a.owner);
      for (const std::string& rep : a.missed_by) add(rep);
      if (reps.empty()) Count(a, groups_[kNoKey]);
      for (const std::string* rep : reps) CountForRep(a, *rep, groups_[*rep]);
      return;
    }
    case KpiDimension::kRule:
      if (a.rules.empty()) Count(a, groups_[kNoKey]);
      for (absl::string_view rule :
           absl::StrSplit(a.rules, ';', absl::SkipEmpty())) {
        Count(a, groups_[std::string(rule)]);
      }
      return;
  }
}

KpiRow KpiBuilder::Summarize(const Group& g, int64_t all) {
  KpiRow r = g.row;
  if (!g.response_us.empty()) {
    std::vector<int64_t> sorted = g.response_us;
    std::sort(sorted.begin(), sorted.end());
    int64_t sum = 0;
    for (int64_t us : sorted) sum += us;
    r.avg_first_response =
        absl::Microseconds(sum / static_cast<int64_t>(sorted.size()));
    // Nearest rank, as p90: the smallest value at or above half of them.
    r.p50_first_response =
        absl::Microseconds(sorted[(sorted.size() + 1) / 2 - 1]);
    // Nearest rank: the smallest value at or above 90% of them.
    const size_t rank = (sorted.size() * 9 + 9) / 10;  // ceil(0.9 n)
    r.p90_first_response = absl::Microseconds(sorted[rank - 1]);
  }
  r.sla_met_rate = Ratio(r.sla_met, r.sla_met + r.sla_missed);
  r.lead_to_sql = Ratio(r.sql, r.routed);
  r.sql_to_opportunity = Ratio(r.opportunities, r.sql);
  r.share = Ratio(r.routed, all).value_or(0);
  r.reps = static_cast<int64_t>(g.per_rep.size());
  if (!g.per_rep.empty()) {
    double sum = 0, squares = 0;
    for (const auto& [rep, n] : g.per_rep) {
      sum += static_cast<double>(n);
      squares += static_cast<double>(n) * static_cast<double>(n);
    }
    r.fairness = sum * sum / (static_cast<double>(g.per_rep.size()) * squares);
  }
  return r;
}

KpiReport KpiBuilder::Finish() const {
  KpiReport out;
  out.from = from_;
  out.to = to_;
  out.by = by_;
  const int64_t all = total_.row.routed;
  out.total = Summarize(total_, all);
  for (const auto& [key, g] : groups_) {
    out.rows.push_back(Summarize(g, all));
    out.rows.back().key = key;
    // One rep's own row is trivially fair.
    if (by_ == KpiDimension::kRep) out.rows.back().fairness.reset();
  }
  return out;
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

absl::Status KpisOf(StateReader& store, std::vector<KpiBuilder*> builders,
                    const std::function<void(const Assignment&)>& also) {
  if (builders.empty()) return absl::OkStatus();
  absl::Time from = absl::InfiniteFuture(), to = absl::InfinitePast();
  for (const KpiBuilder* b : builders) {
    from = std::min(from, b->from());
    to = std::max(to, b->to());
  }
  return store.ScanAssignments(from, to, [&](const Assignment& a) {
    for (KpiBuilder* b : builders) b->Add(a);
    if (also) also(a);
  });
}

}  // namespace leadroute::runtime
