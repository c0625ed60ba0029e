// KpiFacts: the committed leads routed in a recent span, held in memory as
// compact facts (names interned, times as integers, in routing-time order),
// so the dashboard reads a window without reading the store. The same
// KpiBuilder counts them (KpisOf over Scan), so the numbers are the ones
// GetStats and `leadroute report` give over the store.
//
// Refresh follows the store through its event history, which every
// replica can read (EventsAfter, in commit order): each committed change to
// a lead comes with an event naming it, and the lead's row is read again.
// The first Refresh loads the span from the store (ScanAssignments); so
// does a later one when following would cost more than loading, or can no
// longer be exact: events were pruned past where the facts stand, leads
// were pruned (--lead-retention), or the store is another one. A lead whose
// routing time leaves the span is dropped.
//
// Memory: a Fact is 112 bytes (plus a lead id beyond 15 bytes), the index
// about 10 more, and the distinct names (reps, teams, sources, rule lists)
// once each; 504,000 leads measured 88 MiB resident (docs/performance.md).
//
// Not thread-safe: one caller at a time (the dashboard's lock).
#ifndef LEADROUTE_RUNTIME_KPI_FACTS_H_
#define LEADROUTE_RUNTIME_KPI_FACTS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "runtime/kpi.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

class KpiFacts {
 public:
  // Keeps the leads routed within `span` before the time of the last
  // Refresh.
  explicit KpiFacts(absl::Duration span) : span_(span) {}
  KpiFacts(const KpiFacts&) = delete;
  KpiFacts& operator=(const KpiFacts&) = delete;

  // Brings the facts up to what `store` has committed, as of `now`.
  absl::Status Refresh(StateReader& store, absl::Time now);

  // Whether every lead routed in [from, to) is here (as of the last
  // Refresh).
  bool Covers(absl::Time from) const { return loaded_ && from >= since_; }
  // Visits the leads routed in [from, to), in routing-time order.
  void Scan(absl::Time from, absl::Time to,
            const std::function<void(const KpiLead&)>& visit) const;
  // Scan as a KpiScan (never fails).
  KpiScan AsScan() const;

  size_t size() const { return index_.size(); }
  // How many full loads and how many leads re-read one by one so far: what
  // tests and the bench look at.
  int64_t loads() const { return loads_; }
  int64_t rereads() const { return rereads_; }

 private:
  // Interned strings, by id; id 0 is "".
  class Names {
   public:
    Names();
    uint32_t Id(absl::string_view s);
    absl::string_view operator[](uint32_t id) const { return views_[id]; }
    size_t size() const { return values_.size(); }

   private:
    absl::flat_hash_map<std::string, uint32_t> ids_;
    std::deque<std::string> values_;        // never move
    std::vector<absl::string_view> views_;  // of values_, by id
  };
  // Interned lists of reps (had_by, missed_by), by id; id 0 is empty.
  class Lists {
   public:
    Lists();
    uint32_t Id(const std::vector<std::string>& list);
    absl::Span<const std::string> operator[](uint32_t id) const {
      return values_[id];
    }

   private:
    absl::flat_hash_map<std::string, uint32_t> ids_;  // joined by '\x1f'
    std::deque<std::vector<std::string>> values_;
  };

  static constexpr int64_t kNone = INT64_MIN;
  struct Fact {
    std::string lead_id;
    int64_t routed_us = 0;
    int64_t respond_by_us = kNone;
    int64_t contacted_us = kNone;
    uint32_t owner = 0, team = 0, source = 0, ruleset = 0, rules = 0,
             contacted_by = 0, priority = 0, escalation = 0;
    uint32_t had_by = 0, missed_by = 0;
    int32_t escalation_step = 0;
    int16_t choice = 0;
    uint8_t owner_kind = 0, status = 0, sla_status = 0, clock_status = 0;
    uint8_t outcomes = 0;  // bits: qualified, opportunity, won, lost
    bool dead = false;     // replaced by a later fact, deleted, or rerouted
                           // before the span (older ones are just skipped)
  };

  // The index holds positions in facts_, hashed by their lead id.
  struct SlotHash {
    using is_transparent = void;
    const std::vector<Fact>* facts;
    size_t operator()(uint32_t i) const;
    size_t operator()(absl::string_view id) const;
  };
  struct SlotEq {
    using is_transparent = void;
    const std::vector<Fact>* facts;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, absl::string_view id) const;
    bool operator()(absl::string_view id, uint32_t a) const {
      return (*this)(a, id);
    }
  };

  absl::Status Load(StateReader& store, absl::Time now);
  absl::Status Follow(StateReader& store);
  void Put(const Assignment& a);
  void Remove(absl::string_view lead_id);
  // Drops dead facts and those older than the span, and sorts by routing
  // time, when any is out of order or enough are dead or old.
  void Tidy();
  Fact FactOf(const Assignment& a);
  KpiLead LeadOf(const Fact& f) const;

  const absl::Duration span_;
  bool loaded_ = false;
  const StateReader* store_ = nullptr;
  absl::Time since_ = absl::InfiniteFuture();
  uint64_t cursor_ = 0;        // the last event id read
  uint64_t pruned_leads_ = 0;  // PrunedAssignments at the last load
  std::vector<Fact> facts_;    // by routing time, unless !sorted_
  bool sorted_ = true;
  size_t dead_ = 0;
  absl::flat_hash_set<uint32_t, SlotHash, SlotEq> index_{0, SlotHash{&facts_},
                                                         SlotEq{&facts_}};
  Names names_;
  Lists lists_;
  int64_t loads_ = 0;
  int64_t rereads_ = 0;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_KPI_FACTS_H_
