// KpiFacts; see kpi_facts.h.
#include "runtime/kpi_facts.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_join.h"

namespace leadroute::runtime {
namespace {

// Events read per EventsAfter call while following.
constexpr int kEventBatch = 5000;
// Following re-reads each changed lead (a point read); past this many, or
// a third of the facts, loading the span again is cheaper.
constexpr size_t kFewestWorthLoading = 10000;
// Names kept beyond twice the leads (unique sources, say) before a load
// starts the tables afresh.
constexpr size_t kNameSlack = 4096;

enum OutcomeBit : uint8_t {
  kQualifiedBit = 1,
  kOpportunityBit = 2,
  kWonBit = 4,
  kLostBit = 8,
};

int64_t MicrosOr(const std::optional<absl::Time>& t, int64_t none) {
  return t ? absl::ToUnixMicros(*t) : none;
}

}  // namespace

KpiFacts::Names::Names() {
  values_.emplace_back();
  views_.emplace_back(values_.back());
  ids_.emplace("", 0);
}

uint32_t KpiFacts::Names::Id(absl::string_view s) {
  if (s.empty()) return 0;
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(values_.size());
  values_.emplace_back(s);
  views_.emplace_back(values_.back());
  ids_.emplace(values_.back(), id);
  return id;
}

KpiFacts::Lists::Lists() {
  values_.emplace_back();
  ids_.emplace("", 0);
}

uint32_t KpiFacts::Lists::Id(const std::vector<std::string>& list) {
  if (list.empty()) return 0;
  std::string key = absl::StrJoin(list, "\x1f");
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(values_.size());
  values_.push_back(list);
  ids_.emplace(std::move(key), id);
  return id;
}

size_t KpiFacts::SlotHash::operator()(uint32_t i) const {
  return (*this)(absl::string_view((*facts)[i].lead_id));
}

size_t KpiFacts::SlotHash::operator()(absl::string_view id) const {
  return absl::Hash<absl::string_view>{}(id);
}

bool KpiFacts::SlotEq::operator()(uint32_t a, absl::string_view id) const {
  return (*facts)[a].lead_id == id;
}

KpiFacts::Fact KpiFacts::FactOf(const Assignment& a) {
  Fact f;
  f.lead_id = a.lead_id;
  f.routed_us = absl::ToUnixMicros(a.routed_at);
  f.respond_by_us = MicrosOr(a.respond_by, kNone);
  f.contacted_us =
      MicrosOr(a.reached[static_cast<int>(Outcome::kContacted)], kNone);
  f.owner = names_.Id(a.owner);
  f.team = names_.Id(a.team);
  f.source = names_.Id(a.source);
  f.ruleset = names_.Id(a.ruleset);
  f.rules = names_.Id(a.rules);
  f.contacted_by = names_.Id(a.contacted_by);
  f.priority = names_.Id(a.priority);
  f.escalation = names_.Id(a.escalation);
  f.had_by = lists_.Id(a.had_by);
  f.missed_by = lists_.Id(a.missed_by);
  f.escalation_step = a.escalation_step;
  f.choice = static_cast<int16_t>(std::clamp(a.choice, -1, 32767));
  f.owner_kind = static_cast<uint8_t>(a.owner_kind);
  f.status = static_cast<uint8_t>(a.status);
  f.sla_status = static_cast<uint8_t>(a.sla_status);
  f.clock_status = static_cast<uint8_t>(a.clock_status);
  auto reached = [&](Outcome o) {
    return a.reached[static_cast<int>(o)].has_value();
  };
  f.outcomes = (reached(Outcome::kQualified) ? kQualifiedBit : 0) |
               (reached(Outcome::kOpportunity) ? kOpportunityBit : 0) |
               (reached(Outcome::kWon) ? kWonBit : 0) |
               (reached(Outcome::kLost) ? kLostBit : 0);
  return f;
}

KpiLead KpiFacts::LeadOf(const Fact& f) const {
  KpiLead l;
  l.lead_id = f.lead_id;
  l.owner = names_[f.owner];
  l.team = names_[f.team];
  l.source = names_[f.source];
  l.ruleset = names_[f.ruleset];
  l.rules = names_[f.rules];
  l.contacted_by = names_[f.contacted_by];
  l.priority = names_[f.priority];
  l.escalation = names_[f.escalation];
  l.had_by = lists_[f.had_by];
  l.missed_by = lists_[f.missed_by];
  l.owner_kind = static_cast<OwnerKind>(f.owner_kind);
  l.status = static_cast<LeadStatus>(f.status);
  l.sla_status = static_cast<SlaStatus>(f.sla_status);
  l.clock_status = static_cast<SlaStatus>(f.clock_status);
  l.escalation_step = f.escalation_step;
  l.choice = f.choice;
  l.routed_at = absl::FromUnixMicros(f.routed_us);
  if (f.respond_by_us != kNone) {
    l.respond_by = absl::FromUnixMicros(f.respond_by_us);
  }
  if (f.contacted_us != kNone) {
    l.contacted = absl::FromUnixMicros(f.contacted_us);
  }
  l.qualified = (f.outcomes & kQualifiedBit) != 0;
  l.opportunity = (f.outcomes & kOpportunityBit) != 0;
  l.won = (f.outcomes & kWonBit) != 0;
  l.lost = (f.outcomes & kLostBit) != 0;
  l.stable = true;
  return l;
}

void KpiFacts::Remove(absl::string_view lead_id) {
  auto it = index_.find(lead_id);
  if (it == index_.end()) return;
  facts_[*it].dead = true;
  ++dead_;
  index_.erase(it);
}

void KpiFacts::Put(const Assignment& a) {
  if (a.routed_at < since_) {
    Remove(a.lead_id);
    return;
  }
  Fact f = FactOf(a);
  if (auto it = index_.find(absl::string_view(a.lead_id)); it != index_.end()) {
    Fact& old = facts_[*it];
    // Routed at the same time: the same place in time order.
    if (old.routed_us == f.routed_us) {
      old = std::move(f);
      return;
    }
    old.dead = true;
    ++dead_;
    index_.erase(it);
  }
  if (!facts_.empty() && f.routed_us < facts_.back().routed_us) {
    sorted_ = false;
  }
  facts_.push_back(std::move(f));
  index_.insert(static_cast<uint32_t>(facts_.size() - 1));
}

void KpiFacts::Tidy() {
  const int64_t since_us = absl::ToUnixMicros(since_);
  size_t expired = 0;
  if (sorted_) {
    auto first = std::lower_bound(
        facts_.begin(), facts_.end(), since_us,
        [](const Fact& f, int64_t us) { return f.routed_us < us; });
    expired = static_cast<size_t>(first - facts_.begin());
  }
  const size_t waste = dead_ + expired;
  if (sorted_ && waste <= std::max<size_t>(1024, facts_.size() / 8)) {
    return;
  }
  std::vector<Fact> kept;
  kept.reserve(facts_.size() - std::min(waste, facts_.size()));
  for (Fact& f : facts_) {
    if (!f.dead && f.routed_us >= since_us) kept.push_back(std::move(f));
  }
  // Stable: leads routed at the same time keep the order they came in.
  std::stable_sort(kept.begin(), kept.end(), [](const Fact& x, const Fact& y) {
    return x.routed_us < y.routed_us;
  });
  index_.clear();
  facts_ = std::move(kept);
  facts_.shrink_to_fit();
  for (size_t i = 0; i < facts_.size(); ++i) {
    index_.insert(static_cast<uint32_t>(i));
  }
  sorted_ = true;
  dead_ = 0;
}

absl::Status KpiFacts::Load(StateReader& store, absl::Time now) {
  // The marks come first: whatever commits during the scan is read again
  // when following.
  absl::StatusOr<uint64_t> pruned = store.PrunedAssignments();
  if (!pruned.ok()) return pruned.status();
  absl::StatusOr<uint64_t> last = store.LastEventId();
  if (!last.ok()) return last.status();
  absl::StatusOr<uint64_t> pruned_through = store.PrunedThrough();
  if (!pruned_through.ok()) return pruned_through.status();
  loaded_ = false;
  index_.clear();
  facts_.clear();
  facts_.shrink_to_fit();
  dead_ = 0;
  sorted_ = true;
  names_ = Names();
  lists_ = Lists();
  since_ = now - span_;
  absl::Status s = store.ScanAssignments(since_, absl::InfiniteFuture(),
                                         [&](const Assignment& a) { Put(a); });
  if (!s.ok()) {
    index_.clear();
    facts_.clear();
    return s;
  }
  cursor_ = std::max(*last, *pruned_through);
  pruned_leads_ = *pruned;
  store_ = &store;
  loaded_ = true;
  ++loads_;
  // The store hands them over in routing-time order, so there is nothing
  // to sort, mostly.
  Tidy();
  if (facts_.capacity() > facts_.size() + facts_.size() / 4) {
    facts_.shrink_to_fit();
  }
  return absl::OkStatus();
}

absl::Status KpiFacts::Follow(StateReader& store) {
  // The leads with an event after the cursor, each read once as it is now.
  absl::flat_hash_set<std::string> changed;
  uint64_t at = cursor_;
  const size_t worth_loading = std::max(kFewestWorthLoading, size() / 3);
  for (;;) {
    absl::StatusOr<std::vector<LeadEvent>> events =
        store.EventsAfter(at, kEventBatch);
    if (!events.ok()) return events.status();
    for (const LeadEvent& e : *events) {
      at = std::max(at, e.id);
      if (!e.lead_id.empty()) changed.insert(e.lead_id);
    }
    if (changed.size() > worth_loading) {
      return absl::ResourceExhaustedError("more changes than worth following");
    }
    if (events->size() < static_cast<size_t>(kEventBatch)) break;
  }
  for (const std::string& id : changed) {
    absl::StatusOr<std::optional<Assignment>> a = store.FindAssignment(id);
    if (!a.ok()) return a.status();
    ++rereads_;
    if (a->has_value()) {
      Put(**a);
    } else {
      Remove(id);
    }
  }
  cursor_ = at;
  return absl::OkStatus();
}

absl::Status KpiFacts::Refresh(StateReader& store, absl::Time now) {
  if (!loaded_ || store_ != &store || names_.size() > kNameSlack + 2 * size()) {
    return Load(store, now);
  }
  // Following is exact only while every event after the cursor is kept and
  // no lead was deleted.
  absl::StatusOr<uint64_t> pruned_through = store.PrunedThrough();
  if (!pruned_through.ok()) return pruned_through.status();
  absl::StatusOr<uint64_t> pruned = store.PrunedAssignments();
  if (!pruned.ok()) return pruned.status();
  if (*pruned_through > cursor_ || *pruned != pruned_leads_) {
    return Load(store, now);
  }
  absl::Status s = Follow(store);
  if (absl::IsResourceExhausted(s)) return Load(store, now);
  if (!s.ok()) return s;
  since_ = std::max(since_, now - span_);
  Tidy();
  return absl::OkStatus();
}

void KpiFacts::Scan(absl::Time from, absl::Time to,
                    const std::function<void(const KpiLead&)>& visit) const {
  const int64_t from_us = absl::ToUnixMicros(std::max(from, since_));
  const int64_t to_us = absl::ToUnixMicros(to);
  auto it = std::lower_bound(
      facts_.begin(), facts_.end(), from_us,
      [](const Fact& f, int64_t us) { return f.routed_us < us; });
  for (; it != facts_.end() && it->routed_us < to_us; ++it) {
    if (!it->dead) visit(LeadOf(*it));
  }
}

KpiScan KpiFacts::AsScan() const {
  return [this](absl::Time from, absl::Time to,
                const std::function<void(const KpiLead&)>& visit) {
    Scan(from, to, visit);
    return absl::OkStatus();
  };
}

}  // namespace leadroute::runtime
