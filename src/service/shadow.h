// Shadow: a candidate ruleset decided beside the live one for every lead
// the server routes, to see what it would change on real traffic before it
// goes live. It never touches an answer or the state: a routed lead is
// offered after its live decision (a copy of its attributes as read, its
// received time, what the live rules chose), and the shadow's own thread
// decides it with the candidate through a runtime::Replayer — so its counts
// are exactly what `leadroute replay` reports for the same leads — and
// counts where the two disagree, by output, stage and owner transition.
// Each disagreement is also a decision-log line of its own, naming the
// live decision (`shadow_of`).
//
// Packing a lead and Submit() are the only calls on the routing path: a
// call packs its leads into one buffer and submits them once into a
// bounded queue; the thread takes what has queued every 20 ms (or sooner
// when thousands wait), never woken per lead. The thread uses at most
// `cpu_share` of a core: under more traffic than that pays for (RouteBatch
// at a million leads a second), the queue fills and further leads are
// counted as dropped, never waited for, so a shadow cannot take routing's
// CPU or slow it down; its counts then cover the leads it compared.
//
// Thread-safe. Locks: mu_ (the queue, the candidate) and tally_mu_ (the
// Replayer), never both at once; set_mu_ makes Set calls one at a time.
#ifndef LEADROUTE_SRC_SERVICE_SHADOW_H_
#define LEADROUTE_SRC_SERVICE_SHADOW_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "runtime/replay.h"
#include "src/service/decision_log.h"
#include "src/wire/lead_reader.h"

namespace leadroute {

struct Ruleset;

class Shadow {
 public:
  struct Options {
    int64_t max_pending = 100000;  // leads queued for the shadow at most
    DecisionLog* log = nullptr;    // disagreements are written here too
    // The share of one core the shadow's thread may use: after deciding
    // for a while it sleeps long enough to stay under it, and leads
    // beyond max_pending are dropped meanwhile.
    double cpu_share = 0.25;
  };
  explicit Shadow(Options options);
  // Decides what was offered, then stops.
  ~Shadow();
  Shadow(const Shadow&) = delete;
  Shadow& operator=(const Shadow&) = delete;

  // Makes `candidate` (a compiled ruleset) the shadow, with fresh counts;
  // null stops shadowing. Leads offered before are decided first.
  void Set(std::shared_ptr<const Ruleset> candidate, absl::Time now);
  // The shadow now, or null.
  std::shared_ptr<const Ruleset> candidate() const;
  // Whether a shadow is set: callers copy a lead only then.
  bool active() const { return active_.load(std::memory_order_relaxed); }

  // A call's leads for the shadow, packed without a lock and handed over
  // at once (Submit), so a RouteBatch takes the shadow's lock once.
  struct Pending {
    std::string bytes;
    int64_t leads = 0;
  };
  // Packs a lead as read (its attributes before binding takes the values:
  // every attribute sent, so a candidate may read one the live schema
  // lacks), received at `received_at`; returns the mark Unpack rolls back
  // to. Then PackDecision once the live decision is made, or Unpack.
  size_t PackLead(Pending* pending, absl::string_view lead_id,
                  absl::Time received_at,
                  const std::vector<LeadReader::Attribute>& attributes) const;
  // The live rules decided the lead PackLead packed last as `decision`.
  void PackDecision(Pending* pending, absl::string_view decision_id,
                    const runtime::Decision& decision) const;
  // Forgets the lead packed from `mark` on (rejected, or a repeat).
  static void Unpack(Pending* pending, size_t mark) {
    pending->bytes.resize(mark);
  }
  // Queues the call's leads (counted as dropped past max_pending).
  void Submit(Pending* pending);

  struct Status {
    std::shared_ptr<const Ruleset> candidate;  // null: no shadow
    absl::Time since;                          // when it was set
    int64_t offered = 0;                       // leads offered since
    int64_t dropped = 0;  // ... not decided: the queue was full
    // Counts of the leads decided so far (examples left out).
    runtime::ReplayReport report;
  };
  Status status() const;

  // Blocks until every lead offered so far is decided (tests, promotion).
  void Flush();

 private:
  void Loop();

  const Options options_;
  std::atomic<bool> active_{false};
  std::mutex set_mu_;  // one Set at a time, outside the other two

  mutable std::mutex mu_;
  std::condition_variable wake_;  // a backlog, or stop_
  std::condition_variable idle_;  // a batch was decided
  std::string queue_;             // leads offered, packed (shadow.cc)
  int64_t pending_ = 0;           // ... how many
  std::shared_ptr<const Ruleset> candidate_;
  absl::Time since_;
  int64_t offered_ = 0, dropped_ = 0;
  uint64_t queued_ = 0, decided_ = 0;  // ever, for Flush
  uint64_t generation_ = 0;            // Set() calls, so stale items skip
  bool stop_ = false;

  mutable std::mutex tally_mu_;
  std::unique_ptr<runtime::Replayer> replayer_;  // null: no shadow
  std::shared_ptr<const Ruleset> replayer_ruleset_;
  uint64_t replayer_generation_ = 0;
  std::thread thread_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_SHADOW_H_
